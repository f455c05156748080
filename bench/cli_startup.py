"""CPU seconds (user + system) of ``gridmap --help`` and ``gridmap user list`` (issue 13 §4).

Each command runs in a fresh interpreter ``--runs`` times; the CPU of the child processes is
read from ``getrusage`` (wall figures mean little on a shared machine). ``user list`` runs on a
SpatiaLite store at the newest schema with one user, made once beforehand (with ``--postgis URL``
also on that PostGIS database: one of your own, never the test database; the user is added
once). A fixed Python loop is timed the same way, so figures from machines under different load
can be compared.
Bytecode is cached (in a temporary ``PYTHONPYCACHEPREFIX``, one warm-up run per command), as
for an installed gridmap, even where ``PYTHONDONTWRITEBYTECODE`` is set.
The goal: both commands well under 0.5 s of CPU.

Run: ``.venv/bin/python bench/cli_startup.py [--runs 10] [--postgis URL]``; ``--smoke``: two runs
each (the test suite runs it).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRIDMAP = [sys.executable, "-c", "import sys; from service.cli import app; app(sys.argv[1:])"]
LOOP = "x = 0\nfor i in range(3_000_000): x += i"


def cpu_seconds(args: list[str], env: dict[str, str]) -> float:
    """User + system CPU of one child process running ``args``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


USER_LINE = "bench\tdistrict_admin\t520602\t-"


def add_user(url: str, env: dict[str, str]) -> None:
    """Migrate the store at ``url`` and add the user ``bench`` (if it is not there yet)."""
    added = subprocess.run([*GRIDMAP, "user", "add", "bench", "--role", "district_admin",
                            "--district", "520602", "--password-stdin", "--db", url], cwd=ROOT,
                           env=env, capture_output=True, input="Tamarind-Kettle-42\n",
                           text=True)  # fmt: skip
    if added.returncode != 0 and "already exists" not in added.stderr:
        raise SystemExit(f"gridmap user add failed: {added.stderr.strip()}")
    listed = subprocess.run([*GRIDMAP, "user", "list", "--db", url], cwd=ROOT, env=env,
                            check=True, capture_output=True, text=True)  # fmt: skip
    if USER_LINE not in listed.stdout.splitlines():
        raise SystemExit(f"gridmap user list does not list the user bench: {listed.stdout!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="Two runs of each command.")
    parser.add_argument("--postgis", metavar="URL", help="Also list the users of this PostGIS "
                        "database (your own; with the data key of your environment).")  # fmt: skip
    opts = parser.parse_args()
    runs = 2 if opts.smoke else opts.runs
    with tempfile.TemporaryDirectory() as tmp:
        # The PostGIS database keeps the key of the caller's environment from run to run.
        pg_env = {**os.environ, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        pg_env.pop("PYTHONDONTWRITEBYTECODE", None)
        env = {**pg_env, "GRIDMAP_DATA_KEY_FILE": str(Path(tmp) / "bench.key")}
        env.pop("GRIDMAP_DATA_KEY", None)
        url = f"sqlite:///{Path(tmp) / 'store.sqlite'}"
        add_user(url, env)
        cases = {"python loop (3M additions)": ([sys.executable, "-c", LOOP], env),
                 "gridmap --help": ([*GRIDMAP, "--help"], env),
                 "gridmap user list": ([*GRIDMAP, "user", "list", "--db", url], env)}  # fmt: skip
        if opts.postgis:
            add_user(opts.postgis, pg_env)
            cases["gridmap user list (PostGIS)"] = (
                [*GRIDMAP, "user", "list", "--db", opts.postgis], pg_env)  # fmt: skip
        print("| command | CPU s, min | median | max | runs |\n|---|---|---|---|---|")
        for name, (args, case_env) in cases.items():
            cpu_seconds(args, case_env)  # warm-up: bytecode written
            times = sorted(cpu_seconds(args, case_env) for _ in range(runs))
            print(f"| {name} | {times[0]:.2f} | {statistics.median(times):.2f} | "
                  f"{times[-1]:.2f} | {runs} |")  # fmt: skip


if __name__ == "__main__":
    main()
