"""Keyset pagination over time-ordered ids: newest first, stable under inserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


async def keyset_page(
    session: AsyncSession,
    stmt: Select[T],
    id_column: InstrumentedAttribute[Any],
    *,
    limit: int,
    after_id: str | None,
) -> tuple[Sequence[T], bool]:
    """One page of `stmt` ordered by id descending, starting after `after_id`; and has_more."""
    if after_id is not None:
        stmt = stmt.where(id_column < after_id)
    rows = (await session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1))).all()
    return rows[:limit], len(rows) > limit
