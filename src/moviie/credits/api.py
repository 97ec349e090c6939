from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.credits import service
from moviie.credits.schemas import LedgerEntryOut
from moviie.http.pagination import Page, Pagination, page_of
from moviie.http.routing import moviie_router
from moviie.http.session import Session

router = moviie_router(tags=["Credits"])
Reader = Annotated[ApiCaller, Depends(require_scope("videos:read"))]


@router.get("/v1/credits/ledger", summary="Every change to the credit balance, newest first")
async def list_ledger(session: Session, caller: Reader, page: Pagination) -> Page[LedgerEntryOut]:
    rows, has_more = await service.list_ledger(
        session, caller.account_id, limit=page.limit, after_id=page.after_id
    )
    return page_of([service.entry_view(e) for e in rows], has_more, rows[-1].id if rows else None)
