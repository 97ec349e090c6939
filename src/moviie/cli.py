"""The `moviie` command."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from moviie.accounts import service as accounts
from moviie.accounts.passwords import WeakPassword
from moviie.api_keys import service as api_keys
from moviie.api_keys.scopes import PRIVATE_SCOPES
from moviie.config import Settings
from moviie.credits import service as credits
from moviie.db import migrate as db_migrate
from moviie.db.engine import Database
from moviie.errors import MoviieError
from moviie.jobs.engine import migrate_engine
from moviie.jobs.queues import QUEUES
from moviie.log import configure_logging
from moviie.plans.catalog import PLANS, PlansFileInvalid, default_plan, load_plans

app = typer.Typer(help="Moviie: a self-hostable video API.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
plans_app = typer.Typer(help="Plans.", no_args_is_help=True)
credits_app = typer.Typer(help="Credits.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(plans_app, name="plans")
app.add_typer(credits_app, name="credits")

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        load_plans(settings.plans_file)
    except PlansFileInvalid as exc:
        console.print(f"[red]MOVIIE_PLANS_FILE: {exc}[/red]")
        raise typer.Exit(2) from exc
    return settings


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(settings.resolved_database_url)
        try:
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except MoviieError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from exc


def _migrate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db_migrate.upgrade(settings.resolved_database_url)
    migrate_engine(settings)


def _run_server(
    settings: Settings,
    host: str,
    port: int,
    queues: tuple[str, ...],
    banner: Any,
    first_key: str | None = None,
) -> None:
    from moviie.app import create_app

    settings = settings.model_copy(update={"host": host, "port": port})
    config = uvicorn.Config(
        create_app(settings, worker_queues=queues),
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        # uvicorn signals no "bound" event
        while not server.started and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if server.started:
            console.print(banner(settings))
            if first_key is not None:
                me_url = f"{settings.resolved_public_url}/v1/me"
                console.print(
                    f"curl -H 'Authorization: Bearer {first_key}' {me_url}", soft_wrap=True
                )
        await task

    asyncio.run(serve())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """API and workers in one process on the embedded defaults; migrates on start."""
    settings = _settings()
    _migrate(settings)
    first = _bootstrap_first_account(settings)

    def banner(s: Settings) -> Panel:
        lines = [f"Moviie is listening on [bold]{s.resolved_public_url}[/bold]"]
        lines.append(f"API docs: {s.resolved_public_url}/docs   data: {s.data_dir.resolve()}")
        if first is not None:
            lines += [
                "",
                f"Created account [bold]{first.account.email}[/bold] ({first.account.id}).",
                "Its keys are shown this once:",
                f"  private key:     [bold green]{first.private_key}[/bold green]",
                f"  publishable key: {first.publishable_key}",
            ]
        else:
            lines.append("A new key: moviie keys create --account <email or acct_ id>")
        return Panel("\n".join(lines), title="moviie serve", expand=False)

    _run_server(settings, host, port, QUEUES, banner, first.private_key if first else None)


def _bootstrap_first_account(settings: Settings) -> accounts.NewAccount | None:
    async def work(session: AsyncSession) -> accounts.NewAccount | None:
        if await accounts.count_accounts(session) > 0:
            return None
        return await accounts.create_account(session, email="admin@localhost", name="Local admin")

    return _in_transaction(settings, work)


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """The API alone; it enqueues work for `moviie worker` processes."""
    settings = _settings()
    _run_server(
        settings,
        host,
        port,
        (),
        lambda s: f"Moviie API listening on [bold]{s.resolved_public_url}[/bold]",
    )


@app.command()
def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues to run.")] = ",".join(QUEUES),
    concurrency: Annotated[int | None, typer.Option(help="Jobs at once per queue.")] = None,
) -> None:
    """Run durable jobs from the given queues until SIGTERM or Ctrl-C."""
    from moviie.worker import WorkerProcess

    settings = _settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    names = [q.strip() for q in queues.split(",") if q.strip()]

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        process = WorkerProcess(settings, names)
        await process.start()
        console.print(
            f"Worker [bold]{settings.executor_id}[/bold] running queues: {', '.join(names)}"
        )
        await stop.wait()
        await process.stop()

    asyncio.run(run())


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    settings = _settings()
    _migrate(settings)
    console.print("Database is up to date.")


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, default=str))


@accounts_app.command("create")
def accounts_create(
    email: Annotated[str, typer.Option(help="The account's email.")],
    name: Annotated[str, typer.Option(help="The account's display name.")],
    plan: Annotated[
        str | None, typer.Option(help="Plan name (see `moviie plans list`); default: the trial.")
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="The dashboard's password (or set it later: set-password).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create an account with one private and one publishable key."""
    from moviie.accounts.service import account_view

    settings = _settings()

    async def work(session: AsyncSession) -> tuple[dict[str, Any], str, str]:
        created = await accounts.create_account(session, email=email, name=name, plan=plan)
        if password is not None:
            await accounts.set_password(session, created.account, password)
        view = account_view(created.account).model_dump(mode="json")
        return view, created.private_key, created.publishable_key

    try:
        view, private_key, publishable_key = _in_transaction(settings, work)
    except WeakPassword as weak:
        console.print(f"[red]{weak.detail}[/red]")
        raise typer.Exit(2) from weak
    if as_json:
        _print_json(
            {"account": view, "private_key": private_key, "publishable_key": publishable_key}
        )
        return
    console.print(
        Panel(
            f"Account [bold]{view['email']}[/bold] ({view['id']}) on plan {view['plan']['name']}\n"
            f"private key:     [bold green]{private_key}[/bold green]\n"
            f"publishable key: {publishable_key}\n"
            "Keys are shown only now; store them safely.",
            title="account created",
            expand=False,
        )
    )


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Option(help="Account id (acct_...) or email.")],
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")] = "cli key",
    scopes: Annotated[
        str | None, typer.Option(help=f"Comma-separated subset of: {', '.join(PRIVATE_SCOPES)}.")
    ] = None,
    publishable: Annotated[bool, typer.Option(help="A playback-only key.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create an API key for an account."""
    settings = _settings()
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()] if scopes else None

    async def work(session: AsyncSession) -> tuple[str, str, str]:
        found = await accounts.get_account(session, account)
        created = await api_keys.create_key(
            session,
            found.id,
            name=name,
            key_type="publishable" if publishable else "private",
            scopes=scope_list,
        )
        return created.row.id, created.row.type, created.key

    key_id, key_type, key = _in_transaction(settings, work)
    if as_json:
        _print_json({"id": key_id, "type": key_type, "key": key, "scopes": scope_list})
        return
    console.print(f"{key_type} key {key_id}: [bold green]{key}[/bold green] (shown only now)")


@accounts_app.command("set-password")
def accounts_set_password(
    email: Annotated[str, typer.Option(help="The account's email (or acct_... id).")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="The new password (asked for when omitted).",
        ),
    ],
) -> None:
    """Set the dashboard's password (argon2id); browsers signed in before are signed out."""
    settings = _settings()

    async def work(session: AsyncSession) -> str:
        found = await accounts.get_account(session, email)
        await accounts.set_password(session, found, password)
        return found.email

    try:
        who = _in_transaction(settings, work)
    except WeakPassword as weak:
        console.print(f"[red]{weak.detail}[/red]")
        raise typer.Exit(2) from weak
    console.print(f"{who}: password set; sign in at /dashboard")


@accounts_app.command("set-plan")
def accounts_set_plan(
    account: Annotated[str, typer.Option(help="Account id (acct_...) or email.")],
    plan: Annotated[str, typer.Option(help="Plan name (see `moviie plans list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Move an account to another plan (quotas change at once; more credits a month are
    granted now, fewer wait for the next month; leaving the trial ends it)."""
    settings = _settings()

    async def work(session: AsyncSession) -> tuple[str, int]:
        found = await accounts.get_account(session, account)
        return found.id, await accounts.change_plan(session, found, plan)

    account_id, granted = _in_transaction(settings, work)
    if as_json:
        _print_json({"account_id": account_id, "plan": plan, "credits_granted": granted})
        return
    console.print(f"{account_id}: now on plan [bold]{plan}[/bold] ({granted} credits granted)")


@credits_app.command("grant", context_settings={"ignore_unknown_options": True})
def credits_grant(
    amount: Annotated[
        int, typer.Argument(help="Credits to add; negative takes back (a correction).")
    ],
    account: Annotated[str, typer.Option(help="Account id (acct_...) or email.")],
    note: Annotated[str, typer.Option(help="Why, for the ledger.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Grant credits to an account (written to its ledger)."""
    settings = _settings()

    async def work(session: AsyncSession) -> tuple[str, int]:
        found = await accounts.get_account(session, account)
        return found.id, await credits.grant(session, found.id, amount, note)

    account_id, balance = _in_transaction(settings, work)
    if as_json:
        _print_json({"account_id": account_id, "granted": amount, "balance": balance})
        return
    console.print(f"{account_id}: {amount:+d} credits, balance [bold]{balance}[/bold]")


@plans_app.command("list")
def plans_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The plans and their quotas."""
    _settings()  # MOVIIE_PLANS_FILE
    if as_json:
        _print_json([plan.__dict__ for plan in PLANS.values()])
        return
    table = Table("plan", "storage", "bandwidth / month", "credits / month", "trial", "default")
    gib = 1024**3
    for plan in PLANS.values():
        table.add_row(
            plan.name,
            f"{plan.storage_bytes // gib} GiB",
            f"{plan.bandwidth_bytes_month // gib} GiB",
            str(plan.credits_month),
            f"{plan.trial_days} days" if plan.trial_days else "",
            "yes" if plan.name == default_plan() else "",
        )
    console.print(table)


def main() -> None:
    app()
