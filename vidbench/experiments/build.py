"""What every launcher does with one cell: where results and artefacts go by default, which
result lines are done, building a cell's model (image generator, PCA, motion run) and scoring
and recording the result lines it lacks (:mod:`vidbench.experiments.runner` runs cells locally,
:mod:`vidbench.experiments.stages` runs them as stages)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from vidbench.evaluation import records as R
from vidbench.experiments.cells import Cell
from vidbench.experiments.scales import Scale

RESULTS_DIR = Path("results")


def default_results(experiment: str) -> Path:
    return RESULTS_DIR / f"{experiment}.jsonl"


def default_work() -> Path:
    from vidbench.utils.paths import home

    return home() / "runs"


def done_keys(results: Path) -> tuple[set[str], list[str]]:
    """``cell_key`` of every line of ``results`` (none when absent) and the unread lines."""
    if not results.exists():
        return set(), []
    records, problems = R.read_results(results)
    return {r["cell_key"] for r in records if isinstance(r.get("cell_key"), str)}, \
        [str(p) for p in problems]


def write_cell_status(work: Path, cell: Cell, entry: dict[str, Any], metric: str = "") -> Path:
    """``WORK/cells/<key>.json`` (``<key>-<metric>.json`` for one metric's ``eval`` stage):
    what the last run of a cell did, skipped metrics and their reasons included (they write
    no result line)."""
    import json

    from vidbench.experiments.cells import cell_status_file
    from vidbench.utils.fileio import atomic_write_text
    from vidbench.utils.provenance import provenance

    path = cell_status_file(work, cell, metric)
    atomic_write_text(path, json.dumps({"key": cell.key, **entry, **provenance()}, indent=1,
                                       default=str) + "\n")
    return path


def build_cell(cell: Cell, *, device: str, progress: bool, log: Callable[[str], None],
               lock: bool = True, stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Image generator, PCA and motion run of a trained cell (built or reused); what was
    reused. ``lock`` and ``stop``: :mod:`vidbench.experiments.artifacts`."""
    from vidbench.train.motion_config import with_overrides
    from vidbench.experiments.artifacts import ensure_image, ensure_motion, ensure_pca

    generator, image_reused = ensure_image(cell.image, device=device, progress=progress,
                                           log=log, lock=lock, stop=stop)
    pca, pca_reused = ensure_pca(cell.pca, generator, device=device, progress=progress, log=log,
                                 lock=lock)
    cfg = with_overrides(cell.motion, {"generator": str(Path(generator).resolve()),
                                       "pca": str(Path(pca).resolve()), "device": device})
    _, motion_reused = ensure_motion(cfg, cell.motion_dir, cell.model_key, progress=progress,
                                     log=log, lock=lock, stop=stop)
    return {"image": {"key": cell.image.key, "file": str(generator), "reused": image_reused},
            "pca": {"key": cell.pca.key, "dir": str(pca), "reused": pca_reused},
            "motion": {"key": cell.model_key, "dir": str(cell.motion_dir),
                       "reused": motion_reused}}


def _record(cell: Cell, plan, rec: dict[str, Any], scale: Scale, built: dict[str, Any],
            device: str) -> dict[str, Any]:
    rec = {k: v for k, v in rec.items() if k != "status"}
    rec.update({R.KEY_EXPERIMENT: cell.experiment, R.KEY_DATASET: cell.dataset,
                cell.row_field: plan.row, R.KEY_CELL: plan.cell, "cell_key": plan.key,
                "train_seed": cell.seed, "preset": scale.name,
                "experiment_scale": scale.describe(),
                "model": {"kind": cell.row.kind, "key": cell.model_key, **built}})
    return R.complete_record(rec, device)


def evaluate_and_record(exp, cell: Cell, done: set[str], built: dict[str, Any], *,
                        device: str, progress: bool, log: Callable[[str], None],
                        metric: str = "") -> tuple[dict[str, Any], int]:
    """Score the result lines ``cell`` lacks (its model built), append them to the store
    (rank 0 of a process group only) and write the cell's status; ``(entry, lines appended)``.
    ``done`` gains the keys written. ``metric``: only that metric's lines (an ``eval`` stage,
    :func:`vidbench.experiments.cells.metric_group`), sampled as when all the cell's
    metrics are scored together, with the status in the metric's own file."""
    from vidbench.experiments.scoring import evaluate_cell
    from vidbench.experiments.cells import metric_groups
    from vidbench.utils.distributed import is_main

    results = metric_groups(cell)[metric] if metric else cell.results
    todo = [r for r in results if r.key not in done]
    entry: dict[str, Any] = {"cell": cell.id, "key": cell.key, "metrics": []}
    if metric:
        entry["metric"] = metric
    appended = 0
    for plan, rec in evaluate_cell(cell, todo, exp.scale, work=exp.work, root=exp.root,
                                   device=device, progress=progress,
                                   sampling=list(cell.results) if metric else None):
        item = {"cell": plan.cell, "metric": plan.metric, "protocol": plan.protocol}
        if rec.get("status") == "skipped":
            entry["metrics"].append({**item, "status": "skipped", "reason": rec["reason"]})
            log(f"  {plan.metric} [{plan.protocol}] skipped: {rec['reason']}")
            continue
        if is_main():
            R.append_result(exp.store, _record(cell, plan, rec, exp.scale, built, device))
            appended += 1
        done.add(plan.key)
        entry["metrics"].append({**item, "status": "ok", "value": rec["value"],
                                 "overrides": rec.get("overrides") or {}})
        log(f"  {plan.metric} [{plan.protocol}] = {rec['value']:.6g}")
    entry["status"] = "done" if all(r.key in done for r in results) else "incomplete"
    entry["built"] = built
    if is_main():
        write_cell_status(exp.work, cell, entry, metric)
    return entry, appended
