"""Base classes for the contract's Pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def storable_text_problem(value: Any) -> str | None:
    """Why some text inside `value` cannot be stored (a NUL byte, a lone surrogate), if it can't."""
    if isinstance(value, str):
        if "\x00" in value:
            return "text may not contain NUL characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text must be valid Unicode (no lone surrogates)"
        return None
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    for item in items:
        problem = storable_text_problem(item)
        if problem:
            return problem
    return None


class RequestModel(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not a silent no-op) and text no
    database can store."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        problem = storable_text_problem(data)
        if problem:
            raise ValueError(problem)
        return data
