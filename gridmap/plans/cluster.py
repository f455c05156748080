"""Community jobs on an existing Dask distributed cluster (``scheduler=`` of partition and
redistrict, ``--scheduler`` of the CLI).

Each community is one task: only that community's job (its buildings, streets, compounds and
current grids as NumPy arrays, never the district) is sent to a worker, and the worker sends
back that community's plan. A task whose worker is lost is run again elsewhere (``retries``).
Every community has its own seed, so the plans equal those of a run in this process.
``dask.distributed`` is an optional dependency (``pip install gridmap[dask]``), imported only
here and only when a scheduler is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from gridmap.errors import GridmapError

__all__ = ["run_on_cluster", "ClusterError", "RETRIES"]

_Task = TypeVar("_Task")
_Out = TypeVar("_Out")

RETRIES = 3
"""Times a community is run again when its worker is lost (or its task fails)."""
CONNECT_TIMEOUT = "20s"
"""How long to wait for the scheduler of an address."""


class ClusterError(GridmapError):
    """No Dask cluster to run on: ``dask.distributed`` missing or the scheduler unreachable."""


def run_on_cluster(
    plan: Callable[[_Task], _Out],
    tasks: Sequence[_Task],
    codes: Sequence[str],
    scheduler: Any,
    progress: Callable[[str], None] | None = None,
    *,
    retries: int = RETRIES,
) -> list[_Out]:
    """``plan`` each task on the Dask cluster of ``scheduler``; results in task order.

    Parameters
    ----------
    plan : callable
        A module-level function (workers import it by name, so gridmap must be installed
        on them).
    tasks, codes : sequences
        One task and its community code per community.
    scheduler : str or distributed.Client or distributed.LocalCluster
        Scheduler address (``tcp://host:8786``), or a client or cluster of this process.
    progress : callable, optional
        Called with each community code as its task finishes (in finishing order).
    retries : int
        Passed to ``Client.submit``: a task whose worker dies is run again.

    Raises
    ------
    ClusterError
        ``dask.distributed`` is not installed, or no scheduler answers at the address.
    Exception
        The first community's error, as raised on the worker (an ``InputError`` names the
        community and the record).
    """
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ClusterError(
            "Running community jobs on a Dask cluster needs dask.distributed: "
            "pip install 'gridmap[dask]'."
        ) from exc
    if not tasks:
        return []
    own = not isinstance(scheduler, Client)
    try:
        client = (Client(scheduler, timeout=CONNECT_TIMEOUT) if own
                  else scheduler)  # fmt: skip
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"No Dask scheduler answered at {scheduler} within {CONNECT_TIMEOUT}: start one "
            "(`dask scheduler`, and `dask worker ADDRESS` on each machine) or check the "
            f"address. ({exc})"
        ) from exc
    try:
        run = uuid.uuid4().hex[:8]
        name = getattr(plan, "__name__", "plan").strip("_")
        futures = [
            client.submit(
                plan, task, key=f"gridmap-{name}-{code}-{run}", retries=retries, pure=False
            )  # fmt: skip
            for task, code in zip(tasks, codes, strict=True)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(futures)
        for future in as_completed(futures):
            i = index[future.key]
            out[i] = future.result()
            future.release()
            if progress:
                progress(codes[i])
        return out
    finally:
        if own:
            client.close()
