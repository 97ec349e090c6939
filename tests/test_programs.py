"""Programs run as processes of their own: what they print comes back, a failure says why, and
a cancelled job leaves nothing running."""

from __future__ import annotations

import asyncio
import os

import pytest

from moviie.programs import ProgramFailed, listing, run_program


async def test_output_comes_back_and_stdin_goes_in() -> None:
    assert await run_program(["cat"], stdin=b"one\ntwo\n") == b"one\ntwo\n"


async def test_a_failure_carries_the_end_of_the_error_output() -> None:
    with pytest.raises(ProgramFailed, match=r"sh failed \(3\): .*broken pipe dream"):
        await run_program(["sh", "-c", "echo 'broken pipe dream' >&2; exit 3"])


async def test_a_cancelled_run_kills_its_program(tmp_path) -> None:
    pid_file = tmp_path / "pid"
    task = asyncio.create_task(run_program(["sh", "-c", f"echo $$ > {pid_file}; exec sleep 60"]))
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: gone, not a zombie


def test_a_program_that_is_not_installed_lists_nothing() -> None:
    assert listing("moviie-no-such-program", "--list") == ()
