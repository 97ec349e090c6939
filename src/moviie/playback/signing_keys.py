"""Signing keys for private playback: Moviie generates the RSA pair, returns the private half
once, and keeps only the public half to verify tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.db.models import SigningKey
from moviie.db.pagination import keyset_page
from moviie.db.types import utcnow
from moviie.errors import NotFound
from moviie.ids import new_id


class SigningKeyNotFound(NotFound):
    code = "signing_key_not_found"


@dataclass(frozen=True)
class CreatedSigningKey:
    row: SigningKey
    private_pem: str


def _new_pair() -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


async def create_signing_key(session: AsyncSession, account_id: str) -> CreatedSigningKey:
    private_pem, public_pem = await asyncio.to_thread(_new_pair)  # ~100 ms of CPU
    row = SigningKey(
        id=new_id("sk"), account_id=account_id, public_key_pem=public_pem, created_at=utcnow()
    )
    session.add(row)
    await session.flush()
    return CreatedSigningKey(row=row, private_pem=private_pem)


async def find_signing_key(
    session: AsyncSession, account_id: str, key_id: str
) -> SigningKey | None:
    stmt = select(SigningKey).where(SigningKey.id == key_id, SigningKey.account_id == account_id)
    return (await session.scalars(stmt)).one_or_none()


async def get_signing_key(session: AsyncSession, account_id: str, key_id: str) -> SigningKey:
    row = await find_signing_key(session, account_id, key_id)
    if row is None:
        raise SigningKeyNotFound(f"No signing key {key_id}.")
    return row


async def list_signing_keys(
    session: AsyncSession, account_id: str, *, limit: int, after_id: str | None
) -> tuple[Sequence[SigningKey], bool]:
    stmt = select(SigningKey).where(SigningKey.account_id == account_id)
    return await keyset_page(session, stmt, SigningKey.id, limit=limit, after_id=after_id)


async def delete_signing_key(session: AsyncSession, account_id: str, key_id: str) -> None:
    """Tokens signed with it stop working at once."""
    await session.delete(await get_signing_key(session, account_id, key_id))
    await session.flush()
