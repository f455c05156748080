"""Benchmark gridmap.partition against GerryChain, spopt and an exact CP-SAT model.

All methods see the same synthetic Tongren-style communities (bench/synth.py). gridmap gets the
streets and compounds; the peers, which know neither, work on Voronoi cells of the buildings
clipped to the community (as the issue sets them up); their cell labels are dissolved the same
way. Raw results go to bench/results/partition_peers.json. Measures per method: share of grids
within [min, max] (a lone building above max counts as correctly flagged), share contiguous,
mean Polsby-Popper, compounds (<= max households) split, grid boundary not on streets (m),
street length inside grid interiors (straddling, m), internal grid boundary (m), seconds.

Usage::

    .venv/bin/python bench/partition_peers.py                 # realistic + small, no spopt
    .venv/bin/python bench/partition_peers.py --spopt seed1 seed2  # spopt on two cases (minutes)
    .venv/bin/python bench/partition_peers.py --cpsat-seconds 120
    .venv/bin/python bench/partition_peers.py --district 0.5 0.75 1   # whole generated districts
    .venv/bin/python bench/partition_peers.py --smoke   # one small case, seconds (the tests)

``--district SCALE ...`` partitions whole districts of ``geodata.make_district`` (scale 1: 43
communities, ~35,000 buildings, ~400,000 households) with gridmap on ``--jobs`` processes and
GerryChain's ``recursive_tree_part`` community by community on one core, each scale in a fresh
process; it reports wall and CPU seconds and the peak memory of the process and its workers
(RSS and PSS summed over them, sampled every 20 ms); ``--no-peers`` leaves GerryChain out.

``--district-profile SCALE`` plans the whole district in this one process and prints the CPU
seconds of each step (tessellation with its parts, cell graph, search, writing the grids), the
plan's quality and a digest of its assignments (equal digests: equal plans); ``--cprofile FILE``
also writes a cProfile of it.

``--district-files SCALE ...`` runs what an office runs: each district is written once to
GeoPackages (EPSG:4490, as ``District.layers`` gives them), then ``gridmap partition
--communities … --buildings … --streets … --compounds … --jobs N`` runs on the files; the
command's process tree (the CLI and its workers) is sampled every 100 ms for its peak RSS and PSS
(``/proc/PID/smaps_rollup``; the sampler's own CPU is printed), and its wall and CPU seconds are
taken from the ended process (workers included). ``--plan-files .gpkg .shp .parquet …`` runs
the command once per ``--out`` format (default ``.geojson``; the assignments go into the
GeoPackage itself for ``.gpkg``) and also times its write step alone (``write_step_cpu_s``:
``write_plan`` on the grids written, median of 3, in this process).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import tongren_community

from gridmap.geometry.adjacency import cell_graph
from gridmap.geometry.cells import tessellate
from gridmap.geometry.metrics import polsby_popper, street_straddle
from gridmap.plans.partition import partition

LO, HI = 300, 500
RESULTS = Path(__file__).resolve().parent / "results"


def _tess(comm, bld, streets, compounds):
    t = tessellate(
        comm.geometry.iloc[0],
        np.asarray(bld.geometry.values),
        bld["households"].to_numpy(),
        compound_ids=bld["compound_id"].fillna("").astype(str).to_numpy()
        if "compound_id" in bld
        else None,
        streets=None if streets is None else np.asarray(streets.geometry.values),
        compounds=None if compounds is None else np.asarray(compounds.geometry.values),
        compound_polygon_ids=None if compounds is None else compounds["compound_id"].to_numpy(),
    )
    return t, cell_graph(t)


def _plain_tess(comm, bld):
    """Voronoi cells of the buildings clipped to the community: what the issue gives the peers."""
    return _tess(comm, bld.drop(columns="compound_id", errors="ignore"), None, None)


def _measure(name, geoms, households, building_grid, bld, streets, seconds, n_buildings_grid):
    geoms = np.asarray(geoms, dtype=object)
    hh = np.asarray(households)
    lone_tower = (hh > HI) & (np.asarray(n_buildings_grid) == 1)
    in_bounds = ((hh >= LO) & (hh <= HI)) | lone_tower
    boundary = shapely.union_all(shapely.boundary(geoms))
    outer = shapely.union_all([shapely.boundary(shapely.union_all(geoms))])
    internal = shapely.difference(boundary, outer.buffer(0.01))
    off = internal
    if streets is not None:
        off = shapely.difference(internal, shapely.union_all(streets.geometry.values).buffer(0.5))
    straddle = 0.0
    if streets is not None:
        _, _, ln = street_straddle(geoms, np.asarray(streets.geometry.values))
        straddle = float(ln.sum())
    split = 0
    if "compound_id" in bld:
        frame = pd.DataFrame(
            {"c": bld["compound_id"].values, "g": building_grid, "h": bld["households"].values}
        ).dropna(subset=["c"])
        per = frame.groupby("c").agg(h=("h", "sum"), g=("g", "nunique"))
        split = int(((per.h <= HI) & (per.g > 1)).sum())
    return {
        "method": name,
        "grids": len(geoms),
        "in_bounds": float(in_bounds.mean()),
        "contiguous": float((shapely.get_num_geometries(geoms) == 1).mean()),
        "polsby_popper": float(polsby_popper(geoms).mean()),
        "compounds_split": split,
        "off_street_m": round(float(shapely.length(off)), 1),
        "straddle_m": round(straddle, 1),
        "internal_m": round(float(shapely.length(internal)), 1),
        "seconds": round(seconds, 2),
    }


def run_gridmap(comm, bld, streets, compounds):
    t = time.perf_counter()
    r = partition(comm, bld, streets=streets, compounds=compounds)
    sec = time.perf_counter() - t
    g = r.grids.to_crs(comm.crs)
    grid_of = dict(zip(r.assignments.building_id, r.assignments.grid_code, strict=True))
    bg = np.array([grid_of.get(b) for b in bld["building_id"]], dtype=object)
    return _measure(
        "gridmap",
        g.geometry.values,
        g["households"].values,
        bg,
        bld,
        streets,
        sec,
        g["buildings"].values,
    )


def _from_cell_labels(name, tess, labels, bld, streets, seconds):
    labels = np.asarray(labels)
    geoms = tess.dissolve(labels)
    keys = sorted(geoms)
    hh, nb = tess.totals(labels, keys)
    bg = np.where(tess.building_cell >= 0, labels[np.maximum(tess.building_cell, 0)], -1)
    return _measure(name, [geoms[k] for k in keys], hh, bg, bld, streets, seconds, nb)


def run_gerrychain(tess, graph, bld, streets, seed=0, max_attempts=10_000):
    import random
    from functools import partial

    from gerrychain import Graph
    from gerrychain.partition import recursive_tree_part
    from gerrychain.tree import bipartition_tree

    g = Graph.from_networkx(graph.to_networkx())
    total = float(graph.weights.sum())
    k = max(1, round(total / 400))
    target = total / k
    eps = min(HI / target - 1, 1 - LO / target)  # band [target(1-eps), target(1+eps)] in [lo, hi]
    cut = partial(bipartition_tree, max_attempts=max_attempts)
    t, cpu = time.perf_counter(), time.process_time()
    try:
        assign = recursive_tree_part(
            g,
            range(k),
            target,
            "households",
            eps,
            bipartition_tree_fn=cut,
            rng=random.Random(seed),
        )
    except Exception as exc:  # GerryChain raises RuntimeError/BipartitionWarning variants
        return {
            "method": "gerrychain",
            "failed": str(exc)[:60],
            "seconds": round(time.perf_counter() - t, 2),
            "_cpu": time.process_time() - cpu,
        }
    sec, cpu = time.perf_counter() - t, time.process_time() - cpu
    labels = np.array([assign[i] for i in range(graph.n)])
    out = _from_cell_labels("gerrychain", tess, labels, bld, streets, sec)
    cell = tess.building_cell
    out["_labels"] = np.where(cell >= 0, labels[np.maximum(cell, 0)], -1)
    out["_cpu"] = cpu
    return out


def run_spopt(tess, graph, bld, streets):
    import geopandas as gpd
    import libpysal
    from spopt.region import MaxPHeuristic

    nbrs, _ = graph.neighbours()
    w = libpysal.weights.W({i: nbrs[i].tolist() for i in range(graph.n)}, silence_warnings=True)
    frame = gpd.GeoDataFrame(
        {
            "households": graph.weights.astype(float),
            "x": shapely.get_x(shapely.centroid(tess.cells)),
            "y": shapely.get_y(shapely.centroid(tess.cells)),
        },
        geometry=list(tess.cells),
    )
    t = time.perf_counter()
    model = MaxPHeuristic(frame, w, ["x", "y"], "households", LO, top_n=2)
    model.solve()
    sec = time.perf_counter() - t
    return _from_cell_labels("spopt", tess, np.asarray(model.labels_), bld, streets, sec)


def run_cpsat(tess, graph, bld, streets, k, seconds):
    from ortools.sat.python import cp_model

    n, edges = graph.n, graph.edges.tolist()
    w = graph.weights.astype(int).tolist()
    length = np.round(graph.length * 10).astype(int).tolist()  # decimetres
    m = cp_model.CpModel()
    x = [[m.NewBoolVar("") for _ in range(k)] for _ in range(n)]
    root = [[m.NewBoolVar("") for _ in range(k)] for _ in range(n)]
    for v in range(n):
        m.AddExactlyOne(x[v])
    for g in range(k):
        m.Add(sum(w[v] * x[v][g] for v in range(n)) >= LO)
        m.Add(sum(w[v] * x[v][g] for v in range(n)) <= HI)
        m.AddExactlyOne(root[v][g] for v in range(n))
        for v in range(n):
            m.AddImplication(root[v][g], x[v][g])
    # Single-commodity flow per grid: the root sends one unit to every other member.
    arcs = edges + [[b, a] for a, b in edges]
    for g in range(k):
        f = [m.NewIntVar(0, n, "") for _ in arcs]
        for (a, b), fv in zip(arcs, f, strict=True):
            m.Add(fv <= n * x[a][g])
            m.Add(fv <= n * x[b][g])
        for v in range(n):
            inflow = sum(fv for (a, b), fv in zip(arcs, f, strict=True) if b == v)
            outflow = sum(fv for (a, b), fv in zip(arcs, f, strict=True) if a == v)
            m.Add(inflow - outflow == x[v][g] - n * root[v][g]).OnlyEnforceIf(root[v][g].Not())
            m.Add(inflow - outflow == x[v][g] - sum(x[u][g] for u in range(n))).OnlyEnforceIf(
                root[v][g]
            )
    cut = []
    for (a, b), ln in zip(edges, length, strict=True):
        c = m.NewBoolVar("")
        for g in range(k):
            m.Add(x[a][g] - x[b][g] <= c)
        cut.append(ln * c)
    m.Minimize(sum(cut))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    t = time.perf_counter()
    status = solver.Solve(m)
    sec = time.perf_counter() - t
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {"method": "cp-sat", "failed": solver.StatusName(status), "seconds": round(sec, 1)}
    labels = np.array([next(g for g in range(k) if solver.Value(x[v][g])) for v in range(n)])
    out = _from_cell_labels("cp-sat", tess, labels, bld, streets, sec)
    out["optimal"] = status == cp_model.OPTIMAL
    return out


def realistic(seeds, spopt_cases):
    rows = []
    for seed in seeds:
        for tower in (False, True):
            comm, bld, st, cmp = tongren_community(seed, tower=tower)
            case = f"seed{seed}{'-tower640' if tower else ''} ({len(bld)} bldg)"
            tess, graph = _plain_tess(comm, bld)
            runs = [run_gridmap(comm, bld, st, cmp), run_gerrychain(tess, graph, bld, st, seed)]
            if f"seed{seed}{'-tower640' if tower else ''}" in spopt_cases:
                runs.append(run_spopt(tess, graph, bld, st))
            rows += [{"case": case, **{k: v for k, v in r.items() if k[0] != "_"}} for r in runs]
            print(f"{case}: done", file=sys.stderr, flush=True)  # the table comes at the end
    return pd.DataFrame(rows)


def small(seeds, cpsat_seconds, gerrychain=True):
    rows = []
    for seed in seeds:
        comm, bld, _, _ = tongren_community(seed, n_buildings=40, width=330, height=260, streets=0)
        bld = bld.drop(columns="compound_id")
        tess, graph = _tess(comm, bld, None, None)
        gm = run_gridmap(comm, bld, None, None)
        k = gm["grids"]  # the same number of grids as gridmap, for a comparable boundary
        case = f"small{seed} ({len(bld)} bldg, {int(graph.weights.sum())} hh, k={k})"
        runs = [gm, run_gerrychain(tess, graph, bld, None, seed)] if gerrychain else [gm]
        if cpsat_seconds > 0:
            runs.append(run_cpsat(tess, graph, bld, None, k, cpsat_seconds))
        rows += [{"case": case, **{k: v for k, v in r.items() if k[0] != "_"}} for r in runs]
        print(f"{case}: done", file=sys.stderr, flush=True)  # the table comes at the end
    return pd.DataFrame(rows)


def _peak_memory(stop: threading.Event, out: list[float]) -> None:
    """Sample this process and its children until ``stop``: max summed RSS and PSS (MB).

    PSS counts a page shared by the workers (libraries, copy-on-write data) once in all, RSS
    once per process; the peaks go to ``out[0]`` and ``out[1]``, its own CPU to ``out[2]``.
    """
    import psutil

    me = psutil.Process()
    while not stop.is_set():
        rss = pss = 0
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):  # a worker that just ended
                info = proc.memory_full_info()
                rss, pss = rss + info.rss, pss + info.pss
        out[0], out[1] = max(out[0], rss / 2**20), max(out[1], pss / 2**20)
        out[2] = time.thread_time()  # the sampler's own CPU, not the partition's
        stop.wait(0.02)


def _in_bounds(grids) -> float:
    """Share of ``grids`` within [LO, HI] households (a lone tower over HI counts as in)."""
    lone = (grids["households"] > HI) & (grids["buildings"] == 1)
    return round(float((grids["households"].between(LO, HI) | lone).mean()), 4)


def _plan_quality(result, bld) -> dict:
    """Grids, share in bounds (:func:`_in_bounds`), mean Polsby-Popper, compounds of at most
    HI households split, and all such compounds."""
    g = result.grids
    grid_of = dict(zip(result.assignments.building_id, result.assignments.grid_code, strict=True))
    split, small = _compounds_split(bld, [grid_of.get(b) for b in bld["building_id"]])
    return {
        "grids": len(g),
        "in_bounds": _in_bounds(g),
        "polsby_popper": round(float(polsby_popper(np.asarray(g.geometry.values)).mean()), 4),
        "compounds_split": split,
        "compounds_le_500": small,
    }


def _compounds_split(bld, building_grid) -> tuple[int, int]:
    """Compounds of at most HI households in more than one grid, and all such compounds."""
    frame = pd.DataFrame(
        {"c": bld["compound_id"].values, "g": building_grid, "h": bld["households"].values}
    ).dropna(subset=["c"])
    per = frame.groupby("c").agg(h=("h", "sum"), g=("g", "nunique"))
    small = per[per.h <= HI]
    return int((small.g > 1).sum()), len(small)


def district_one(scale: float, jobs: int, seed: int, peers: bool = True) -> dict:
    """One scale: gridmap on the whole district, then GerryChain community by community."""
    from geodata.make_district import make_district

    d = make_district(scale=scale)
    comm, bld, st, cmp = d.communities, d.buildings, d.streets, d.compounds
    out = {"scale": scale, "communities": len(comm), "buildings": len(bld),
           "households": int(bld["households"].sum()), "compounds": len(cmp)}  # fmt: skip
    peak, stop = [0.0, 0.0, 0.0], threading.Event()
    base = _rss_now()
    sampler = threading.Thread(target=_peak_memory, args=(stop, peak), daemon=True)
    sampler.start()
    cpu0 = _cpu()
    t = time.perf_counter()
    r = partition(comm, bld, streets=st, compounds=cmp, n_jobs=jobs, seed=seed)
    out["gridmap_s"] = round(time.perf_counter() - t, 2)
    stop.set()
    sampler.join()
    out["gridmap_cpu_s"] = round(_cpu() - cpu0 - peak[2], 1)
    out["peak_rss_mb"], out["peak_pss_mb"] = round(peak[0]), round(peak[1])
    out["before_partition_mb"] = round(base)
    quality = _plan_quality(r, bld)
    out["gridmap_compounds_split"] = quality.pop("compounds_split")
    out |= quality
    if not peers:
        return out
    out.update(_gerrychain_district(comm, bld, seed))
    out["ratio"] = round(out["gridmap_s"] / out["gerrychain_s"], 2)
    out["cpu_ratio"] = round(out["gridmap_cpu_s"] / max(out["gerrychain_cpu_s"], 0.1), 2)
    return out


def _gerrychain_district(comm, bld, seed: int) -> dict:
    seconds, cpu, failed, grids = 0.0, 0.0, 0, 0
    assigned: dict[str, str] = {}
    for code in comm["community_code"]:
        mine = bld[bld["community_code"] == code].reset_index(drop=True)
        one = comm[comm["community_code"] == code]
        if mine["households"].sum() < 2 * LO:  # one grid (or none): nothing to cut
            grids += int(len(mine) > 0)
            assigned |= dict.fromkeys(mine["building_id"], code)
            continue
        tess, graph = _plain_tess(one, mine)
        res = run_gerrychain(tess, graph, mine, None, seed)
        seconds, cpu = seconds + res["seconds"], cpu + res.pop("_cpu")
        if "failed" in res:
            failed += 1
            continue
        grids += res["grids"]
        for b, lab in zip(mine["building_id"], res.pop("_labels"), strict=True):
            assigned[b] = f"{code}-{lab}"
    split, _ = _compounds_split(bld, [assigned.get(b) for b in bld["building_id"]])
    return {"gerrychain_s": round(seconds, 2), "gerrychain_cpu_s": round(cpu, 1),
            "gerrychain_failed": failed,
            "gerrychain_grids": grids, "gerrychain_compounds_split": split}  # fmt: skip


_STEPS = {  # step: its functions (module, name); a call inside another of its step is not timed
    "tessellation": [("gridmap.plans.partition", "tessellate")],
    "cell graph": [("gridmap.plans.partition", "cell_graph")],
    "search": [("gridmap.plans.partition", "plan_group"),
               ("gridmap.plans.partition", "_merge_unbalanced")],
    "· merges of unbalanced groups": [("gridmap.plans.partition", "_merge_unbalanced")],
    "· cells of built blocks": [("gridmap.geometry.cells", "_cells")],
    "· footprint claim": [("gridmap.geometry.cells", "_claim_footprints")],
    "· open ground": [("gridmap.geometry.cells", "_empty_pieces")],
    "· faces": [("gridmap.geometry.cells", "_faces")],
}  # fmt: skip


def district_profile(scale: float, seed: int, cprofile: Path | None) -> dict:
    """The whole district planned in this process, CPU seconds per step (see the module doc)."""
    import hashlib
    import importlib

    from geodata.make_district import make_district

    d = make_district(scale=scale)
    spent = dict.fromkeys(_STEPS, 0.0)
    depth = dict.fromkeys(_STEPS, 0)

    def timed(step, fn):
        def wrapper(*a, **k):
            depth[step] += 1
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                depth[step] -= 1
                if depth[step] == 0:
                    spent[step] += time.process_time() - t

        return wrapper

    for step, where in _STEPS.items():
        for mod, name in where:
            module = importlib.import_module(mod)
            setattr(module, name, timed(step, getattr(module, name)))
    prof = None
    if cprofile is not None:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t = time.process_time()
    r = partition(d.communities, d.buildings, streets=d.streets, compounds=d.compounds, seed=seed)
    total = time.process_time() - t
    if prof is not None:
        prof.disable()
        prof.dump_stats(str(cprofile))
    out: dict[str, object] = {"scale": scale, "total_cpu_s": round(total, 2)}
    out |= {k: round(v, 2) for k, v in spent.items()}
    out["writing and the rest"] = round(
        total - spent["tessellation"] - spent["cell graph"] - spent["search"], 2
    )
    quality = _plan_quality(r, d.buildings)
    del quality["compounds_le_500"]
    out |= quality
    grid_of = dict(zip(r.assignments.building_id, r.assignments.grid_code, strict=True))
    text = "\n".join(f"{k},{grid_of[k]}" for k in sorted(grid_of))
    out["digest"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return out


def district_files(
    scales, jobs: int, seed: int, folder: Path, suffixes: tuple[str, ...] = (".geojson",)
) -> pd.DataFrame:
    """``gridmap partition`` on each district's files, once per plan file format in
    ``suffixes``: wall, CPU and peak memory of the command, and the CPU of its write step alone
    (:func:`_write_step_cpu`)."""
    from geodata.make_district import make_district

    rows = []
    for scale in scales:
        here = folder / f"scale_{scale:g}"
        here.mkdir(parents=True, exist_ok=True)
        d = make_district(scale=scale)
        paths = {}
        for name, frame in d.layers().items():
            paths[name] = here / f"{name}.gpkg"
            if not paths[name].exists():
                frame.to_file(paths[name], driver="GPKG")
        n_bld, n_hh = len(d.buildings), int(d.buildings["households"].sum())
        del d, frame
        for suffix in suffixes:
            row = _partition_files(paths, here, suffix, jobs, seed)
            rows.append({"scale": scale, "out": f"grids{suffix}", "buildings": n_bld,
                         "households": n_hh, "jobs": jobs} | row)  # fmt: skip
            rows[-1]["pss_kb_per_building"] = round(row["peak_pss_mb"] * 1024 / n_bld, 1)
        print(f"scale {scale}: done", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def _partition_files(paths: dict, here: Path, suffix: str, jobs: int, seed: int) -> dict:
    """Run ``gridmap partition --out grids<suffix>`` (the assignments in the GeoPackage itself
    for ``.gpkg``, else ``assignments.csv``) on ``paths``: its figures."""
    import geopandas as gpd
    import psutil

    out = here / f"grids{suffix}"
    assignments = out if suffix == ".gpkg" else here / "assignments.csv"
    cmd = [str(Path(sys.executable).with_name("gridmap")), "partition", "--lang", "en",
           "--communities", str(paths["communities"]), "--buildings", str(paths["buildings"]),
           "--streets", str(paths["streets"]), "--compounds", str(paths["compounds"]),
           "--out", str(out), "--assignments", str(assignments),
           "--jobs", str(jobs), "--seed", str(seed)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # stderr to a file, read only if the command failed: a pipe nobody reads while the
    # command runs would stop it once full
    with tempfile.TemporaryFile() as errors:
        proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
        rss = pss = 0.0
        sampler_cpu = time.process_time()
        while proc.poll() is None:
            r = p = 0.0
            for one in [proc, *proc.children(recursive=True)]:
                got = _rollup(one.pid)
                r, p = r + got[0], p + got[1]
            rss, pss = max(rss, r), max(pss, p)
            time.sleep(0.1)
        sampler_cpu = time.process_time() - sampler_cpu
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            errors.seek(0)
            raise RuntimeError(errors.read().decode()[-2000:] or "failed")
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
    if suffix == ".parquet":  # GDAL's Parquet driver may lack its libraries; geopandas' not
        g = gpd.read_parquet(out)
    else:
        g = gpd.read_file(out, layer="grids" if suffix == ".gpkg" else None)
    if suffix == ".shp":  # the Shapefile's short field names back to the full ones
        from gridmap.io.headers import SHAPEFILE_FIELDS

        g = g.rename(columns={v: k for k, v in SHAPEFILE_FIELDS.items()})
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 1), "peak_rss_mb": round(rss),
            "peak_pss_mb": round(pss), "grids": len(g), "in_bounds": _in_bounds(g),
            "write_step_cpu_s": _write_step_cpu(g, assignments, here, suffix),
            "sampler_cpu_s": round(sampler_cpu, 1)}  # fmt: skip


def _write_step_cpu(grids, assignments: Path, here: Path, suffix: str, repeat: int = 3) -> float:
    """CPU seconds (median of ``repeat``) of the command's write step alone
    (:func:`service.commands.planfiles.write_plan`: grids snapped to lon/lat, the file, the
    assignments) on the grids it wrote, into a scratch file of the same format."""
    import pyogrio

    from service.commands.planfiles import write_plan

    if assignments.suffix == ".gpkg":
        pairs = pyogrio.read_dataframe(assignments, layer="assignments")
    else:
        pairs = pd.read_csv(assignments, dtype=str)
    scratch = here / "write_step"
    scratch.mkdir(exist_ok=True)
    out = scratch / f"grids{suffix}"
    again = out if suffix == ".gpkg" else scratch / "assignments.csv"
    columns = [c for c in grids.columns if c != "geometry"]
    spent = []
    for _ in range(repeat):
        cpu = time.process_time()
        write_plan(grids, columns, pairs, out=out, assignments_out=again)
        spent.append(time.process_time() - cpu)
    return round(float(np.median(spent)), 3)


def _rollup(pid: int) -> tuple[float, float]:
    """RSS and PSS of a process in MB from ``/proc/PID/smaps_rollup`` (0 once it has ended).

    Reading the full ``smaps`` of the workers every 20 ms (psutil's ``memory_full_info``) took
    a third of one of the 2 cores the command runs on, and the rollup every 20 ms still did.
    """
    out = {"Rss:": 0.0, "Pss:": 0.0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, *rest = line.split()
            if key in out:
                out[key] = int(rest[0]) / 1024
    return out["Rss:"], out["Pss:"]


def _cpu() -> float:
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _rss_now() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def district(scales, jobs: int, seed: int, peers: bool = True) -> pd.DataFrame:
    """Each scale in a fresh interpreter, so peaks and pools do not carry over."""
    rows = []
    for scale in scales:
        cmd = [sys.executable, "-W", "ignore", __file__, "--district-one", str(scale),
               "--jobs", str(jobs), "--seed", str(seed)]  # fmt: skip
        cmd += [] if peers else ["--no-peers"]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"scale {scale}: done", file=sys.stderr, flush=True)  # the table comes at the end
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--spopt", nargs="*", default=[], help="cases for spopt, e.g. seed1 seed2 (minutes each)"
    )
    parser.add_argument("--cpsat-seconds", type=float, default=60.0)
    parser.add_argument("--small-seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=RESULTS / "partition_peers.json")
    parser.add_argument("--district", type=float, nargs="*", help="scales of whole districts")
    parser.add_argument("--district-one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=2, help="gridmap processes (districts)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-peers", action="store_true", help="districts: gridmap only")
    parser.add_argument("--district-profile", type=float, help="one scale, one process, steps")
    parser.add_argument("--cprofile", type=Path, help="with --district-profile: cProfile file")
    parser.add_argument(
        "--district-files", type=float, nargs="*", help="scales: gridmap partition on files"
    )
    parser.add_argument(
        "--folder", type=Path, default=RESULTS / "district_files", help="--district-files data"
    )
    parser.add_argument(
        "--plan-files", nargs="+", default=[".geojson"], help="--district-files: --out suffixes"
    )
    parser.add_argument("--smoke", action="store_true", help="one small case, 5 s of CP-SAT")
    args = parser.parse_args()
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    if args.smoke:  # every installed method on one small case; nothing written
        from importlib.util import find_spec

        cpsat = 5.0 if find_spec("ortools") else 0.0
        print(
            small([1], cpsat, gerrychain=find_spec("gerrychain") is not None).to_string(index=False)
        )
        with tempfile.TemporaryDirectory() as tmp:  # not a folder left where it was run
            files = district_files([0.1], 2, 0, Path(tmp), (".geojson", ".gpkg"))
            print(files.to_string(index=False))
        return
    if args.district_files:
        print(
            district_files(
                args.district_files, args.jobs, args.seed, args.folder, tuple(args.plan_files)
            ).to_string(index=False)
        )
        return
    if args.district_profile is not None:
        found = district_profile(args.district_profile, args.seed, args.cprofile)
        print("\n".join(f"{k}: {v}" for k, v in found.items()))
        return
    if args.district_one is not None:
        print(json.dumps(district_one(args.district_one, args.jobs, args.seed, not args.no_peers)))
        return
    if args.district:
        rows = district(args.district, args.jobs, args.seed, not args.no_peers)
        print(rows.to_string(index=False))
        out = args.out.with_name("partition_district.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows.to_dict("records"), indent=1))
        return
    big = realistic(args.seeds, set(args.spopt))
    print(big.to_string(index=False))
    print()
    little = small(args.small_seeds, args.cpsat_seconds)
    print(little.to_string(index=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"realistic": big.to_dict("records"), "small": little.to_dict("records")},
            indent=1,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
