from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from moviie.api_keys import service
from moviie.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.http.pagination import Page, Pagination, page_of
from moviie.http.routing import moviie_router
from moviie.http.session import Session

router = moviie_router(tags=["API keys"])
KeysWriter = Annotated[ApiCaller, Depends(require_scope("keys:write"))]
KeyId = Annotated[str, Path(max_length=64, examples=["key_01jeq3v5m3f6a9b1c2d3e4f5g6"])]


@router.post("/v1/api-keys", status_code=201, summary="Create an API key")
async def create_api_key(body: ApiKeyCreate, session: Session, caller: KeysWriter) -> ApiKeyCreated:
    created = await service.create_key(
        session,
        caller.account_id,
        name=body.name,
        key_type=body.type,
        scopes=body.scopes,
        granted_by=caller.scopes,
    )
    return ApiKeyCreated(**service.key_view(created.row).model_dump(), key=created.key)


@router.get("/v1/api-keys", summary="List API keys")
async def list_api_keys(session: Session, caller: KeysWriter, page: Pagination) -> Page[ApiKeyOut]:
    rows, has_more = await service.list_keys(
        session, caller.account_id, limit=page.limit, after_id=page.after_id
    )
    return page_of([service.key_view(r) for r in rows], has_more, rows[-1].id if rows else None)


@router.delete("/v1/api-keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_api_key(key_id: KeyId, session: Session, caller: KeysWriter) -> None:
    await service.revoke_key(session, caller.account_id, key_id)
