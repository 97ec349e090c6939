"""Credits: the balance is always the ledger's sum, concurrent jobs never overspend, grants and
corrections by the CLI, a new month's renewal once, `credits.low` once per crossing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select, update

from moviie.accounts.service import NewAccount
from moviie.ai import service as ai
from moviie.credits import service as credits
from moviie.db.engine import Database
from moviie.db.models import Account, CreditEntry, Event
from moviie.errors import InsufficientCredits
from tests.conftest import add_ready_video, bearer
from tests.servers import create_account, moviie_env, run_moviie


async def _entries(db: Database, account_id: str) -> list[CreditEntry]:
    async with db.transaction(write=False) as session:
        stmt = select(CreditEntry).where(CreditEntry.account_id == account_id)
        return list((await session.scalars(stmt.order_by(CreditEntry.id))).all())


async def _balance(db: Database, account_id: str) -> int:
    async with db.transaction(write=False) as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return account.credits_balance


async def test_a_new_account_opens_its_ledger_with_its_plan_credits(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    page = await client.get("/v1/credits/ledger", headers=bearer(account.private_key))
    assert page.status_code == 200, page.text
    [opening] = page.json()["data"]
    assert (opening["kind"], opening["amount"], opening["balance_after"]) == ("grant", 200, 200)
    me = (await client.get("/v1/me", headers=bearer(account.private_key))).json()
    assert me["credits"]["balance"] == 200


async def test_concurrent_jobs_never_spend_more_than_the_balance(
    db: Database, account: NewAccount
) -> None:
    account_id = account.account.id
    async with db.transaction() as session:
        await credits.grant(session, account_id, -190, "leave 10")
    video = await add_ready_video(db, account_id)

    async def ask(n: int) -> bool:
        try:
            async with db.transaction() as session:
                owner = await session.get(Account, account_id)
                assert owner is not None
                await ai.accept_job(session, owner, video, "subtitles", {"n": n}, 1)
            return True
        except InsufficientCredits:
            return False

    accepted = await asyncio.gather(*(ask(n) for n in range(30)))
    assert sum(accepted) == 10
    assert await _balance(db, account_id) == 0
    entries = await _entries(db, account_id)
    assert sum(e.amount for e in entries) == 0
    assert all(e.balance_after >= 0 for e in entries)
    assert len([e for e in entries if e.kind == "debit"]) == 10


async def test_credits_low_is_told_once_per_crossing(db: Database, account: NewAccount) -> None:
    account_id = account.account.id
    async with db.transaction() as session:
        await credits.grant(session, account_id, -178, "down to 22")  # trial: 200 a month
    video = await add_ready_video(db, account_id)
    for n in range(4):  # 22 -> 21 -> 20 -> 19 (crosses 10%) -> 18
        async with db.transaction() as session:
            owner = await session.get(Account, account_id)
            assert owner is not None
            await ai.accept_job(session, owner, video, "subtitles", {"n": n}, 1)
    async with db.transaction(write=False) as session:
        stmt = select(Event).where(Event.account_id == account_id, Event.type == "credits.low")
        low = (await session.scalars(stmt)).all()
    assert [e.data for e in low] == [{"balance": 19, "credits_month": 200}]


async def test_a_new_month_resets_the_balance_to_the_plan_once(
    db: Database, account: NewAccount
) -> None:
    account_id = account.account.id
    async with db.transaction() as session:
        await credits.grant(session, account_id, -150, "spent")
        await session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(credits_month_start=datetime(2026, 11, 1, tzinfo=UTC))
        )
    december = datetime(2026, 12, 2, 0, 5, tzinfo=UTC)
    async with db.transaction() as session:
        assert await credits.renew_month(session, account_id, december)
    async with db.transaction() as session:
        assert not await credits.renew_month(session, account_id, december)
    assert await _balance(db, account_id) == 200
    entries = await _entries(db, account_id)
    assert (entries[-1].kind, entries[-1].amount, entries[-1].note) == ("reset", 150, "2026-12")
    assert sum(e.amount for e in entries) == 200


async def test_the_cli_grants_and_corrects_but_never_below_zero(
    database_url: str, tmp_path: Path
) -> None:
    env = moviie_env(database_url, tmp_path)
    made = create_account(env, f"c-{tmp_path.name}")
    account_id = made["account"]["id"]
    granted = run_moviie(["credits", "grant", "--account", account_id, "50", "--json"], env)
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["balance"] == 250
    taken = run_moviie(
        ["credits", "grant", "--account", account_id, "-30", "--note", "fix", "--json"], env
    )
    assert taken.returncode == 0, taken.stderr
    assert json.loads(taken.stdout)["balance"] == 220
    refused = run_moviie(["credits", "grant", "--account", account_id, "-500"], env)
    assert refused.returncode == 1
    assert "negative balance" in refused.stderr
    db = Database(database_url)
    try:
        entries = await _entries(db, account_id)
        assert [(e.kind, e.amount, e.note) for e in entries[1:]] == [
            ("grant", 50, "manual grant"),
            ("grant", -30, "fix"),
        ]
        assert sum(e.amount for e in entries) == await _balance(db, account_id) == 220
    finally:
        await db.dispose()
