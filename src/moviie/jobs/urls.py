from __future__ import annotations

from sqlalchemy.engine import make_url


def system_database_url(database_url: str) -> str:
    """The engine keeps its tables in the application's database (schema `dbos` on PostgreSQL),
    so a job is enqueued in the same transaction as the rows it concerns."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite").render_as_string(hide_password=False)
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
