"""CPU seconds (user + system) of ``gridmap --help`` and ``gridmap user list`` (issue 13 §4).

Each command runs in a fresh interpreter ``--runs`` times; the CPU of the child processes is
read from ``getrusage`` (wall figures mean little on a shared machine). ``user list`` runs on a
SpatiaLite store at the newest schema with one user, made once beforehand. A fixed Python loop
is timed the same way, so figures from machines under different load can be compared.
Bytecode is cached (in a temporary ``PYTHONPYCACHEPREFIX``, one warm-up run per command), as
for an installed gridmap, even where ``PYTHONDONTWRITEBYTECODE`` is set.
The goal: both commands well under 0.5 s of CPU.

Run: ``.venv/bin/python bench/cli_startup.py [--runs 10]``; ``--smoke``: two runs each (the
test suite runs it).
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


def make_store(path: Path, env: dict[str, str]) -> str:
    """A migrated SpatiaLite store with one user (the password is not used again)."""
    url = f"sqlite:///{path}"
    subprocess.run([*GRIDMAP, "user", "add", "bench", "--role", "district_admin", "--district",
                    "520602", "--password-stdin", "--db", url], cwd=ROOT, env=env, check=True,
                   capture_output=True, input="Tamarind-Kettle-42\n", text=True)  # fmt: skip
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="Two runs of each command.")
    opts = parser.parse_args()
    runs = 2 if opts.smoke else opts.runs
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GRIDMAP_DATA_KEY_FILE": str(Path(tmp) / "bench.key")}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        for name in ("GRIDMAP_DATA_KEY", "PYTHONDONTWRITEBYTECODE"):
            env.pop(name, None)
        url = make_store(Path(tmp) / "store.sqlite", env)
        cases = {"python loop (3M additions)": [sys.executable, "-c", LOOP],
                 "gridmap --help": [*GRIDMAP, "--help"],
                 "gridmap user list": [*GRIDMAP, "user", "list", "--db", url]}  # fmt: skip
        print("| command | CPU s, min | median | max | runs |\n|---|---|---|---|---|")
        for name, args in cases.items():
            cpu_seconds(args, env)  # warm-up: bytecode written
            times = sorted(cpu_seconds(args, env) for _ in range(runs))
            print(f"| {name} | {times[0]:.2f} | {statistics.median(times):.2f} | "
                  f"{times[-1]:.2f} | {runs} |")  # fmt: skip


if __name__ == "__main__":
    main()
