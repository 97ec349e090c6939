"""Upload throughput of a `moviie api` server next to a bare uvicorn app, over loopback.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--backend sqlite|postgresql]
                                     [--rounds 2] [--bare-multipart parse|raw] [--py-spy DIR]

It generates one file of random bytes (default 1 GiB, written once in 8 MiB blocks into a temp
dir), creates a fresh, migrated database and data directory, runs `python -m moviie migrate` and
`python -m moviie accounts create --json` for a private key, and starts two servers on 127.0.0.1,
each in its own process with one uvicorn worker:

* moviie: `python -m moviie api --port P` (MOVIIE_DATABASE_URL, MOVIIE_DATA_DIR, a rate limit of
  10^6/min, MOVIIE_LOG_LEVEL=WARNING; its stderr and stdout go to a log file);
* bare: a Starlette app defined here, with the same three endpoint shapes and no Moviie. Each
  streams `request.stream()` to a file in the same temp dir, in 1 MiB blocks written from a
  thread, and fsyncs once at the end (Moviie fsyncs its staged file too). For multipart it runs
  python-multipart's streaming parser and writes only the file part's bytes
  (`--bare-multipart raw` writes the whole body unparsed instead).

The file is then uploaded, streamed from disk by one keep-alive httpx client, three ways:

1. multipart: `POST /v1/videos` with a `file` part (bare: `POST /bare/videos`) -> 201;
2. signed PUT: `POST /v1/videos/uploads/reserve`, then `PUT upload.url` with the raw file -> 204;
3. tus: reserve, then `PATCH upload.tus_url` in 8 MiB chunks -> 204 with the new Upload-Offset.

The reserve call is not timed. Each method runs on moviie, then bare, then moviie, then bare
(`--rounds`), keeping the best round of each. Every upload is deleted afterwards: the video
through `DELETE /v1/videos/{id}` (which gives back the storage quota), and its files under
<tmp>/data/media and <tmp>/data/uploads, so the disk does not fill. It prints MB/s (10^6 bytes per
second), the ratio moviie/bare (target >= 0.8), and each server's peak RSS growth during the
upload: /proc/<pid>/status VmRSS, sampled every 50 ms, minus the value just before the upload
(target < 100 MB). Both servers first get one 1 MiB warm-up upload per method.

A measurement, not a test: it exits 0 whatever the figures. It exits 1 when the setup fails or an
endpoint answers something unexpected (the server's log is shown), and 130 on Ctrl-C.

Internal mode (the bare server, in a subprocess):
    bench/upload.py --serve-bare --port P --dir D [--bare-multipart parse|raw]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    HOST,
    Children,
    bench_parser,
    free_port,
    fresh_database,
    log_tail,
    migrated_account,
    moviie_env,
    py_spy_samples,
    run_benchmark,
    serve_app,
    spawn_logged,
    spawn_moviie,
    start_py_spy,
    stop,
    wait_http_ok,
)

THROUGHPUT_TARGET = 0.80
RSS_TARGET_MB = 100
MIB = 1024 * 1024
BLOCK = 8 * MIB  # file generation and tus chunk size
WRITE_BLOCK = MIB  # the bare server's disk writes
RSS_INTERVAL = 0.05
HERE = Path(__file__).resolve()
METHODS = ("multipart", "put", "tus")
TITLES = {"multipart": "multipart POST", "put": "signed PUT", "tus": "tus PATCH x 8 MiB"}


# --------------------------------------------------------------------------------------------
# The bare server (subprocess)


class BareSink:
    """Chunks coalesced into 1 MiB blocks, written from a thread, fsynced once when closed."""

    def __init__(self, path: Path, append: bool = False) -> None:
        self.path = path
        self.mode = "ab" if append else "wb"
        self.file: Any = None
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.size = 0

    async def open(self) -> BareSink:
        self.file = await asyncio.to_thread(open, self.path, self.mode)
        return self

    async def write(self, data: bytes) -> None:
        self.pending.append(data)
        self.pending_bytes += len(data)
        self.size += len(data)
        if self.pending_bytes >= WRITE_BLOCK:
            await self.flush()

    async def flush(self) -> None:
        if self.pending:
            block = b"".join(self.pending)
            self.pending, self.pending_bytes = [], 0
            await asyncio.to_thread(self.file.write, block)

    async def close(self) -> None:
        await self.flush()
        file = self.file

        def sync_and_close() -> None:
            file.flush()
            os.fsync(file.fileno())
            file.close()

        await asyncio.to_thread(sync_and_close)


def build_bare_app(root: Path, multipart_mode: str) -> Any:
    from python_multipart.multipart import MultipartParser, parse_options_header
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    root.mkdir(parents=True, exist_ok=True)

    async def health(request: Request) -> Response:
        return Response(status_code=200)

    async def multipart(request: Request) -> Response:
        sink = await BareSink(root / f"mp-{uuid.uuid4().hex}.part").open()
        if multipart_mode == "raw":
            async for chunk in request.stream():
                await sink.write(chunk)
        else:
            _, params = parse_options_header(request.headers["content-type"])
            file_data: list[bytes] = []
            in_file = False

            def on_headers_finished() -> None:
                nonlocal in_file
                in_file = True  # good enough here: the title part is tiny and written too

            def on_part_data(data: bytes, start: int, end: int) -> None:
                if in_file:
                    file_data.append(data[start:end])

            parser = MultipartParser(
                params[b"boundary"],
                {"on_headers_finished": on_headers_finished, "on_part_data": on_part_data},
            )
            async for chunk in request.stream():
                parser.write(chunk)
                for piece in file_data:
                    await sink.write(piece)
                file_data.clear()
        await sink.close()
        return JSONResponse({"size": sink.size}, status_code=201)

    async def put(request: Request) -> Response:
        sink = await BareSink(root / f"{request.path_params['upload_id']}.part").open()
        async for chunk in request.stream():
            await sink.write(chunk)
        await sink.close()
        return Response(status_code=204)

    async def patch(request: Request) -> Response:
        path = root / f"{request.path_params['upload_id']}.part"
        offset = path.stat().st_size if path.exists() else 0
        if int(request.headers["upload-offset"]) != offset:
            return Response(status_code=409, headers={"Upload-Offset": str(offset)})
        sink = await BareSink(path, append=True).open()
        async for chunk in request.stream():
            await sink.write(chunk)
        await sink.close()
        return Response(
            status_code=204,
            headers={"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset + sink.size)},
        )

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/bare/videos", multipart, methods=["POST"]),
            Route("/bare/uploads/{upload_id}", put, methods=["PUT"]),
            Route("/bare/uploads/{upload_id}", patch, methods=["PATCH"]),
        ]
    )


def serve_bare(port: int, root: Path, multipart_mode: str) -> None:
    serve_app(build_bare_app(root, multipart_mode), port)


# --------------------------------------------------------------------------------------------
# Measuring


class UploadFailed(RuntimeError):
    pass


def vm_rss(pid: int) -> int:
    """Resident set size of `pid` in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


class RssSampler:
    """Peak VmRSS of a process, sampled every 50 ms from a thread of this process."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = vm_rss(pid)
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(RSS_INTERVAL):
            self.peak = max(self.peak, vm_rss(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, vm_rss(self.pid))

    @property
    def growth(self) -> int:
        return self.peak - self.before


class FileSlice:
    """`length` bytes of an open file from `offset`, read in 1 MiB pieces (a tus chunk body)."""

    def __init__(self, file: Any, offset: int, length: int) -> None:
        self.file, self.offset, self.length = file, offset, length

    def __iter__(self) -> Iterator[bytes]:
        pos, end = self.offset, self.offset + self.length
        while pos < end:
            data = os.pread(self.file.fileno(), min(MIB, end - pos), pos)
            if not data:
                raise UploadFailed(f"payload file ends at {pos}, expected {end}")
            pos += len(data)
            yield data


@dataclass
class Server:
    kind: str  # "moviie" or "bare"
    proc: subprocess.Popen[Any]
    base: str
    log: Path
    headers: dict[str, str] = field(default_factory=dict)
    data_dir: Path | None = None  # moviie: MOVIIE_DATA_DIR; bare: its upload directory

    def fail(self, what: str, response: Any) -> UploadFailed:
        return UploadFailed(
            f"{self.kind}: {what} answered {response.status_code} "
            f"{response.text[:1500]}\n{log_tail(self.log)}"
        )


def expect(server: Server, what: str, response: Any, status: int) -> Any:
    if response.status_code != status:
        raise server.fail(what, response)
    return response


def reserve(client: Any, server: Server, size: int) -> tuple[str, str, str]:
    """(video id, upload url, tus url)."""
    response = client.post(
        f"{server.base}/v1/videos/uploads/reserve",
        headers=server.headers,
        json={"size_bytes": size, "filename": "bench.bin", "title": "bench"},
    )
    data = expect(server, "POST /v1/videos/uploads/reserve", response, 201).json()
    return data["video"]["id"], data["upload"]["url"], data["upload"]["tus_url"]


def upload(client: Any, server: Server, method: str, payload: Path) -> tuple[float, str | None]:
    """Upload `payload` one way; returns (seconds, video id to delete afterwards)."""
    size = payload.stat().st_size
    video_id: str | None = None
    if server.kind == "moviie" and method in ("put", "tus"):
        video_id, url, tus_url = reserve(client, server, size)
    else:
        url = tus_url = f"{server.base}/bare/uploads/upl_{uuid.uuid4().hex}"
    with payload.open("rb") as file:
        started = time.perf_counter()
        if method == "multipart":
            target = (
                f"{server.base}/v1/videos"
                if server.kind == "moviie"
                else f"{server.base}/bare/videos"
            )
            response = client.post(
                target,
                headers=server.headers,
                data={"title": "bench"},
                files={"file": ("bench.bin", file, "application/octet-stream")},
            )
            body = expect(server, f"POST {target} (multipart)", response, 201).json()
            if server.kind == "moviie":
                video_id = body["id"]
        elif method == "put":
            response = client.put(
                url,
                content=file,
                headers={"Content-Type": "application/octet-stream"},
            )
            expect(server, "PUT <upload url>", response, 204)
        else:
            offset = 0
            while offset < size:
                length = min(BLOCK, size - offset)
                response = client.patch(
                    tus_url,
                    content=FileSlice(file, offset, length),
                    headers={
                        "Tus-Resumable": "1.0.0",
                        "Content-Type": "application/offset+octet-stream",
                        "Upload-Offset": str(offset),
                        "Content-Length": str(length),
                    },
                )
                expect(server, f"PATCH <tus url> at offset {offset}", response, 204)
                offset += length
                answered = response.headers.get("upload-offset")
                if answered != str(offset):
                    raise UploadFailed(
                        f"{server.kind}: PATCH answered Upload-Offset {answered!r}, "
                        f"expected {offset}"
                    )
        elapsed = time.perf_counter() - started
    return elapsed, video_id


def clean(client: Any, server: Server, video_id: str | None) -> None:
    """Delete the uploaded video (quota back) and its bytes on disk."""
    if server.kind == "moviie" and video_id:
        response = client.delete(f"{server.base}/v1/videos/{video_id}", headers=server.headers)
        expect(server, f"DELETE /v1/videos/{video_id}", response, 204)
    assert server.data_dir is not None
    if server.kind == "moviie":
        # No worker runs the media-deletion job: remove the files ourselves. `.tmp` stays (the
        # storage backend made it at start and writes through it).
        remove_children(server.data_dir / "media", keep={".tmp"})
        remove_children(server.data_dir / "media" / ".tmp")
        remove_children(server.data_dir / "uploads")
    else:
        remove_children(server.data_dir)


def remove_children(directory: Path, keep: set[str] | None = None) -> None:
    if not directory.is_dir():
        return
    for child in directory.iterdir():
        if keep and child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


@dataclass
class Measurement:
    seconds: float
    size: int
    rss_before: int
    rss_growth: int

    @property
    def mb_s(self) -> float:
        return self.size / self.seconds / 1e6 if self.seconds else 0.0


def measure(
    client: Any, server: Server, method: str, payload: Path, profile: Path | None
) -> Measurement:
    spy: subprocess.Popen[Any] | None = None
    if profile is not None and server.kind == "moviie":
        spy = start_py_spy(server.proc.pid, profile / f"{method}-{server.kind}.txt")
    try:
        with RssSampler(server.proc.pid) as rss:
            seconds, video_id = upload(client, server, method, payload)
    finally:
        if spy is not None:
            stop(spy, grace=30, sig=signal.SIGINT)
    clean(client, server, video_id)
    return Measurement(seconds, payload.stat().st_size, rss.before, rss.growth)


# --------------------------------------------------------------------------------------------
# py-spy (optional)


def summarize_profile(path: Path, top: int = 12) -> list[str]:
    """The hottest leaf frames (own time) of a py-spy raw (collapsed stacks) file."""
    if not path.exists():
        return [f"(no profile at {path})"]
    leaves: dict[str, int] = {}
    total = 0
    for frames, n in py_spy_samples(path):
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + n
        total += n
    ranked = sorted(leaves.items(), key=lambda item: -item[1])[:top]
    return [f"{100 * n / total:5.1f}%  {frame}" for frame, n in ranked] if total else []


# --------------------------------------------------------------------------------------------
# Orchestration


def generate(path: Path, size: int) -> None:
    with path.open("wb") as out:
        left = size
        while left:
            n = min(BLOCK, left)
            out.write(os.urandom(n))
            left -= n


def choose_size(requested_mib: int, tmp: Path) -> int:
    """Bytes to upload: the request, shrunk if the disk has less than 4x it free."""
    size = requested_mib * MIB
    free = shutil.disk_usage(tmp).free
    if free < 4 * size:
        shrunk = (free // 4) // MIB * MIB
        if shrunk < 8 * MIB:
            raise RuntimeError(f"only {free / 1e9:.1f} GB free under {tmp}: not enough to run")
        print(
            f"warning: {free / 1e9:.1f} GB free under {tmp}, less than 4x "
            f"{requested_mib} MiB; uploading {shrunk // MIB} MiB instead",
            flush=True,
        )
        size = shrunk
    return size


def fmt_mb(n: int) -> str:
    return f"{n / 1e6:+6.1f} MB"


def run(args: argparse.Namespace, tmp: Path, children: Children) -> int:
    size = choose_size(args.size_mib, tmp)
    payload = tmp / "payload.bin"
    warmup = tmp / "warmup.bin"
    t0 = time.perf_counter()
    generate(payload, size)
    generate(warmup, MIB)
    print(f"generated {size / MIB:.0f} MiB in {time.perf_counter() - t0:.1f} s", flush=True)

    with fresh_database(args.backend, tmp / "moviie.db") as db_url:
        try:
            moviie, bare = start_servers(args, tmp, db_url, children)
            profile = Path(args.py_spy).resolve() if args.py_spy else None
            if profile is not None:
                profile.mkdir(parents=True, exist_ok=True)
            print(
                f"{size / MIB:.0f} MiB over loopback, one keep-alive httpx client; uvicorn 1 "
                f"worker each; backend {args.backend}; bare multipart: {args.bare_multipart}; "
                f"{args.rounds} alternating rounds, best kept; {os.cpu_count()} CPUs",
                flush=True,
            )
            results, failures = measure_methods(args, moviie, bare, payload, warmup, profile)
            print_summary(results, failures, profile)
            return 1 if failures else 0
        finally:
            if args.backend == "postgresql":
                for proc in children:  # the server holds connections to the database
                    stop(proc, sig=signal.SIGINT)


def start_servers(
    args: argparse.Namespace, tmp: Path, db_url: str, children: Children
) -> tuple[Server, Server]:
    """A migrated database with one account, then `moviie api` and the bare app, both ready."""
    data_dir = tmp / "data"
    env = moviie_env(db_url, data_dir, {"MOVIIE_RATE_LIMIT_PER_MINUTE": "1000000"})
    key = migrated_account(env, timeout=300)["private_key"]

    log = tmp / "moviie-api.log"
    proc, base = spawn_moviie("api", log, children, env)
    auth = {"Authorization": f"Bearer {key}"}
    moviie = Server("moviie", proc, base, log, auth, data_dir)
    port = free_port()
    log = tmp / "bare.log"
    bare_dir = tmp / "bare"
    argv = [sys.executable, str(HERE), "--serve-bare", "--port", str(port)]
    argv += ["--dir", str(bare_dir), "--bare-multipart", args.bare_multipart]
    proc = spawn_logged(argv, log, children)
    bare = Server("bare", proc, f"http://{HOST}:{port}", log, {}, bare_dir)
    for server, path in ((moviie, "/v1/me"), (bare, "/health")):
        url = server.base + path
        wait_http_ok(server.proc, url, f"{server.kind} server", server.log, server.headers)
    return moviie, bare


Rounds = dict[str, list[Measurement]]  # "moviie" / "bare" -> one Measurement per round


def measure_methods(
    args: argparse.Namespace,
    moviie: Server,
    bare: Server,
    payload: Path,
    warmup: Path,
    profile: Path | None,
) -> tuple[dict[str, Rounds], dict[str, str]]:
    """Each method warmed up, then on moviie and bare in turn for `--rounds` rounds, each round
    printed; (the rounds of each method, the error of each method that failed)."""
    import httpx

    results: dict[str, Rounds] = {}
    failures: dict[str, str] = {}
    with httpx.Client(timeout=httpx.Timeout(600.0, connect=10.0)) as client:
        for method in METHODS:
            try:
                for server in (moviie, bare):
                    measure(client, server, method, warmup, None)
                rounds: Rounds = {"moviie": [], "bare": []}
                for i in range(args.rounds):
                    for server in (moviie, bare):
                        spy_dir = profile if i == 0 else None
                        m = measure(client, server, method, payload, spy_dir)
                        rounds[server.kind].append(m)
                        print(
                            f"  {TITLES[method]:<18} round {i + 1} {server.kind:<6}: "
                            f"{m.mb_s:7.1f} MB/s ({m.seconds:6.2f} s), "
                            f"RSS {m.rss_before / 1e6:5.0f} MB {fmt_mb(m.rss_growth)}",
                            flush=True,
                        )
                results[method] = rounds
            except (UploadFailed, httpx.HTTPError) as exc:
                failures[method] = str(exc)
                print(f"  {TITLES[method]}: FAILED\n{exc}", flush=True)
    return results, failures


def print_summary(
    results: dict[str, Rounds], failures: dict[str, str], profile: Path | None
) -> None:
    print()
    print(
        f"{'method':<18} {'moviie MB/s':>11} {'bare MB/s':>9} {'ratio':>6}   "
        f"{'RSS growth moviie':>17} {'bare':>9}"
    )
    for method in METHODS:
        if method in failures:
            print(f"{TITLES[method]:<18} FAILED (see above)")
            continue
        best = {k: max(v, key=lambda m: m.mb_s) for k, v in results[method].items()}
        peak = {k: max(m.rss_growth for m in v) for k, v in results[method].items()}
        ratio = best["moviie"].mb_s / best["bare"].mb_s if best["bare"].mb_s else 0.0
        verdict = "ok" if ratio >= THROUGHPUT_TARGET else "BELOW TARGET"
        rss_verdict = "ok" if peak["moviie"] < RSS_TARGET_MB * 1e6 else "OVER TARGET"
        print(
            f"{TITLES[method]:<18} {best['moviie'].mb_s:11.1f} {best['bare'].mb_s:9.1f} "
            f"{ratio:6.2f}   {fmt_mb(peak['moviie']):>17} {fmt_mb(peak['bare']):>9}   "
            f"throughput {verdict} (>= {THROUGHPUT_TARGET:.2f}), "
            f"RSS {rss_verdict} (< {RSS_TARGET_MB} MB)"
        )
    print("(RSS growth: the worst round's peak VmRSS minus VmRSS just before its upload)")
    if profile is not None:
        for method in METHODS:
            out = profile / f"{method}-moviie.txt"
            print(f"\npy-spy, moviie, {TITLES[method]}, hottest leaf frames ({out}):")
            for line in summarize_profile(out):
                print(f"  {line}")


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--size-mib", type=int, default=1024, help="file size in MiB")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds per server (best kept)"
    )
    parser.add_argument(
        "--bare-multipart",
        choices=["parse", "raw"],
        default="parse",
        help="the bare multipart endpoint parses with python-multipart, or writes the raw body",
    )
    parser.add_argument(
        "--py-spy",
        metavar="DIR",
        help="record the moviie server with py-spy in round 1 (raw stacks into DIR)",
    )
    parser.add_argument(
        "--keep-tmp", action="store_true", help="keep the temp dir (logs, database)"
    )
    # internal mode
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve_bare:
        serve_bare(args.port, Path(args.dir), args.bare_multipart)
        return 0

    return run_benchmark(
        "moviie-bench-upload-", partial(run, args), keep_tmp=args.keep_tmp, failures=(RuntimeError,)
    )


if __name__ == "__main__":
    sys.exit(main())
