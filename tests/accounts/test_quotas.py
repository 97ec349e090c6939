"""Plans from a file of one's own, the trial's end, and the quota thresholds: storage and
bandwidth each tell `*.threshold` once per crossing of 80% and 100% (bandwidth once a month,
also when two processes count at once); a plan may stop media past its month's bandwidth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select, update

from moviie.accounts.quotas import release_storage, reserve_storage
from moviie.app import create_app
from moviie.db.engine import Database
from moviie.db.models import Account, Event
from moviie.db.types import utcnow
from moviie.plans.catalog import GIB, PlansFileInvalid, load_plans
from moviie.usage.meter import BandwidthMeter, BandwidthQuotaExceeded
from moviie.usage.service import record_bandwidth
from tests.conftest import add_ready_video, bearer, make_account, make_settings
from tests.servers import moviie_env, run_moviie

KIB = 1024
PLANS = """
default = "tiny"
[plans.tiny]
storage_gib = {storage}
bandwidth_gib_month = {bandwidth}
credits_month = 50
trial_days = 14
[plans.big]
storage_gib = 100
bandwidth_gib_month = 100
credits_month = 500
[plans.capped]
storage_gib = 1
bandwidth_gib_month = {bandwidth}
credits_month = 10
bandwidth_hard_limit = true
"""


@pytest.fixture
def plans_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "plans.toml"
    # 100 KiB of storage and of bandwidth a month: thresholds at 80 and 100 KiB.
    path.write_text(PLANS.format(storage=100 * KIB / GIB, bandwidth=100 * KIB / GIB))
    yield path
    load_plans(None)


@pytest_asyncio.fixture
async def planned(database_url: str, tmp_path: Path, plans_file: Path) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(database_url, tmp_path, plans_file=plans_file))
    async with app.router.lifespan_context(app):
        yield app


async def _events(db: Database, account_id: str, kind: str) -> list[dict[str, object]]:
    async with db.transaction(write=False) as session:
        stmt = select(Event).where(Event.account_id == account_id, Event.type == kind)
        return [e.data for e in (await session.scalars(stmt.order_by(Event.id))).all()]


async def test_plans_come_from_the_file(
    planned: FastAPI, plans_file: Path, database_url: str, tmp_path: Path
) -> None:
    db: Database = planned.state.db
    account = await make_account(db, plan=None)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=planned)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        me = (await client.get("/v1/me", headers=bearer(account.private_key))).json()
    assert me["plan"] == {
        "name": "tiny", "storage_bytes": 100 * KIB, "bandwidth_bytes_month": 100 * KIB,
        "credits_month": 50,
    }  # fmt: skip
    assert me["trial_ends_at"] is not None
    env = moviie_env(database_url, tmp_path / "cli", MOVIIE_PLANS_FILE=str(plans_file))
    listed = run_moviie(["plans", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    assert [p["name"] for p in json.loads(listed.stdout)] == ["tiny", "big", "capped"]
    moved = run_moviie(
        ["accounts", "set-plan", "--account", account.account.email, "--plan", "big", "--json"], env
    )
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["credits_granted"] == 450
    async with db.transaction(write=False) as session:
        row = await session.get(Account, account.account.id)
        assert row is not None
        assert (row.plan, row.trial_ends_at, row.credits_balance) == ("big", None, 500)
    broken = tmp_path / "broken.toml"
    broken.write_text("[plans.x]\nstorage_gib = 1\n")
    refused = run_moviie(["plans", "list"], env | {"MOVIIE_PLANS_FILE": str(broken)})
    assert refused.returncode == 2
    assert "bandwidth_gib_month" in refused.stdout + refused.stderr


async def test_storage_thresholds_are_told_once_per_crossing(planned: FastAPI) -> None:
    db: Database = planned.state.db
    account = await make_account(db, plan="tiny")
    steps = [70, 15, 5, 10]  # KiB: 70%, 85% (passes 80), 90%, 100% (passes 100)
    for kib in steps:
        async with db.transaction() as session:
            await reserve_storage(session, account.account.id, kib * KIB)
    told = await _events(db, account.account.id, "storage.threshold")
    assert [(e["percent"], e["used_bytes"]) for e in told] == [(80, 85 * KIB), (100, 100 * KIB)]
    async with db.transaction() as session:  # back under 80%, then past it again: told again
        await release_storage(session, account.account.id, 30 * KIB)
    async with db.transaction() as session:
        await reserve_storage(session, account.account.id, 20 * KIB)
    told = await _events(db, account.account.id, "storage.threshold")
    assert [e["percent"] for e in told] == [80, 100, 80]


async def test_bandwidth_thresholds_once_a_month_even_when_counted_at_once(
    planned: FastAPI,
) -> None:
    db: Database = planned.state.db
    account = await make_account(db, plan="tiny")
    video = await add_ready_video(db, account.account.id)
    today = utcnow().date()
    key = (account.account.id, today, video.id)
    async with db.transaction() as session:
        await record_bandwidth(session, {key: 40 * KIB})

    async def count(n: int) -> None:
        async with db.transaction() as session:
            await record_bandwidth(session, {key: n})

    await asyncio.gather(*(count(25 * KIB) for _ in range(4)))  # 40 -> 140: each level once
    await count(10 * KIB)
    told = await _events(db, account.account.id, "bandwidth.threshold")
    assert sorted(e["percent"] for e in told) == [80, 100]
    assert {e["month"] for e in told} == {f"{today:%Y-%m}"}
    following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    async with db.transaction() as session:  # a new month starts counting afresh
        await record_bandwidth(session, {(account.account.id, following, video.id): 85 * KIB})
    told = await _events(db, account.account.id, "bandwidth.threshold")
    assert [e["month"] for e in told][-1] == f"{following:%Y-%m}"
    assert len(told) == 3


async def test_a_hard_limited_plan_stops_media_past_its_month(planned: FastAPI) -> None:
    db: Database = planned.state.db
    account = await make_account(db, plan="capped")
    video = await add_ready_video(db, account.account.id)
    transport = httpx.ASGITransport(app=planned)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        before = await client.get(f"/media/{video.id}/poster.jpg")
        assert before.status_code == 404  # allowed through (the row has no media behind it)
        async with db.transaction() as session:
            await record_bandwidth(
                session, {(account.account.id, utcnow().date(), video.id): 100 * KIB}
            )
        planned.state.bandwidth._quotas.clear()  # the 30 s cache, for the test
        after = await client.get(f"/media/{video.id}/poster.jpg")
    assert after.status_code == 402
    assert after.json()["code"] == "bandwidth_quota_exceeded"


async def test_what_a_process_served_counts_against_the_limit_flushed_or_not(
    planned: FastAPI,
) -> None:
    """Between two readings of the month's total (30 s apart), the bytes this process served are
    added to the last reading, also once a flush has written them."""
    db: Database = planned.state.db
    account = await make_account(db, plan="capped")
    video = await add_ready_video(db, account.account.id)
    meter = BandwidthMeter(db)
    await meter.check_quota(account.account.id)  # reads 0 of 100 KiB
    meter.count(account.account.id, video.id, 60 * KIB)
    await meter.flush()
    await meter.check_quota(account.account.id)  # 60 KiB: still allowed
    meter.count(account.account.id, video.id, 50 * KIB)
    with pytest.raises(BandwidthQuotaExceeded):
        await meter.check_quota(account.account.id)
    await meter.flush()
    with pytest.raises(BandwidthQuotaExceeded):
        await meter.check_quota(account.account.id)
    meter._quotas.clear()  # the next reading: 110 KiB written, nothing pending
    with pytest.raises(BandwidthQuotaExceeded):
        await meter.check_quota(account.account.id)


async def test_after_the_trial_nothing_new_comes_in_but_videos_play(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    account = await make_account(db)
    video = await add_ready_video(db, account.account.id)
    async with db.transaction() as session:
        await session.execute(
            update(Account).where(Account.id == account.account.id)
            .values(trial_ends_at=utcnow() - timedelta(minutes=1))
        )  # fmt: skip
    key = bearer(account.private_key)
    files = {"file": ("clip.mp4", b"\x00" * 1000, "video/mp4")}
    refused = [
        await client.post("/v1/videos", headers=key, files=files),
        await client.post("/v1/videos", headers=key, json={"url": "https://example.com/a.mp4"}),
        await client.post("/v1/videos/uploads/reserve", headers=key, json={"title": "x"}),
        await client.post(f"/v1/videos/{video.id}/quiz", headers=key, json={}),
    ]
    for answer in refused:
        assert answer.status_code == 402, answer.text
        assert answer.json()["code"] == "trial_expired"
    assert (await client.get(f"/v1/videos/{video.id}", headers=key)).status_code == 200
    assert (
        await client.get(f"/v1/videos/{video.id}/playback", headers=bearer(account.publishable_key))
    ).status_code == 200
    async with db.transaction(write=False) as session:
        videos = await session.scalar(
            select(Account.storage_bytes).where(Account.id == account.account.id)
        )
    assert videos == 0  # nothing was kept


async def test_an_account_on_a_plan_taken_out_of_the_file_keeps_working(
    database_url: str, tmp_path: Path, plans_file: Path
) -> None:
    app = create_app(make_settings(database_url, tmp_path, plans_file=plans_file))
    async with app.router.lifespan_context(app):
        account = await make_account(app.state.db, plan="big")
    plans_file.write_text(
        PLANS.format(storage=1, bandwidth=1).replace("[plans.big]", "[plans.other]")
    )
    app = create_app(make_settings(database_url, tmp_path, plans_file=plans_file))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            me = await client.get("/v1/me", headers=bearer(account.private_key))
        assert me.status_code == 200
        assert me.json()["plan"]["name"] == "tiny"  # the default plan's quotas meanwhile
        async with app.state.db.transaction() as session:  # metering goes on
            await record_bandwidth(session, {(account.account.id, utcnow().date(), "vid_x"): 10})
    env = moviie_env(database_url, tmp_path / "cli", MOVIIE_PLANS_FILE=str(plans_file))
    moved = run_moviie(
        ["accounts", "set-plan", "--account", account.account.id, "--plan", "capped"], env
    )
    assert moved.returncode == 0, moved.stderr


@pytest.mark.parametrize(
    "text",
    [
        "[plans.x]\nstorage_gib = inf\nbandwidth_gib_month = 1\ncredits_month = 1\n",
        "[plans]\nx = 1\n",
        "[plans.x]\nstorage_gib = 1\nbandwidth_gib_month = 1\ncredits_month = -5\n",
        "[plans.x]\nstorage_gib = 1\nbandwidth_gib_month = 1\ncredits_month = 5\n"
        'bandwidth_hard_limit = "false"\n',
        "[plans.x]\nstorage_gib = 1\nbandwidth_gib_month = 1\ncredits_month = 5\ntrial_days = -1\n",
    ],
)
def test_a_broken_plans_file_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plans.toml"
    path.write_text(text)
    with pytest.raises(PlansFileInvalid):
        load_plans(path)
    load_plans(None)
