"""Shared pieces of the HTTP benchmarks: a free port, a gridmap server process, wrk runs."""

from __future__ import annotations

import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
"""Clock ticks a second: the unit of :func:`cpu_ticks`."""

__all__ = [
    "ROOT",
    "fresh_postgis_database",
    "new_store_url",
    "free_port",
    "wait_until_up",
    "start_gridmap",
    "run_wrk",
    "cpu_seconds",
    "cpu_ticks",
    "cpu_spent",
    "process_cpu",
    "timed",
    "database_pids",
    "CLOCK_TICKS",
    "load_average",
    "smoke_store",
    "write_results",
]


def fresh_postgis_database(url: str) -> None:
    """Drop and re-create the database of ``url`` with the PostGIS extension."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    sa_url = make_url(url)
    admin = create_engine(sa_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{sa_url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{sa_url.database}"'))
    admin.dispose()
    engine = create_engine(sa_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()


def new_store_url(backend: str, postgis_url: str, folder: str | Path) -> str:
    """The URL of a new, empty store: for ``"postgis"`` the database of ``postgis_url`` dropped
    and created again, else a SpatiaLite file in a new folder under ``folder``."""
    if backend == "postgis":
        fresh_postgis_database(postgis_url)
        return postgis_url
    return f"sqlite:///{tempfile.mkdtemp(dir=folder)}/bench.sqlite"


def smoke_store() -> str:
    """A SpatiaLite URL in a new temporary folder for a ``--smoke`` run (data key beside it)."""
    smoke_dir = tempfile.mkdtemp()
    os.environ.setdefault("GRIDMAP_DATA_KEY_FILE", f"{smoke_dir}/bench.key")
    return f"sqlite:///{smoke_dir}/bench.sqlite"


def write_results(name: str, payload: Any) -> Path:
    """Write ``payload`` as ``bench/results/<name>.json`` (indented); return the path."""
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2))
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 60) -> None:
    """Poll ``url`` until it answers 200, or raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start_gridmap(database_url: str, port: int, root: Path = ROOT) -> subprocess.Popen:
    """One uvicorn process serving gridmap over ``database_url``, from the source tree ``root``
    (another one: e.g. ``git archive`` of an older commit, for "before" figures)."""
    env = {**os.environ, "GRIDMAP_DATABASE_URL": database_url, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "service.api.main:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    return subprocess.Popen(cmd, env=env, cwd=root)


def _ticks(pid: int) -> int:
    """User + system CPU clock ticks of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    return _ticks(pid) / CLOCK_TICKS


def cpu_ticks(pids: set[int]) -> dict[int, int]:
    """CPU clock ticks (user + system) used so far by each of ``pids`` still running."""
    out = {}
    for pid in pids:
        try:
            out[pid] = _ticks(pid)
        except OSError:  # the process has ended
            continue
    return out


def cpu_spent(pids: Callable[[], set[int]], work: Callable[[], T]) -> tuple[T, float]:
    """Run ``work``; its result and the CPU seconds that the processes ``pids()`` names (before
    or after it) spent meanwhile. The machine's other load hardly changes this figure, unlike
    wall seconds or requests/s."""
    before = cpu_ticks(pids())
    result = work()
    after = cpu_ticks(pids() | set(before))
    return result, sum(t - before.get(pid, 0) for pid, t in after.items()) / CLOCK_TICKS


def process_cpu() -> float:
    """User + system CPU seconds of this process so far (``getrusage``; children not counted)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(engine: Any, work: Callable[[], T]) -> tuple[T, dict[str, float]]:
    """Run ``work``; its result and its ``wall``, process CPU (``cpu``) and database server CPU
    (``server cpu``: the processes of ``engine``'s database, none on SpatiaLite) seconds."""

    def measured() -> tuple[T, float, float]:
        wall, cpu = time.perf_counter(), process_cpu()
        result = work()
        return result, time.perf_counter() - wall, process_cpu() - cpu

    (result, wall, cpu), server = cpu_spent(lambda: database_pids(engine), measured)
    return result, {"wall": wall, "cpu": cpu, "server cpu": server}


def database_pids(engine: Any, *, own: bool = True) -> set[int]:
    """Process ids of the PostgreSQL server processes connected to ``engine``'s database; none
    on SpatiaLite (it runs inside the process that uses it). ``own=False`` leaves out the one
    serving this query (when ``engine`` only watches and does not do the measured work)."""
    if engine.dialect.name != "postgresql":
        return set()
    from sqlalchemy import text

    query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    if not own:
        query += " AND pid <> pg_backend_pid()"
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(text(query))}


def load_average() -> float:
    """The machine's 1-minute load average (as ``uptime`` shows it)."""
    return round(os.getloadavg()[0], 2)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _search(pattern: str, out: str) -> re.Match[str]:
    """The match of ``pattern`` in wrk's output (RuntimeError naming it if wrk printed none)."""
    found = re.search(pattern, out)
    if found is None:
        raise RuntimeError(f"wrk's output has no {pattern!r}:\n{out}")
    return found


def run_wrk(
    url: str, *, threads: int, connections: int, duration: int, script: Path | None = None
) -> dict[str, float]:
    """Run wrk with ``--latency``: requests/s, p50 and p99 (ms), and errors (non-2xx + socket).

    ``script``: a wrk Lua script (e.g. one that cycles through many paths of ``url``'s host)."""
    lua = ["-s", str(script)] if script is not None else []
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
         "--latency", *lua, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    p50 = _search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = _search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    requests = int(_search(r"(\d+) requests in", out).group(1))
    if requests == 0:  # nothing answered within the run: a stall, not a fast zero
        raise RuntimeError(f"no request to {url} completed in {duration} s:\n{out}")
    return {
        "requests_per_s": float(_search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": requests,
        "p50_ms": _ms(*p50.groups()), "p99_ms": _ms(*p99.groups()),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(g) for g in socket_errors.groups()) if socket_errors else 0),
    }  # fmt: skip
