"""Who is calling: the key behind `Authorization: Bearer`, its account, scopes and budget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from moviie.api_keys import service as api_keys
from moviie.api_keys.scopes import PRIVATE_SCOPES, PUBLISHABLE_SCOPES
from moviie.api_keys.tokens import parse_key
from moviie.auth.last_used import LastUsedRecorder
from moviie.config import Settings
from moviie.db.models import Account
from moviie.db.types import utcnow
from moviie.errors import InsufficientScope, Unauthenticated
from moviie.http.ratelimit import Budget, RateLimiter
from moviie.http.session import get_database

bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="mvi_live_... or mvi_pub_...",
    description="A private key (`mvi_live_...`), or a publishable key (`mvi_pub_...`) to play.",
)


@dataclass(frozen=True)
class ApiCaller:
    account: Account
    key_id: str
    key_type: str
    scopes: frozenset[str]

    @property
    def account_id(self) -> str:
        return self.account.id


async def _authenticate(
    request: Request,
    response: Response,
    credentials: HTTPAuthorizationCredentials | None,
    budgets: tuple[Budget, ...],
) -> ApiCaller:
    if credentials is None:
        raise Unauthenticated("Send your API key as `Authorization: Bearer <key>`.")
    parsed = parse_key(credentials.credentials)
    if parsed is None:
        raise Unauthenticated("That is not a Moviie API key.")
    limiter: RateLimiter = request.app.state.limiter
    for budget in budgets:  # counted before the lookup, so floods never reach the database
        await limiter.hit(budget, parsed.selector)

    # Its own short read: the route's transaction (an upload may stream for minutes) is not held
    # open by authentication, and on SQLite no write lock is taken to read a key.
    async with get_database(request).transaction(write=False) as session:
        found = await api_keys.find_key(session, credentials.credentials)
    if found is None:
        raise Unauthenticated("This API key is unknown or revoked.")
    key, account = found
    if api_keys.last_used_is_stale(key, utcnow()):
        recorder: LastUsedRecorder = request.app.state.last_used
        recorder.record(key.id)
    granted = (
        PUBLISHABLE_SCOPES if key.type == "publishable" else tuple(key.scopes or PRIVATE_SCOPES)
    )
    return ApiCaller(account=account, key_id=key.id, key_type=key.type, scopes=frozenset(granted))


def require_scope(
    scope: str | None = None, *, ai: bool = False
) -> Callable[..., Awaitable[ApiCaller]]:
    """A dependency admitting private keys (holding `scope`, when given) or, for playback scopes,
    publishable keys. `ai=True` also charges the stricter AI generation budget."""

    async def dependency(
        request: Request,
        response: Response,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> ApiCaller:
        settings: Settings = request.app.state.settings
        budgets = [Budget("all", settings.rate_limit_per_minute)]
        if ai:
            budgets.append(Budget("ai", settings.ai_rate_limit_per_minute))
        caller = await _authenticate(request, response, credentials, tuple(budgets))
        if caller.key_type == "publishable":
            if scope not in PUBLISHABLE_SCOPES:
                raise InsufficientScope("Publishable keys only play videos; use a private key.")
        elif scope is not None and scope not in PUBLISHABLE_SCOPES and scope not in caller.scopes:
            raise InsufficientScope(f"This key lacks the `{scope}` scope.", scope=scope)
        return caller

    return dependency
