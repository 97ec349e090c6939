"""Rollups equal a brute force over the raw events, for generated viewings (hypothesis): plays,
pauses, seeks back and forth, viewings that cross hours and days, viewers coming back, events
rolled up in two goes."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from moviie.analytics.rollup import roll_up
from moviie.db.engine import Database
from moviie.db.models import AnalyticsEvent, AnalyticsRollup
from moviie.db.types import utcnow
from tests.conftest import add_ready_video, make_account

BASE = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
RENDITIONS = ["240p", "480p", None]

action = st.one_of(
    st.tuples(st.just("play"), st.floats(0.5, 45.0), st.sampled_from(RENDITIONS)),
    st.tuples(st.just("pause"), st.just(0.0), st.sampled_from(RENDITIONS)),
    st.tuples(st.just("seek"), st.floats(0.0, 1.0), st.sampled_from(RENDITIONS)),
)
viewing = st.fixed_dictionaries(
    {
        "video": st.integers(0, 1),
        "viewer": st.integers(0, 3),
        "start_min": st.integers(0, 60 * 30),
        "begin": st.floats(0.0, 0.5),
        "actions": st.lists(action, min_size=0, max_size=12),
        "ended": st.booleans(),
    }
)


def _events(view: dict[str, Any], duration: float) -> list[dict[str, Any]]:
    at = round(view["begin"] * duration, 3)
    out = [{"type": "view_start", "position_s": at, "from_s": None, "rendition": None}]
    for kind, amount, rendition in view["actions"]:
        if kind == "play":
            at = round(min(at + amount, duration), 3)
            out.append(
                {"type": "heartbeat", "position_s": at, "from_s": None, "rendition": rendition}
            )
        elif kind == "pause":
            out.append(
                {"type": "heartbeat", "position_s": at, "from_s": None, "rendition": rendition}
            )
        else:
            target = round(amount * duration, 3)
            out.append({"type": "seek", "position_s": target, "from_s": at, "rendition": rendition})
            at = target
    if view["ended"]:
        out.append({"type": "view_end", "position_s": at, "from_s": None, "rendition": None})
    return out


def _brute(events: list[dict[str, Any]], duration: float) -> dict[str, Any]:
    """The definition, walked plainly: what moved forward 0-30 s between two events was played
    (to a seek's origin); coverage sampled on a fine grid."""
    spans, at, rendition = [], None, None
    for e in sorted(events, key=lambda e: e["seq"]):
        reached = e["from_s"] if e["type"] == "seek" else e["position_s"]
        rendition = e["rendition"] or rendition
        if at is not None and 0 < reached - at <= 30:
            spans.append((at, reached, rendition or "unknown"))
        at = e["position_s"]
    width = duration / 100  # the middles exactly as the rollup computes them (float rounding)
    seen = [any(a <= (b + 0.5) * width <= z for a, z, _ in spans) for b in range(100)]
    grid = 20000
    covered = sum(
        1 for i in range(grid) if any(a <= (i + 0.5) * duration / grid <= z for a, z, _ in spans)
    )
    renditions: dict[str, float] = defaultdict(float)
    for a, z, r in spans:
        renditions[r] += z - a
    return {
        "watch": sum(z - a for a, z, _ in spans),
        "completion": min(1.0, covered / grid),
        "retention": [int(s) for s in seen],
        "renditions": renditions,
    }


def _start(when: datetime, period: str) -> datetime:
    hour = when.replace(minute=0, second=0, microsecond=0)
    return hour if period == "hour" else hour.replace(hour=0)


async def _check(url: str, viewings: list[dict[str, Any]], split: int) -> None:
    db = Database(url)
    try:
        account = await make_account(db)
        durations = [97.0, 251.5]
        videos = [
            (await add_ready_video(db, account.account.id, duration_s=d)).id for d in durations
        ]
        rows, expected = [], defaultdict(list)
        for n, view in enumerate(viewings):
            video = videos[view["video"]]
            started = BASE + timedelta(minutes=view["start_min"])
            events = _events(view, durations[view["video"]])
            for seq, event in enumerate(events):
                rows.append(
                    event
                    | {
                        "seq": seq,
                        "account_id": account.account.id,
                        "video_id": video,
                        "view_id": f"vv_prop_{n:06d}",
                        "viewer_id": f"vw_prop_{view['viewer']:05d}",
                        "received_at": started + timedelta(seconds=10 * seq),
                    }
                )
            brute = _brute([e | {"seq": s} for s, e in enumerate(events)], durations[view["video"]])
            for period in ("hour", "day"):
                expected[(video, period, _start(started, period))].append(
                    brute | {"viewer": view["viewer"]}
                )
        rows.sort(key=lambda r: r["received_at"])
        cut = len(rows) * split // 4
        for part in (rows[:cut], rows[cut:]):  # two goes: later events re-read their views
            if part:
                async with db.transaction() as session:
                    await session.execute(insert(AnalyticsEvent), part)
                await roll_up(db, utcnow(), settle_s=0)
        async with db.transaction(write=False) as session:
            stmt = select(AnalyticsRollup).where(AnalyticsRollup.video_id.in_(videos))
            found = {
                (r.video_id, r.period, r.start): r for r in (await session.scalars(stmt)).all()
            }
    finally:
        await db.dispose()
    assert set(found) == set(expected)
    for key, views in expected.items():
        row = found[key]
        assert row.views == len(views), key
        assert row.unique_viewers == len({v["viewer"] for v in views}), key
        assert row.watch_time_s == pytest.approx(sum(v["watch"] for v in views), abs=0.01)
        assert row.completion_sum == pytest.approx(
            sum(v["completion"] for v in views), abs=0.002 * len(views)
        )
        assert row.retention == [
            sum(col) for col in zip(*(v["retention"] for v in views), strict=True)
        ]
        names = {n for v in views for n in v["renditions"]}
        assert set(row.renditions) == names
        for name in names:
            total = sum(v["renditions"].get(name, 0.0) for v in views)
            assert row.renditions[name] == pytest.approx(total, abs=0.01)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(viewings=st.lists(viewing, min_size=1, max_size=8), split=st.integers(0, 4))
def test_rollups_equal_a_brute_force(
    database_url: str, viewings: list[dict[str, Any]], split: int
) -> None:
    asyncio.run(_check(database_url, viewings, split))
