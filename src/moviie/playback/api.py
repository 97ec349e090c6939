from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from moviie.auth.dependencies import ApiCaller, require_scope
from moviie.db.models import SigningKey
from moviie.http.pagination import Page, Pagination, page_of
from moviie.http.routing import moviie_router
from moviie.http.session import Session
from moviie.playback import signing_keys
from moviie.playback.schemas import SigningKeyCreated, SigningKeyOut

router = moviie_router(tags=["Signing keys"])
KeysWriter = Annotated[ApiCaller, Depends(require_scope("keys:write"))]
SigningKeyId = Annotated[str, Path(max_length=64, examples=["sk_01jeq3v5m3f6a9b1c2d3e4f5g6"])]


def _out(row: SigningKey) -> SigningKeyOut:
    return SigningKeyOut(id=row.id, created_at=row.created_at)


@router.post(
    "/v1/signing-keys", status_code=201, summary="Create a signing key for playback tokens"
)
async def create_signing_key(session: Session, caller: KeysWriter) -> SigningKeyCreated:
    created = await signing_keys.create_signing_key(session, caller.account_id)
    return SigningKeyCreated(
        id=created.row.id, created_at=created.row.created_at, private_key=created.private_pem
    )


@router.get("/v1/signing-keys", summary="List signing keys")
async def list_signing_keys(
    session: Session, caller: KeysWriter, page: Pagination
) -> Page[SigningKeyOut]:
    rows, has_more = await signing_keys.list_signing_keys(
        session, caller.account_id, limit=page.limit, after_id=page.after_id
    )
    return page_of([_out(r) for r in rows], has_more, rows[-1].id if rows else None)


@router.get("/v1/signing-keys/{key_id}", summary="Get a signing key")
async def get_signing_key(
    key_id: SigningKeyId, session: Session, caller: KeysWriter
) -> SigningKeyOut:
    return _out(await signing_keys.get_signing_key(session, caller.account_id, key_id))


@router.delete("/v1/signing-keys/{key_id}", status_code=204, summary="Delete a signing key")
async def delete_signing_key(key_id: SigningKeyId, session: Session, caller: KeysWriter) -> None:
    await signing_keys.delete_signing_key(session, caller.account_id, key_id)
