"""What the planning commands do on start: load their modules with the cyclic collector aside.

``gridmap partition`` and ``gridmap redistrict`` import geopandas, SciPy, the planner and the file
handling when they run (``gridmap --help`` loads none of them). Those modules stay to the end:
without the collector going through their objects while they load (three full passes), nor
again each time the layers read make it run, nor once more when the process ends, a run saves
0.3-0.45 s of CPU before and after the work (measured on ``gridmap partition``).
"""

from __future__ import annotations

import atexit
import gc
import importlib
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["modules_set_aside"]


@contextmanager
def modules_set_aside(*modules: str) -> Iterator[None]:
    """Import ``modules`` with the collector off and set everything loaded so far aside from it
    (:func:`gc.freeze`) for the run inside; then unfreeze, the collector as it was found.

    The objects left when the process ends are set aside again then (an ``atexit``
    :func:`gc.freeze`, registered once).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        for module in modules:
            importlib.import_module(module)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    try:
        yield
    finally:
        gc.unfreeze()
