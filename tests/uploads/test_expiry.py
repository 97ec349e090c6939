from __future__ import annotations

from datetime import timedelta

import httpx
from dbos import DBOS
from fastapi import FastAPI
from sqlalchemy import update

from moviie.accounts.service import NewAccount
from moviie.db.models import Upload
from moviie.db.types import utcnow
from moviie.uploads.tasks import expire_uploads
from tests.conftest import bearer


async def test_an_expired_reserved_upload_fails_its_video_and_drops_its_bytes(
    app_with_workers: FastAPI, account: NewAccount
) -> None:
    transport = httpx.ASGITransport(app=app_with_workers)
    async with httpx.AsyncClient(transport=transport, base_url="http://moviie.test") as client:
        headers = bearer(account.private_key)
        reserved = (
            await client.post(
                "/v1/videos/uploads/reserve", json={"size_bytes": 1000}, headers=headers
            )
        ).json()
        upload_url = httpx.URL(reserved["upload"]["tus_url"])
        patch = await client.patch(
            upload_url.raw_path.decode(),
            content=b"x" * 400,
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert patch.status_code == 204, patch.text
        staged = app_with_workers.state.uploads.staging.upload_path(reserved["upload"]["id"])
        assert staged.stat().st_size == 400
        untouched = (
            await client.post("/v1/videos/uploads/reserve", json={}, headers=headers)
        ).json()

        async with app_with_workers.state.db.transaction() as session:
            await session.execute(
                update(Upload)
                .where(Upload.id == reserved["upload"]["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        handle = await DBOS.start_workflow_async(expire_uploads)
        assert await handle.get_result() >= 1

        video = (await client.get(f"/v1/videos/{reserved['video']['id']}", headers=headers)).json()
        assert video["status"] == "failed"
        assert video["error"]["code"] == "upload_expired"
        assert not staged.exists()
        still = (await client.get(f"/v1/videos/{untouched['video']['id']}", headers=headers)).json()
        assert still["status"] == "waiting_upload"
