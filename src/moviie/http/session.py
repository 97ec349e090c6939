"""The request's database session: the transaction commits when the route returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.engine import Database

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    db = get_database(request)
    async with db.transaction(write=request.method not in _READ_METHODS) as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is never a 2xx.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
