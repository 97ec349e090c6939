"""The server's own secret (`MOVIIE_SECRET_KEY`, else one generated into the data directory),
and keys derived from it for each purpose, so no two uses share a key."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from moviie.config import Settings


def load_server_secret(settings: Settings) -> bytes:
    """`MOVIIE_SECRET_KEY`, else a key generated once into the data directory (mode 0600). Set
    `MOVIIE_SECRET_KEY` when processes run on several machines: they must share it. Read once
    per process (every webhook attempt needs it; the file never changes once written)."""
    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    return _load(configured, str(Path(settings.data_dir).resolve()))


@functools.cache
def _load(configured: str | None, data_dir: str) -> bytes:
    if configured is not None:
        return configured.encode()
    path = Path(data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def derive_key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"moviie:{purpose}".encode(), hashlib.sha256).digest()


OPENED_CACHE_SIZE = 4096


class SecretBox:
    """Encrypts what must be read back (webhook signing secrets), authenticated (Fernet)."""

    def __init__(self, secret: bytes, purpose: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret, purpose)))
        # Webhook deliveries open the same few secrets thousands of times a minute.
        self._opened: dict[str, str] = {}

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        opened = self._opened.get(token)
        if opened is None:
            try:
                opened = self._fernet.decrypt(token.encode()).decode()
            except InvalidToken as exc:
                raise ValueError("sealed under another MOVIIE_SECRET_KEY") from exc
            if len(self._opened) < OPENED_CACHE_SIZE:
                self._opened[token] = opened
        return opened
