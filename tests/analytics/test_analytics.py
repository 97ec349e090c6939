"""Player events in, audience figures out: a batch with the publishable key is checked event by
event (what fails is dropped and counted), the rollup turns viewings into the video's figures
and the account's overview, and what no viewer may see stays out."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from fastapi import FastAPI
from sqlalchemy import insert, select

from moviie.accounts.service import NewAccount
from moviie.analytics.beacon import beacon_for
from moviie.analytics.rollup import purge_raw_events, roll_up
from moviie.db import migrate
from moviie.db.engine import Database
from moviie.db.models import AnalyticsEvent, AnalyticsRollup, AnalyticsView
from moviie.db.types import utcnow
from tests.conftest import add_ready_video, bearer, make_account, within_one_budget_window

VIEWER_A, VIEWER_B = "vw_aaaaaaaaaaaa", "vw_bbbbbbbbbbbb"


def _view(
    video_id: str, view_id: str, steps: list[tuple[str, float, float | None]]
) -> list[dict[str, Any]]:
    return [
        {"type": kind, "video_id": video_id, "view_id": view_id, "seq": n, "position_s": at}
        | ({"from_s": origin} if origin is not None else {})
        | ({"rendition": "240p"} if kind == "heartbeat" else {})
        for n, (kind, at, origin) in enumerate(steps)
    ]


async def _post(client: httpx.AsyncClient, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return await client.post("/v1/analytics/events", json=body, **kwargs)


async def test_viewings_become_the_videos_figures(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    video = await add_ready_video(db, account.account.id, duration_s=100.0)
    whole = _view(video.id, "vv_whole_view1", [("view_start", 0, None)] + [
        ("heartbeat", float(t), None) for t in range(10, 101, 10)
    ] + [("view_end", 100, None)])  # fmt: skip
    skipping = _view(video.id, "vv_skip_view01", [
        ("view_start", 0, None), ("heartbeat", 10, None), ("seek", 50, 10), ("heartbeat", 60, None),
        ("view_end", 62, None),
    ])  # fmt: skip
    pub = account.publishable_key
    first = await _post(client, {"key": pub, "viewer_id": VIEWER_A, "events": whole})
    assert first.status_code == 202, first.text
    assert first.json() == {"accepted": 12, "dropped": {}}
    assert first.headers["access-control-allow-origin"] == "*"
    # sendBeacon's kind of request: text/plain, the key in the body.
    beaconed = await client.post(
        "/v1/analytics/events",
        content=json.dumps({"key": pub, "viewer_id": VIEWER_B, "events": skipping}),
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
    assert beaconed.json()["accepted"] == 5
    assert await roll_up(db, utcnow(), settle_s=0) >= 17  # and what other tests left

    key = account.private_key
    since = (utcnow() - timedelta(hours=2)).isoformat()
    figures = (
        await client.get(
            f"/v1/analytics/videos/{video.id}",
            params={"interval": "hour", "from": since},
            headers=bearer(key),
        )
    ).json()
    assert "totals" in figures, figures
    assert figures["totals"] == {
        "views": 2, "unique_viewers": 2, "watch_time_s": 100 + 22, "completion_rate": 0.61,
    }  # fmt: skip
    assert len(figures["series"]) == 3
    assert sum(p["views"] for p in figures["series"]) == 2
    retention = figures["retention"]
    assert len(retention) == 100
    assert retention[5] == 1.0  # both saw the start
    assert retention[30] == 0.5  # one skipped it
    assert retention[55] == 1.0
    assert retention[90] == 0.5
    assert figures["renditions"] == {"240p": 1.0}

    overview = (await client.get("/v1/analytics/overview", headers=bearer(key))).json()
    assert overview["totals"]["views"] == 2
    assert [v["video_id"] for v in overview["top_videos"]] == [video.id]
    assert overview["dropped"] == {}

    # Another viewing later: only the views it touches are read again.
    again = _view(video.id, "vv_third_view1", [("view_start", 0, None), ("heartbeat", 10, None)])
    await _post(client, {"key": pub, "viewer_id": VIEWER_A, "events": again})
    assert await roll_up(db, utcnow(), settle_s=0) >= 2
    totals = (await client.get(f"/v1/analytics/videos/{video.id}", headers=bearer(key))).json()[
        "totals"
    ]
    assert (totals["views"], totals["unique_viewers"]) == (3, 2)


async def test_what_fails_a_check_is_dropped_and_counted(
    app: FastAPI, client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    mine = await add_ready_video(db, account.account.id, duration_s=30.0)
    private = await add_ready_video(db, account.account.id, privacy="private")
    other = await make_account(db)
    theirs = await add_ready_video(db, other.account.id)
    start = lambda video_id, view="vv_checks_0001", **more: {  # noqa: E731
        "type": "view_start", "video_id": video_id, "view_id": view, "seq": 0, "position_s": 0,
    } | more  # fmt: skip
    events = [
        start(mine.id),
        start("vid_nope"),
        start(theirs.id),  # another account's: as unknown as a made-up id
        start(private.id),  # a private video without its token
        start(mine.id, "vv_checks_0002", position_s=31 + 5),  # past the end
        start(mine.id, "vv_checks_0003", position_s=-1),
        start(mine.id, "vv_checks_0004", type="seek"),  # a seek without its origin
    ]
    answer = await _post(
        client, {"viewer_id": VIEWER_A, "events": events}, headers=bearer(account.publishable_key)
    )
    assert answer.status_code == 202, answer.text
    assert answer.json() == {
        "accepted": 1,
        "dropped": {"unknown_video": 2, "video_private": 1, "bad_position": 2, "bad_event": 1},
    }

    signing = (await client.post("/v1/signing-keys", headers=bearer(account.private_key))).json()
    token = jwt.encode(
        {"sub": private.id, "aud": "playback", "exp": int(time.time()) + 600},
        signing["private_key"], algorithm="RS256", headers={"kid": signing["id"]},
    )  # fmt: skip
    granted = await _post(
        client,
        {
            "key": account.publishable_key,
            "viewer_id": VIEWER_A,
            "events": [start(private.id, token=token)],
        },
    )
    assert granted.json() == {"accepted": 1, "dropped": {}}

    # The embed's beacon stands for a key, for its own video only.
    beacon = beacon_for(app.state.uploads.secret, mine.id)
    beaconed = await _post(client, {"viewer_id": VIEWER_B, "events": [
        start(mine.id, "vv_beacon_0001", beacon=beacon),
        start(private.id, "vv_beacon_0002", beacon=beacon),
    ]})  # fmt: skip
    assert beaconed.json() == {"accepted": 1, "dropped": {"bad_beacon": 1}}

    overview = (
        await client.get("/v1/analytics/overview", headers=bearer(account.private_key))
    ).json()
    # The key's account's drops (its players sent them); a wrong beacon is nobody's doing.
    assert overview["dropped"] == {
        "unknown_video": 2,
        "video_private": 1,
        "bad_position": 2,
        "bad_event": 1,
    }


async def test_a_flooding_viewer_is_dropped_not_refused(
    app: FastAPI, client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    app.state.settings.analytics_viewer_batches_per_minute = 3
    video = await add_ready_video(db, account.account.id)
    body = {"key": account.publishable_key, "viewer_id": "vw_flooding_01", "events": _view(
        video.id, "vv_flood_00001", [("view_start", 0, None)])}  # fmt: skip
    await within_one_budget_window()
    answers = [(await _post(client, body)).json() for _ in range(8)]
    assert [a["accepted"] for a in answers] == [1, 1, 1, 0, 0, 0, 0, 0]
    assert answers[-1] == {"accepted": 0, "dropped": {"rate_limited": 1}}


async def test_beacons_are_counted_per_address(
    app: FastAPI, client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    app.state.settings.analytics_events_per_minute = 2
    video = await add_ready_video(db, account.account.id)
    beacon = beacon_for(app.state.uploads.secret, video.id)
    events = [
        e | {"beacon": beacon} for e in _view(video.id, "vv_beacons0001", [("view_start", 0, None)])
    ]
    await within_one_budget_window()
    statuses = [
        (await _post(client, {"viewer_id": f"vw_beacons{n:04d}", "events": events})).status_code
        for n in range(3)
    ]
    assert statuses == [202, 202, 429]


async def test_bad_requests_and_what_keys_may_do(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    video = await add_ready_video(db, account.account.id)
    one = _view(video.id, "vv_keys_000001", [("view_start", 0, None)])
    anonymous = await _post(client, {"viewer_id": VIEWER_A, "events": one})
    assert anonymous.status_code == 401
    assert anonymous.headers["access-control-allow-origin"] == "*"  # readable by any page
    wrong = await _post(client, {"key": "mvi_pub_nope", "viewer_id": VIEWER_A, "events": one})
    assert wrong.status_code == 401
    broken = await client.post(
        "/v1/analytics/events", content=b"{not json", headers={"Content-Type": "text/plain"}
    )
    assert broken.status_code == 400
    assert broken.headers["content-type"].startswith("application/problem+json")
    empty = await _post(
        client, {"key": account.publishable_key, "viewer_id": VIEWER_A, "events": []}
    )
    assert empty.status_code == 422
    preflight = await client.options("/v1/analytics/events")
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    # Publishable keys post events but read no figures; another account's video is 404.
    pub = bearer(account.publishable_key)
    assert (await client.get("/v1/analytics/overview", headers=pub)).status_code == 403
    other = await make_account(db)
    theirs = await client.get(f"/v1/analytics/videos/{video.id}", headers=bearer(other.private_key))
    assert theirs.status_code == 404
    too_long = await client.get(
        f"/v1/analytics/videos/{video.id}?interval=hour&from=2020-01-01T00:00:00Z",
        headers=bearer(account.private_key),
    )
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "range_too_long"
    naive = (datetime.now(UTC) - timedelta(days=3)).replace(tzinfo=None).isoformat()
    zoneless = await client.get(
        "/v1/analytics/overview", params={"from": naive}, headers=bearer(account.private_key)
    )
    assert zoneless.status_code == 200, zoneless.text
    for query in ({"to": "0001-01-02T00:00:00Z"}, {"from": "9999-12-31T23:00:00-05:00"}):
        extreme = await client.get(
            "/v1/analytics/overview", params=query, headers=bearer(account.private_key)
        )
        assert extreme.status_code == 422, query


async def test_raw_events_go_after_their_retention_once_read(
    account: NewAccount, db: Database
) -> None:
    video = await add_ready_video(db, account.account.id, duration_s=60.0)
    now = utcnow()
    old = now - timedelta(days=40)

    def row(view: str, seq: int, at: datetime, position: float) -> dict[str, Any]:
        return {
            "account_id": account.account.id, "video_id": video.id, "view_id": view,
            "viewer_id": VIEWER_A, "type": "heartbeat" if seq else "view_start", "seq": seq,
            "position_s": position, "from_s": None, "rendition": None, "received_at": at,
        }  # fmt: skip

    async with db.transaction() as session:
        await session.execute(
            insert(AnalyticsEvent),
            [row("vv_old_view001", 0, old, 0), row("vv_old_view001", 1, old, 10)],
        )
    await roll_up(db, now, settle_s=0)
    async with db.transaction() as session:  # come in late, unread: kept until read
        await session.execute(insert(AnalyticsEvent), [row("vv_late_view01", 0, old, 0)])
    assert await purge_raw_events(db, now, keep_days=30) >= 2  # and what other tests left
    async with db.transaction(write=False) as session:
        left = (
            await session.scalars(
                select(AnalyticsEvent.view_id).where(AnalyticsEvent.video_id == video.id)
            )
        ).all()
        rollups = (
            await session.scalars(
                select(AnalyticsRollup).where(
                    AnalyticsRollup.video_id == video.id, AnalyticsRollup.period == "day"
                )
            )
        ).all()
    assert left == ["vv_late_view01"]
    assert [(r.views, r.watch_time_s) for r in rollups] == [(1, 10.0)]  # the rollup stays


async def test_the_rollup_waits_for_an_unsettled_event_and_never_skips_it(
    account: NewAccount, db: Database
) -> None:
    """An event whose insert commits after a later one's: the cursor stops before it."""
    video = await add_ready_video(db, account.account.id, duration_s=60.0)
    now = utcnow()

    def row(view: str, at: datetime) -> dict[str, Any]:
        return {
            "account_id": account.account.id, "video_id": video.id, "view_id": view,
            "viewer_id": VIEWER_A, "type": "view_start", "seq": 0, "position_s": 0.0,
            "from_s": None, "rendition": None, "received_at": at,
        }  # fmt: skip

    await roll_up(db, now, settle_s=0)  # whatever other tests left
    async with db.transaction() as session:
        await session.execute(
            insert(AnalyticsEvent), [row("vv_late_commit1", now - timedelta(seconds=5))]
        )
        await session.execute(
            insert(AnalyticsEvent), [row("vv_early_commit", now - timedelta(seconds=11))]
        )
    assert await roll_up(db, now, settle_s=10) == 0  # the first unread is not settled: wait
    assert await roll_up(db, now + timedelta(seconds=6), settle_s=10) == 2
    async with db.transaction(write=False) as session:
        views = (
            await session.scalars(
                select(AnalyticsView.view_id).where(AnalyticsView.video_id == video.id)
            )
        ).all()
    assert sorted(views) == ["vv_early_commit", "vv_late_commit1"]


async def test_a_batch_sent_twice_counts_once(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    video = await add_ready_video(db, account.account.id, duration_s=60.0)
    events = _view(video.id, "vv_twice_00001", [("view_start", 0, None), ("heartbeat", 10, None)])
    body = {"key": account.publishable_key, "viewer_id": VIEWER_A, "events": events}
    for _ in range(2):
        assert (await _post(client, body)).status_code == 202
    async with db.transaction(write=False) as session:
        stored = (
            await session.scalars(
                select(AnalyticsEvent.seq).where(AnalyticsEvent.video_id == video.id)
            )
        ).all()
    assert sorted(stored) == [0, 1]
    flood = _view(video.id, "vv_seq_000001", [("heartbeat", 1, None)])
    flood[0]["seq"] = 10_000  # far past what a 60 s video's player sends
    answer = await _post(
        client, {"key": account.publishable_key, "viewer_id": VIEWER_B, "events": flood}
    )
    assert answer.json()["dropped"] == {"bad_event": 1}


async def test_event_ids_are_never_reused_after_a_purge(tmp_path: Path) -> None:
    """SQLite reuses rowids once a table is empty (PostgreSQL's identity never does): the
    events table says AUTOINCREMENT, so the rollup's cursor stays meaningful after a purge."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    db = Database(url)
    try:
        account = await make_account(db)
        video = await add_ready_video(db, account.account.id, duration_s=60.0)
        row = {
            "account_id": account.account.id, "video_id": video.id, "view_id": "vv_reuse_00001",
            "viewer_id": VIEWER_A, "type": "view_start", "seq": 0, "position_s": 0.0,
            "from_s": None, "rendition": None, "received_at": utcnow() - timedelta(days=40),
        }  # fmt: skip
        returning = insert(AnalyticsEvent).returning(AnalyticsEvent.id)
        async with db.transaction() as session:
            first = (await session.execute(returning, [row])).scalar_one()
        await roll_up(db, utcnow(), settle_s=0)
        assert await purge_raw_events(db, utcnow(), keep_days=30) == 1  # the table is empty
        async with db.transaction() as session:
            again = (
                await session.execute(returning, [row | {"view_id": "vv_reuse_2"}])
            ).scalar_one()
    finally:
        await db.dispose()
    assert again > first
