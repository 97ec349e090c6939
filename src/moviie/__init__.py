"""Moviie: a self-hostable video API."""

__version__ = "0.1.0"
