"""Run an experiment: plan its cells, skip the finished ones, build, sample, score, append.

The flow of one cell (:mod:`vidbench.experiments.cells` for the keys): the image generator of
its slot is trained or reused, its PCA basis computed or reused, the motion generator trained,
resumed or reused, then every result line the cell still lacks is computed
(:mod:`vidbench.experiments.scoring`) and appended to the results store
(:func:`vidbench.evaluation.records.append_result`, atomic, one line per number). A result line is
*done* when the store holds a line with its ``cell_key``; a metric that was skipped (missing
weights) writes no line, is recorded with its reason in the report and in
``WORK/cells/<cell key>.json``, and is tried again next time. ``shard=(i, n)`` runs cells
``i, i + n, …`` of the planned list, so n cluster jobs cover every cell once and meet in one
store; ``dry_run`` returns the plan (cells, configs, keys, what is done, the stage graph of
:mod:`vidbench.experiments.stages`, data not yet on disk) and computes nothing.

This is the local launcher: one process (or the ranks of one ``torchrun`` group, which train
each cell together: rank 0 decides, writes the artefacts' completion files and appends the
result lines once) runs the cells in order. :mod:`vidbench.experiments.launch` submits the same
stages to Slurm.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Mapping

from vidbench.experiments.build import (RESULTS_DIR, build_cell, default_results,  # noqa: F401
                                        default_work, done_keys, evaluate_and_record,
                                        write_cell_status)
from vidbench.experiments.cells import Cell, shard_cells
from vidbench.experiments.scales import Scale
from vidbench.utils.errors import VidbenchError

REPORT_FORMAT = "vidbench-experiment-run/1"


def _real_cache_key(cell: Cell, protocol: str, scale: Scale, root: str | None) -> str:
    """The FVD reference-statistics cache key of the cell's real clips (``"unavailable: …"``
    when it cannot be formed, e.g. the I3D weights are missing)."""
    from vidbench.metrics.registry import build_extractor
    from vidbench.metrics.protocols import get_protocol
    from vidbench.utils.errors import VidbenchError
    from vidbench.evaluation.draws import draw_seed, open_drawn_source, select_clips
    from vidbench.evaluation.reference import reference_key

    try:
        proto = get_protocol(protocol)
        real = open_drawn_source(cell.data_spec, proto.real, seed=scale.eval_seed, root=root)
        real = select_clips(real, scale.num_real or proto.real.num, proto.real,
                            seed=scale.eval_seed, role="real")
        extractor = build_extractor(proto.extractor, **proto.extractor_kwargs())
        return reference_key(real, extractor, proto, draw_seed(proto.real, scale.eval_seed))[0]
    except VidbenchError as exc:
        return f"unavailable: {exc}"


def describe_cell(cell: Cell, done: set[str], shard: int, scale: Scale,
                  root: str | None, device: str = "cpu") -> dict[str, Any]:
    """What the dry run prints for one cell (configs with the device they will run on)."""
    from vidbench.experiments.artifacts import MOTION_DONE
    from vidbench.train.pca import PCA_META
    from vidbench.train.image_generator import RUN_GENERATOR_JSON

    out: dict[str, Any] = {
        "cell": cell.id, "key": cell.key, "shard": shard, "row": cell.row.key,
        "kind": cell.row.kind, "seed": cell.seed, "data": cell.data_spec,
        "data_fingerprint": cell.data_fingerprint, "model_key": cell.model_key,
        "status": "done" if all(r.key in done for r in cell.results) else (
            "partial" if any(r.key in done for r in cell.results) else "todo"),
        "results": [{"cell": r.cell, "metric": r.metric, "protocol": r.protocol,
                     "counts": dict(r.counts), "key": r.key, "done": r.key in done}
                    for r in cell.results]}
    if cell.row.kind == "source":
        out["source"] = cell.row.source
    if cell.motion is not None:
        out["image"] = {**cell.image.describe(), "device": device, "exists": (cell.image.dir / RUN_GENERATOR_JSON)
                        .is_file() if cell.image.file is None else True}
        out["pca"] = {"key": cell.pca.key, "dir": str(cell.pca.dir),
                      "num_samples": cell.pca.num_samples,
                      "exists": (cell.pca.dir / PCA_META).is_file()}
        out["motion"] = {"dir": str(cell.motion_dir),
                         "config": {**cell.motion.to_dict(), "device": device},
                         "exists": (cell.motion_dir / MOTION_DONE).is_file()}
    fvd = sorted({r.protocol for r in cell.results if r.metric == "fvd"})
    if fvd:
        out["fvd_real_stats_cache_keys"] = {p: _real_cache_key(cell, p, scale, root) for p in fvd}
    return out


def run_experiment(
    name: str,                                  # ablation | benchmark | prediction | ...
    dataset: str = "shapes",                    # data set name or source spec
    *,
    preset: str = "tiny",                       # experiments.scales.SCALES
    settings: Mapping[str, Any] | None = None,  # scale overrides (scales.scale_with)
    root: str | None = None,                    # data set root for data set names
    work_dir: str | Path | None = None,         # artefacts (default $VIDBENCH_HOME/runs)
    results: str | Path | None = None,          # results store (default results/NAME.jsonl)
    rows: tuple[str, ...] | None = None,        # only these rows
    seeds: tuple[int, ...] | None = None,       # training seeds (default: the spec's)
    methods: Mapping[str, str] | None = None,   # benchmark: extra rows from clip sources
    generators: Mapping[str, str] | None = None,  # image slot -> given generator file
    shard: tuple[int, int] = (0, 1),            # run cells i, i+n, ... of the plan
    dry_run: bool = False,                      # plan only
    device: str = "cpu",
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run (or plan) an experiment; returns a report, one JSON-able object: ``experiment``,
    ``dataset``, ``preset``, ``table`` (the ``vidbench table`` name that renders it),
    ``results`` and ``work`` (paths), ``shard``, ``num_cells``, ``num_in_shard``,
    ``problems`` (unreadable lines of the results store), ``appended`` (lines written),
    ``seconds`` and ``cells``: per cell its ``cell`` id, ``key``, ``status`` (``done``,
    ``incomplete``: a metric was skipped, ``done before``), ``metrics`` (``status`` ``ok``
    with ``value`` and ``overrides``, or ``skipped`` with ``reason``) and ``built`` (the
    image generator, PCA and motion run with their keys, paths and whether each was reused).
    With ``dry_run`` the cells are the plan (:func:`describe_cell`) and nothing is computed
    or written."""
    from vidbench.experiments.stages import plan_experiment, plan_stages
    from vidbench.utils.distributed import dist_info

    t0 = time.time()
    exp = plan_experiment(name, dataset, preset=preset, settings=settings, root=root,
                          work_dir=work_dir, results=results, rows=rows, seeds=seeds,
                          methods=methods, generators=generators, allow_missing_data=dry_run)
    spec, scale, work, store, cells = exp.spec, exp.scale, exp.work, exp.store, exp.cells
    rank, world = dist_info()
    if world > 1 and shard != (0, 1):
        raise VidbenchError(f"--shard {shard[0]}/{shard[1]} under torchrun: the {world} ranks "
                            "train each cell together; drop --shard (or run shards as "
                            "separate jobs without torchrun)")
    mine = shard_cells(cells, shard)
    done, problems = done_keys(store)
    report: dict[str, Any] = {
        "format": REPORT_FORMAT, "experiment": spec.name, "title": spec.title,
        "table": spec.table, "dataset": dataset, "preset": scale.name,
        "settings": dict(settings or {}), "results": str(store), "work": str(work),
        "shard": f"{shard[0]}/{shard[1]}", "num_cells": len(cells), "num_in_shard": len(mine),
        "problems": problems, "dry_run": dry_run, "device": device, "world_size": world}
    if dry_run:
        report["scale"] = scale.describe()
        report["missing_data"] = exp.missing
        report["stages"] = [s.describe() for s in plan_stages(exp, done)]
        report["cells"] = [describe_cell(c, done, cells.index(c) % shard[1], scale, root,
                                         device) for c in mine]
        return report
    log(f"{spec.name} on {dataset}: {len(mine)} cell(s), rank {rank} of world size {world}, "
        f"device {device}")
    report["cells"], appended = [], 0
    for cell in mine:
        if all(r.key in done for r in cell.results):
            report["cells"].append({"cell": cell.id, "key": cell.key, "metrics": [],
                                    "status": "done before"})
            log(f"{cell.id}: done before, skipped")
            continue
        log(f"{cell.id}: {sum(r.key not in done for r in cell.results)} result(s) to compute")
        built = build_cell(cell, device=device, progress=progress, log=log) \
            if cell.row.kind == "train" else {}
        entry, n = evaluate_and_record(exp, cell, done, built, device=device, progress=progress,
                                       log=log)
        report["cells"].append(entry)
        appended += n
    report["appended"] = appended
    report["seconds"] = round(time.time() - t0, 3)
    return report


def run_ablation(dataset: str = "shapes", **kwargs: Any) -> dict[str, Any]:
    """Tab. 5's UCF-101 ablation (w/o Eqn. 2, w/o D_I, w/o D_V, Full-128, Full-256) on
    ``dataset``: :func:`run_experiment` ``("ablation", dataset, **kwargs)``."""
    return run_experiment("ablation", dataset, **kwargs)


def run_benchmark(dataset: str = "shapes", **kwargs: Any) -> dict[str, Any]:
    """Tab. 2 / Tab. 3 rows of ``dataset`` (Ours; GT on FaceForensics; ``methods=`` adds
    given clips): :func:`run_experiment` ``("benchmark", dataset, **kwargs)``."""
    return run_experiment("benchmark", dataset, **kwargs)


def run_prediction_experiment(dataset: str = "shapes", **kwargs: Any) -> dict[str, Any]:
    """Tab. 3's video prediction (PSNR/SSIM of Ours and Up-B):
    :func:`run_experiment` ``("prediction", dataset, **kwargs)``."""
    return run_experiment("prediction", dataset, **kwargs)


def run_cross_domain(dataset: str = "shapes", **kwargs: Any) -> dict[str, Any]:
    """Tab. 5's cross-domain ablation (ACD) with the motion diversity of each variant:
    :func:`run_experiment` ``("cross-domain", dataset, **kwargs)``."""
    return run_experiment("cross-domain", dataset, **kwargs)


def run_diversity(dataset: str = "shapes", **kwargs: Any) -> dict[str, Any]:
    """App. D's motion diversity, Full vs w/o L_mi: :func:`run_experiment`
    ``("diversity", dataset, **kwargs)``."""
    return run_experiment("diversity", dataset, **kwargs)


__all__ = ["run_experiment", "run_ablation", "run_benchmark", "run_prediction_experiment",
           "run_cross_domain", "run_diversity", "default_results", "default_work", "done_keys"]
