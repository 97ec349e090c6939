from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from moviie.accounts import service
from moviie.accounts.schemas import AccountOut
from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.http.routing import moviie_router
from moviie.http.session import Session

router = moviie_router(tags=["Account"])
Caller = Annotated[ApiCaller, Depends(require_scope())]


@router.get("/v1/me", summary="The account behind the key")
async def get_me(caller: Caller, session: Session) -> AccountOut:
    return await service.account_with_usage(session, caller.account)
