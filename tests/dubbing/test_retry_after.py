"""Retry-After as providers send it: delta-seconds or an HTTP date."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from moviie.providers.http import retry_after_s


@pytest.mark.parametrize(
    ("value", "expected"), [("7", 7.0), ("0", 0.0), ("", None), ("soon", None)]
)
def test_seconds_and_nonsense(value: str, expected: float | None) -> None:
    headers = {"Retry-After": value} if value else {}
    assert retry_after_s(httpx.Response(429, headers=headers)) == expected


def test_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    wait = retry_after_s(httpx.Response(503, headers={"Retry-After": when}))
    assert wait is not None
    assert 28 <= wait <= 31
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": past})) == 0.0
