"""The dashboard's rules, in process: sign-in (wrong passwords, a flood, no open redirect), the
session cookie and sign-out, CSRF on every change, another account's things out of reach, and
the video page's subtitles and materials going through their services (a refusal shown, a
job started)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from moviie.accounts import service as accounts
from moviie.accounts.service import NewAccount
from moviie.analytics.rollup import roll_up
from moviie.credits import service as credits
from moviie.db.engine import Database
from moviie.db.models import DashboardSession
from moviie.db.types import utcnow
from moviie.maintenance.repository import delete_expired_dashboard_sessions
from tests.conftest import add_ready_video, make_account, within_one_budget_window

PASSWORD = "a long enough password"
VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nHello there\n"


async def _with_password(db: Database, account: NewAccount) -> None:
    async with db.transaction() as session:
        row = await accounts.get_account(session, account.account.id)
        await accounts.set_password(session, row, PASSWORD)


async def _signed_in(client: httpx.AsyncClient, email: str) -> str:
    """Signs the client in; returns the page's CSRF token."""
    answer = await client.post(
        "/dashboard/sign-in",
        data={"email": email, "password": PASSWORD, "next": "/dashboard/videos"},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/dashboard/videos"
    library = await client.get("/dashboard/videos")
    assert library.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', library.text)
    assert found is not None
    return found.group(1)


async def test_sign_in_and_out(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    closed = await client.get("/dashboard/videos")
    assert closed.status_code == 303
    assert closed.headers["location"] == "/dashboard/sign-in?next=/dashboard/videos"
    wrong = await client.post(
        "/dashboard/sign-in", data={"email": account.account.email, "password": "nope nope nope"}
    )
    assert wrong.status_code == 401
    assert "do not match" in wrong.text
    unknown = await client.post(
        "/dashboard/sign-in", data={"email": "who@example.com", "password": PASSWORD}
    )
    assert unknown.status_code == 401  # the same answer: no account enumeration
    away = await client.post(
        "/dashboard/sign-in",
        data={
            "email": account.account.email,
            "password": PASSWORD,
            "next": "https://evil.example/x",
        },
    )
    assert away.headers["location"] == "/dashboard/videos"  # never off-site
    cookie = away.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    csrf = re.search(r'name="csrf" value="([^"]+)"', (await client.get("/dashboard/videos")).text)
    assert csrf is not None
    out = await client.post("/dashboard/sign-out", data={"csrf": csrf.group(1)})
    assert out.status_code == 303
    assert (await client.get("/dashboard/videos")).status_code == 303


async def test_a_flood_of_attempts_is_slowed(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    await within_one_budget_window(20)  # eleven password hashes
    answers = [
        (
            await client.post(
                "/dashboard/sign-in", data={"email": account.account.email, "password": "x" * 12}
            )
        ).status_code
        for _ in range(11)
    ]
    assert answers[:10] == [401] * 10
    assert answers[10] == 429


async def test_changes_need_the_csrf_token(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    csrf = await _signed_in(client, account.account.email)
    forged = await client.post("/dashboard/settings/keys", data={"name": "forged"})
    assert forged.status_code == 403
    wrong = await client.post("/dashboard/settings/keys", data={"name": "forged", "csrf": "x" * 43})
    assert wrong.status_code == 403
    made = await client.post("/dashboard/settings/keys", data={"name": "real", "csrf": csrf})
    assert made.status_code == 200
    assert "mvi_live_" in made.text
    by_header = await client.post(
        "/dashboard/settings/keys", data={"name": "htmx"}, headers={"X-CSRF-Token": csrf}
    )
    assert by_header.status_code == 200


async def test_another_accounts_things_are_out_of_reach(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    other = await make_account(db)
    theirs = await add_ready_video(db, other.account.id)
    csrf = await _signed_in(client, account.account.email)
    assert (await client.get(f"/dashboard/videos/{theirs.id}")).status_code == 404
    renamed = await client.post(
        f"/dashboard/videos/{theirs.id}", data={"title": "mine now", "csrf": csrf}
    )
    assert renamed.status_code == 404
    assert (await client.get("/dashboard/settings/webhooks/whe_nope")).status_code == 404


async def test_subtitles_and_materials_go_through_their_services(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    silent = await add_ready_video(db, account.account.id, has_audio=False, duration_s=90.0)
    csrf = await _signed_in(client, account.account.email)
    page = (await client.get(f"/dashboard/videos/{silent.id}")).text
    assert 'Generate <span class="visually-hidden">Quiz</span>(4 credits)' in page  # 2 minutes
    refused = await client.post(
        f"/dashboard/videos/{silent.id}/materials/quiz", data={"csrf": csrf}
    )
    assert refused.status_code == 422
    assert "no sound" in refused.text
    uploaded = await client.post(
        f"/dashboard/videos/{silent.id}/subtitles",
        data={"csrf": csrf, "language": "en"},
        files={"file": ("en.vtt", VTT, "text/vtt")},
    )
    assert uploaded.status_code == 303
    listed = (await client.get(f"/dashboard/videos/{silent.id}")).text
    assert "uploaded" in listed
    assert f"/media/{silent.id}/subtitles/en.vtt" in listed
    broken = await client.post(
        f"/dashboard/videos/{silent.id}/subtitles",
        data={"csrf": csrf, "language": "fr"},
        files={"file": ("fr.vtt", b"not subtitles", "text/vtt")},
    )
    assert broken.status_code == 422
    gone = await client.post(
        f"/dashboard/videos/{silent.id}/subtitles/en/delete", data={"csrf": csrf}
    )
    assert gone.status_code == 303
    assert (
        f"/media/{silent.id}/subtitles/en.vtt"
        not in (await client.get(f"/dashboard/videos/{silent.id}")).text
    )

    talking = await add_ready_video(db, account.account.id, duration_s=30.0)
    started = await client.post(
        f"/dashboard/videos/{talking.id}/materials/subtitles", data={"csrf": csrf}
    )
    assert started.status_code == 303
    section = (await client.get(f"/dashboard/videos/{talking.id}/materials")).text
    assert re.search(
        r'data-material="subtitles" data-status="(queued|running|failed|succeeded)"', section
    )
    me = (await client.get("/dashboard/usage")).text
    assert "199 left of 200" in me  # the job's price, debited by the same service as the API


async def test_a_refused_material_leaves_no_job_behind(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    """Not enough credits: the page says so, and a later Generate (credits granted) starts a
    job: no dead job holds the request's place."""
    await _with_password(db, account)
    long = await add_ready_video(db, account.account.id, duration_s=120 * 60.0)  # 240 > 200
    csrf = await _signed_in(client, account.account.email)
    refused = await client.post(f"/dashboard/videos/{long.id}/materials/quiz", data={"csrf": csrf})
    assert refused.status_code == 422
    assert "costs 240 credits" in refused.text
    jobs = await client.get(
        f"/v1/jobs?video_id={long.id}", headers={"Authorization": f"Bearer {account.private_key}"}
    )
    assert jobs.json()["data"] == []
    async with db.transaction() as session:
        await credits.grant(session, account.account.id, 1000, "test")
    started = await client.post(f"/dashboard/videos/{long.id}/materials/quiz", data={"csrf": csrf})
    assert started.status_code == 303
    jobs = await client.get(
        f"/v1/jobs?video_id={long.id}", headers={"Authorization": f"Bearer {account.private_key}"}
    )
    assert [j["status"] for j in jobs.json()["data"]] in (["queued"], ["running"], ["failed"])


async def test_another_sites_form_cannot_sign_anyone_in(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    form = {"email": account.account.email, "password": PASSWORD}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = await client.post("/dashboard/sign-in", data=form, headers=headers)
        assert answer.status_code == 403
        assert "set-cookie" not in answer.headers
    same = await client.post(
        "/dashboard/sign-in", data=form, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert same.status_code == 303


async def test_a_subtitle_language_follows_the_apis_rule(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    video = await add_ready_video(db, account.account.id)
    csrf = await _signed_in(client, account.account.email)
    for language in ("e x", "en/fr", "english"):
        answer = await client.post(
            f"/dashboard/videos/{video.id}/subtitles",
            data={"csrf": csrf, "language": language},
            files={"file": ("x.vtt", VTT, "text/vtt")},
        )
        assert answer.status_code == 422, language
    listed = await client.get(
        f"/v1/videos/{video.id}/subtitles",
        headers={"Authorization": f"Bearer {account.private_key}"},
    )
    assert listed.json()["data"] == []


async def test_the_analytics_page_skips_a_deleted_video(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    kept = await add_ready_video(db, account.account.id, title="kept")
    gone = await add_ready_video(db, account.account.id, title="gone")
    pub = account.publishable_key
    for video, views in ((gone, 3), (kept, 1)):
        for n in range(views):
            events = [
                {
                    "type": "view_start",
                    "video_id": video.id,
                    "view_id": f"vv_{video.id[-8:]}_{n:03d}",
                    "seq": 0,
                    "position_s": 0,
                }
            ]
            await client.post(
                "/v1/analytics/events",
                json={"key": pub, "viewer_id": f"vw_skip_{n:05d}", "events": events},
            )
    await roll_up(db, utcnow(), settle_s=0)
    removed = await client.delete(
        f"/v1/videos/{gone.id}", headers={"Authorization": f"Bearer {account.private_key}"}
    )
    assert removed.status_code == 204
    await _signed_in(client, account.account.email)
    page = await client.get("/dashboard/analytics")
    assert page.status_code == 200
    assert "kept: the most viewed" in page.text


async def test_expired_sessions_are_purged_and_refused(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    await _signed_in(client, account.account.email)
    async with db.transaction() as session:
        await session.execute(
            update(DashboardSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await client.get("/dashboard/videos")).status_code == 303  # expired: signed out
    async with db.transaction() as session:
        assert await delete_expired_dashboard_sessions(session, utcnow()) >= 1
        left = (
            await session.scalars(
                select(DashboardSession.id).where(DashboardSession.account_id == account.account.id)
            )
        ).all()
    assert left == []


async def test_the_library_filters_like_the_api(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    await _with_password(db, account)
    key = {"Authorization": f"Bearer {account.private_key}"}
    filed = await add_ready_video(db, account.account.id, title="filed talk", reference_id="ref-1")
    loose = await add_ready_video(db, account.account.id, title="loose clip")
    shelf = (await client.post("/v1/collections", json={"name": "Shelf"}, headers=key)).json()
    await client.put(f"/v1/collections/{shelf['id']}/videos/{filed.id}", headers=key)
    await _signed_in(client, account.account.email)

    def shown(html: str) -> set[str]:
        return set(re.findall(r'id="row-(vid_[0-9a-z]+)"', html))

    everything = (await client.get("/dashboard/videos")).text
    assert {filed.id, loose.id} <= shown(everything)
    assert "Shelf" in everything  # the collection is offered as a filter
    for query, expected in (
        ({"collection_id": shelf["id"]}, {filed.id}),
        ({"reference_id": "ref-1"}, {filed.id}),
        ({"q": "loose"}, {loose.id}),
        ({"created_after": "2999-01-01"}, set()),
        ({"created_before": "2999-01-01", "q": "filed"}, {filed.id}),
        ({"created_after": "not a date", "q": "loose"}, {loose.id}),  # ignored, not a 500
    ):
        page = await client.get("/dashboard/videos", params=query)
        assert page.status_code == 200
        assert shown(page.text) == expected, query
