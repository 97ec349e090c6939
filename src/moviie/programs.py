"""Running the programs Moviie drives as processes of their own (ffmpeg, espeak-ng, Apertium,
Piper): found on PATH, listed once, and never left running behind the job that started them."""

from __future__ import annotations

import asyncio
import ctypes
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


class ProgramFailed(RuntimeError):
    pass


def die_with_parent() -> None:
    """In the child before exec: the kernel kills the program if the worker dies (even by
    SIGKILL), so a crashed worker leaves nothing running on behind it."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def listing(program: str, flag: str) -> tuple[str, ...]:
    """The non-empty lines an installed program prints about itself (its voices, its language
    pairs); none when it is not installed. Callers cache what they make of it."""
    binary = shutil.which(program)
    if binary is None:
        return ()
    listed = subprocess.run(  # noqa: S603 (our own arguments)
        [binary, flag], capture_output=True, text=True, timeout=30, check=False
    )
    return tuple(line.strip() for line in listed.stdout.splitlines() if line.strip())


async def run_program(command: Sequence[str], stdin: bytes | None = None) -> bytes:
    """Run `command` and return what it printed; ProgramFailed (with the end of its error output)
    when it exits non-zero; killed if the caller is cancelled."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=die_with_parent,
    )
    try:
        out, err = await process.communicate(stdin)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode != 0:
        tail = err.decode(errors="replace").strip()[-300:]
        raise ProgramFailed(f"{Path(command[0]).name} failed ({process.returncode}): {tail}")
    return out
