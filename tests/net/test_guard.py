from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from moviie.net.guard import guarded_client, is_public_ip


def test_public_and_non_public_addresses() -> None:
    for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"):
        assert is_public_ip(address), address
    for address in (
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ):
        assert not is_public_ip(address), address


async def test_the_guard_refuses_at_connect_time(file_server: tuple[str, Path]) -> None:
    base_url, served = file_server
    (served / "x").write_bytes(b"hello")
    # a name resolving to loopback passes no string check: the connection itself is refused
    url = base_url.replace("127.0.0.1", "localhost") + "/x"
    async with guarded_client(allow_private=False, timeout=5) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url)
    async with guarded_client(allow_private=True, timeout=5) as client:
        assert (await client.get(url)).content == b"hello"


async def test_the_guard_follows_no_redirects(file_server: tuple[str, Path]) -> None:
    base_url, served = file_server
    (served / "dir").mkdir()
    async with guarded_client(allow_private=True, timeout=5) as client:
        response = await client.get(f"{base_url}/dir")  # the server redirects to /dir/
    assert response.status_code == 301
