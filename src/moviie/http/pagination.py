"""Cursor pagination: `?limit=&cursor=` in, `{data, has_more, next_cursor}` out."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from moviie.errors import InvalidCursor

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidCursor(
            "Pass back the next_cursor of a previous page.", param="cursor"
        ) from exc
    if not isinstance(after, str) or not 0 < len(after) <= 64:
        raise InvalidCursor("Pass back the next_cursor of a previous page.", param="cursor")
    return after


@dataclass(frozen=True)
class PageParams:
    limit: int
    after_id: str | None


def _page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page (1..100).")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=256, description="`next_cursor` of the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after_id=decode_cursor(cursor) if cursor else None)


Pagination = Annotated[PageParams, Depends(_page_params)]


def page_of(items: Sequence[T], has_more: bool, last_id: str | None) -> Page[T]:
    return Page[T](
        data=list(items),
        has_more=has_more,
        next_cursor=encode_cursor(last_id) if has_more and last_id else None,
    )
