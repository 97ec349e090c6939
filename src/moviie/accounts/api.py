from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from moviie.accounts import service
from moviie.accounts.schemas import AccountOut
from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.db.types import utcnow
from moviie.http.routing import moviie_router
from moviie.http.session import Session
from moviie.usage.repository import bandwidth_since, month_start

router = moviie_router(tags=["Account"])
Caller = Annotated[ApiCaller, Depends(require_scope())]


@router.get("/v1/me", summary="The account behind the key")
async def get_me(caller: Caller, session: Session) -> AccountOut:
    served = await bandwidth_since(session, caller.account_id, month_start(utcnow().date()))
    return service.account_view(caller.account, bandwidth_bytes_month=served)
