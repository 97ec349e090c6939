"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _with_driver(url: str, *, is_async: bool) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite" if is_async else "sqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database: {backend} (use sqlite:/// or postgresql://)")


def _prepare_sqlite_file(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We emit BEGIN ourselves (below) so writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes can fail with SQLITE_BUSY when another
        # writer committed in between; writers start IMMEDIATE and simply wait their turn.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_sync_db_engine(url: str, **kwargs: Any) -> Engine:
    sync_url = _with_driver(url, is_async=False)
    if sync_url.get_backend_name() == "sqlite":
        _prepare_sqlite_file(sync_url)
        engine = create_engine(sync_url, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(sync_url, pool_pre_ping=True, **kwargs)


def create_async_db_engine(url: str, **kwargs: Any) -> AsyncEngine:
    async_url = _with_driver(url, is_async=True)
    if async_url.get_backend_name() == "sqlite":
        _prepare_sqlite_file(async_url)
        engine = create_async_engine(async_url, pool_size=8, max_overflow=8, **kwargs)
        _configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(
        async_url, pool_size=10, max_overflow=10, pool_pre_ping=True, **kwargs
    )


class Database:
    """The application's engine and its two session factories (reading and writing)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_async_db_engine(url)
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    def session(self, *, write: bool = True) -> AsyncSession:
        session = (self._writer if write else self._reader)()
        session.info["writer"] = write
        return session

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends and rolls back when it raises."""
        async with self.session(write=write) as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
