"""Outbound requests to addresses users give us (webhooks, URL imports) reach only the public
internet: every resolved address is checked at connect time, after DNS, so a name that
resolves to a private address (or re-resolves to one later) is refused."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from moviie.errors import MoviieError


class BlockedTarget(MoviieError):
    status = 422
    code = "target_not_allowed"
    title = "That address is not reachable from Moviie"


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_ip(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    # is_global excludes private, loopback, link-local, shared (100.64/10), reserved,
    # site-local and documentation ranges; multicast is refused on its own.
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local  # fec0::/10
    return ip.is_global and not ip.is_multicast and not site_local


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_url_target(url: str, *, allow_private: bool) -> None:
    """Refuse at once a URL whose host is, or resolves to, a non-public address."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise BlockedTarget("Use an http(s) URL with a host name.")
    if allow_private:
        return
    try:
        addresses = await resolve(parsed.host, parsed.port or 443)
    except OSError as exc:
        raise BlockedTarget(f"{parsed.host} does not resolve.") from exc
    if not addresses or not all(is_public_ip(a) for a in addresses):
        raise BlockedTarget(f"{parsed.host} is not a public address.")


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, refuses non-public addresses, connects to the checked one."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port)
        allowed = [a for a in addresses if self._allow_private or is_public_ip(a)]
        if not allowed:
            raise httpcore.ConnectError(f"{host} resolves only to non-public addresses")
        return await self._inner.connect_tcp(
            allowed[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(*, allow_private: bool, timeout: float, **kwargs: Any) -> httpx.AsyncClient:
    """An httpx client that cannot reach private, loopback, link-local or metadata addresses
    (unless allowed), follows no redirects and uses no proxy from the environment."""
    transport = httpx.AsyncHTTPTransport(retries=0)
    # httpx offers no hook for the network backend; the pool's attribute is the documented seam
    # of httpcore's AsyncConnectionPool.
    transport._pool._network_backend = _GuardedBackend(allow_private)
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False, **kwargs
    )
