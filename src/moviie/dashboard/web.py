"""What every dashboard page shares: the templates, who is signed in (else to the sign-in
page), the CSRF check on every change, and the page's view of a service's refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from moviie.dashboard.sessions import COOKIE, SignedIn, csrf_ok, signed_in
from moviie.db.types import utcnow
from moviie.errors import MoviieError
from moviie.http.session import get_database

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; frame-src 'self'; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfFailed(Exception):
    pass


async def browser(request: Request) -> SignedIn:
    """The signed-in account, or off to the sign-in page."""
    async with get_database(request).transaction(write=False) as session:
        found = await signed_in(session, request.cookies.get(COOKIE), utcnow())
    if found is None:
        raise SignInRequired(request.url.path)
    return found


Browser = Annotated[SignedIn, Depends(browser)]


async def checked(request: Request, who: Browser) -> SignedIn:
    """A change: it must carry the session's CSRF token (a header from htmx and scripts, a
    form field from plain forms)."""
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = str((await request.form()).get("csrf", "")) or None
    if not csrf_ok(who.csrf_token, given):
        raise CsrfFailed()
    return who


Changer = Annotated[SignedIn, Depends(checked)]


def refusal(refused: ValidationError | MoviieError) -> str:
    """What a page says when a service (or its request model) refused a form."""
    if isinstance(refused, ValidationError):
        return "; ".join(str(e["msg"]) for e in refused.errors())
    return refused.detail


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status, headers=security_headers())


def security_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers=security_headers())


def install_handlers(app: FastAPI) -> None:
    async def to_sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        target = "/dashboard/sign-in?next=" + quote(exc.next_path, safe="/")
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return redirect(target)

    async def refused(request: Request, exc: Exception) -> Response:
        return page(
            request,
            "error.html",
            status=403,
            message="This form has expired: reload the page and try again.",
        )

    app.add_exception_handler(SignInRequired, to_sign_in)
    app.add_exception_handler(CsrfFailed, refused)
