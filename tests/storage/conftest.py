"""Storage back ends for the shared suite: a temp directory, and moto in server mode on loopback."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from moviie.storage.base import Storage
from moviie.storage.local import LocalStorage
from moviie.storage.s3 import S3Storage
from tests.conftest import BUCKET, REGION


@dataclass
class Backend:
    name: str
    storage: Storage
    root: Path | None = None  # local only
    s3: Any = None  # boto3 client, S3 only
    prefix: str = ""  # S3 only: this test's prefix in the bucket

    def leftovers(self) -> list[str]:
        """Temp files (local) or unfinished multipart uploads (S3) left behind."""
        if self.root is not None:
            return [p.name for p in (self.root / ".tmp").iterdir()]
        uploads = self.s3.list_multipart_uploads(Bucket=BUCKET, Prefix=self.prefix)
        return [u["Key"] for u in uploads.get("Uploads", [])]


@pytest.fixture(params=["local", "s3"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "local":
        root = tmp_path / "media"
        backend = Backend("local", LocalStorage(root), root=root)
    else:
        endpoint: str = request.getfixturevalue("moto_endpoint")
        request.getfixturevalue("aws_env")
        prefix = f"t-{uuid.uuid4().hex[:12]}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
        storage = S3Storage(BUCKET, prefix, endpoint_url=endpoint)
        backend = Backend("s3", storage, s3=client, prefix=prefix + "/")
    yield backend
    await backend.storage.close()


@pytest.fixture
def storage(backend: Backend) -> Storage:
    return backend.storage
