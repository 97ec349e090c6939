"""Playback tokens for private videos: RS256 JWTs that the customer's backend signs with one of
its signing keys (`kid`), for one video (`sub`), audience `playback`, expiring within 24 h."""

from __future__ import annotations

import time

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.errors import MoviieError
from moviie.playback.signing_keys import find_signing_key

AUDIENCE = "playback"
MAX_LIFETIME_S = 24 * 3600
LEEWAY_S = 30  # clock skew between the customer's servers and ours


class PlaybackForbidden(MoviieError):
    status = 403
    code = "video_private"
    title = "This video is private: a valid playback token is needed"


async def verify_playback_token(
    session: AsyncSession, account_id: str, video_id: str, token: str | None
) -> None:
    """Return if `token` grants playback of `video_id`; raise 403 otherwise."""
    if not token:
        raise PlaybackForbidden("Add `?token=<JWT>` signed with one of your signing keys.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise PlaybackForbidden("The token is not a JWT.") from exc
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str) or len(kid) > 64:
        raise PlaybackForbidden("Sign the token with RS256 and set `kid` to a signing key id.")
    key = await find_signing_key(session, account_id, kid)
    if key is None:
        raise PlaybackForbidden("The token's `kid` is not a signing key of this account.")
    try:
        claims = jwt.decode(
            token,
            key.public_key_pem,
            algorithms=["RS256"],  # never the header's choice: no `none`, no HS256 with the PEM
            audience=AUDIENCE,
            leeway=LEEWAY_S,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise PlaybackForbidden("The token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise PlaybackForbidden(f"The token is not valid: {exc}.") from exc
    if claims["sub"] != video_id:
        raise PlaybackForbidden("The token is for another video.")
    if claims["exp"] > time.time() + MAX_LIFETIME_S + LEEWAY_S:
        raise PlaybackForbidden("Tokens may live at most 24 hours.")
