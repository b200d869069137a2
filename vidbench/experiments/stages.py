"""An experiment as a graph of stages, planned before anything runs.

The cells of an experiment (:mod:`vidbench.experiments.cells`) share work: every cell of one
image slot needs the same image generator and PCA basis. The graph makes that sharing explicit,
so a launcher can run each piece once and in dependency order:

* ``image/SLOT``: train the slot's image generator (none when ``--generator`` gives a file);
* ``pca/SLOT``: its PCA basis (needs ``image/SLOT``);
* ``motion/ROW/seedS``: train one cell's motion generator (needs ``pca/SLOT``);
* ``eval/ROW/seedS/METRIC``: sample and score one cell under one metric of the experiment
  (``fvd``, ``is``, ``acd``, ``diversity``, ``psnr-ssim``: PSNR and SSIM come from one
  prediction run), append its result lines (needs the cell's ``motion`` stage; cells of given
  clips need nothing). The metrics of a cell are separate stages, so a failed or skipped metric
  does not hold back the others and a re-run redoes only the missing ones. Each draws the
  cell's samples exactly as one evaluation of all its metrics does (same count, seeds and
  uint8 conversion), so the numbers do not depend on how the evaluation was split;
* ``table``: render the experiment's table from the results store (needs every ``eval``).

A stage is *done* when its completion mark exists: ``generator.json``, ``pca.json`` and
``complete.json`` of the artefact folders (each written last, by an atomic rename), every
result key of the cell's metric in the results store (each line appended atomically) or
recorded as skipped (missing weights, with the reason) in ``WORK/cells/<cell key>.json`` (the
local launcher) or ``WORK/cells/<cell key>-<metric>.json`` (an ``eval`` stage), the rendered
table file. (``vidbench run`` without a launcher tries skipped metrics again each time; the
local launcher scores all metrics of a cell in one pass, which shares the reading of the
clips.) :func:`run_stage` runs
one stage in this process (what a Slurm job runs); :func:`run_experiment`
(:mod:`vidbench.experiments.runner`) is the local launcher.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from vidbench.experiments.cells import (Cell, ResultPlan, cell_status_file, metric_group,
                                        metric_groups, plan_cells)
from vidbench.experiments.scales import Scale, scale_with
from vidbench.experiments.specs import ExperimentSpec, experiment_spec
from vidbench.utils.errors import VidbenchError

STAGE_KINDS = ("image", "pca", "motion", "eval", "table")
TRAINING_KINDS = ("image", "motion")     # stages that train, use several GPUs and checkpoint


@dataclass(frozen=True)
class Stage:
    id: str                         # image/high, pca/high, motion/full-256/seed0, eval/..., table
    kind: str                       # one of STAGE_KINDS
    needs: tuple[str, ...]          # ids of the stages it waits for
    writes: tuple[str, ...]         # folders and files it writes (its completion mark first)
    done: bool
    cells: tuple[str, ...] = ()     # ids of the cells it serves
    metric: str = ""                # eval: the metric it scores (metric_group of its lines)

    def describe(self) -> dict[str, Any]:
        out = {"id": self.id, "kind": self.kind, "needs": list(self.needs),
               "writes": list(self.writes), "done": self.done, "cells": list(self.cells)}
        if self.metric:
            out["metric"] = self.metric
        return out


@dataclass
class Experiment:
    """A planned experiment: what :func:`plan_experiment` returns and every stage runs on."""

    spec: ExperimentSpec
    dataset: str
    scale: Scale
    settings: dict[str, Any]
    root: str | None
    work: Path
    store: Path
    cells: list[Cell]
    missing: list[dict[str, str]] = field(default_factory=list)

    def table_file(self) -> Path:
        return self.work / "tables" / f"{self.spec.table}-{self.cells[0].dataset}.txt" \
            if self.cells else self.work / "tables" / f"{self.spec.table}.txt"


def plan_experiment(name: str, dataset: str = "shapes", *, preset: str = "tiny",
                    settings: Mapping[str, Any] | None = None, root: str | None = None,
                    work_dir: str | Path | None = None, results: str | Path | None = None,
                    rows: tuple[str, ...] | None = None, seeds: tuple[int, ...] | None = None,
                    methods: Mapping[str, str] | None = None,
                    generators: Mapping[str, str] | None = None,
                    allow_missing_data: bool = False) -> Experiment:
    """Plan the cells of an experiment (nothing is computed or written). With
    ``allow_missing_data`` data that is not on disk is listed in ``missing`` instead of
    failing the plan."""
    from vidbench.experiments.build import default_results, default_work

    spec = experiment_spec(name, dataset, rows=rows, seeds=seeds, methods=methods)
    scale = scale_with(preset, settings)
    work = Path(work_dir) if work_dir is not None else default_work()
    store = Path(results) if results is not None else default_results(spec.name)
    missing: list[dict[str, str]] | None = [] if allow_missing_data else None
    cells = plan_cells(spec, dataset, scale, work=work, root=root, generators=generators,
                       missing=missing)
    return Experiment(spec, dataset, scale, dict(settings or {}), root, work, store, cells,
                      missing or [])


def _cell_tag(cell: Cell) -> str:
    return f"{cell.row.key}/seed{cell.seed}"


def _skipped(work: Path, cell: Cell) -> set[str]:
    """Result ids the cell's last evaluations skipped (their reasons are in its status files:
    the local launcher's and each ``eval`` stage's)."""
    import json

    out: set[str] = set()
    for path in [cell_status_file(work, cell)] + [cell_status_file(work, cell, m)
                                                  for m in metric_groups(cell)]:
        if path.is_file():
            out |= {m["cell"] for m in json.loads(path.read_text()).get("metrics", [])
                    if m.get("status") == "skipped"}
    return out


def plan_stages(exp: Experiment, done: set[str] | None = None) -> list[Stage]:
    """The stage graph of ``exp`` in dependency order; ``done``: result keys in the store
    (read from it when None)."""
    from vidbench.experiments.artifacts import MOTION_DONE
    from vidbench.experiments.build import done_keys
    from vidbench.train.image_generator import RUN_GENERATOR_JSON
    from vidbench.train.pca import PCA_META

    if done is None:
        done = done_keys(exp.store)[0]
    stages: dict[str, Stage] = {}
    users: dict[str, list[str]] = {}
    for cell in exp.cells:
        if cell.motion is None:
            continue
        slot = cell.image.slot
        users.setdefault(slot, []).append(cell.id)
    for cell in exp.cells:
        needs: tuple[str, ...] = ()
        if cell.motion is not None:
            slot = cell.image.slot
            if cell.image.file is None and f"image/{slot}" not in stages:
                stages[f"image/{slot}"] = Stage(
                    f"image/{slot}", "image", (),
                    (str(cell.image.dir / RUN_GENERATOR_JSON),),
                    (cell.image.dir / RUN_GENERATOR_JSON).is_file(), tuple(users[slot]))
            if f"pca/{slot}" not in stages:
                stages[f"pca/{slot}"] = Stage(
                    f"pca/{slot}", "pca",
                    (f"image/{slot}",) if cell.image.file is None else (),
                    (str(cell.pca.dir / PCA_META),), (cell.pca.dir / PCA_META).is_file(),
                    tuple(users[slot]))
            motion = Stage(f"motion/{_cell_tag(cell)}", "motion", (f"pca/{slot}",),
                           (str(cell.motion_dir / MOTION_DONE),),
                           (cell.motion_dir / MOTION_DONE).is_file(), (cell.id,))
            stages[motion.id] = motion
            needs = (motion.id,)
        skipped = _skipped(exp.work, cell)
        for metric, results in metric_groups(cell).items():
            sid = f"eval/{_cell_tag(cell)}/{metric}"
            stages[sid] = Stage(
                sid, "eval", needs, (str(exp.store), str(cell_status_file(exp.work, cell,
                                                                            metric))),
                all(r.key in done or r.cell in skipped for r in results), (cell.id,), metric)
    evals = tuple(s.id for s in stages.values() if s.kind == "eval")
    table = exp.table_file()
    stages["table"] = Stage("table", "table", evals, (str(table),),
                            table.is_file() and all(stages[e].done for e in evals),
                            tuple(c.id for c in exp.cells))
    return list(stages.values())


def stage_by_id(stages: list[Stage], stage_id: str) -> Stage:
    for stage in stages:
        if stage.id == stage_id:
            return stage
    raise VidbenchError(f"no stage {stage_id!r}; the stages are: "
                        f"{', '.join(s.id for s in stages)}")


def _cell_of(exp: Experiment, stage: Stage) -> Cell:
    return next(c for c in exp.cells if c.id == stage.cells[0])


def run_stage(exp: Experiment, stage_id: str, *, device: str = "cpu", progress: bool = False,
              lock: bool = True, stop: Callable[[], bool] | None = None,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run one stage of ``exp`` in this process (its prerequisites must be done); returns
    what it did. ``lock=False`` builds without ``fcntl`` locks (a scheduler orders the
    stages); ``stop``: asked after every training step, True makes training checkpoint and
    raise :class:`vidbench.train.checkpoint.TrainingInterrupted`."""
    from vidbench.experiments import artifacts as A

    stages = plan_stages(exp)
    stage = stage_by_id(stages, stage_id)
    unmet = [s for s in stage.needs if not stage_by_id(stages, s).done]
    if unmet:
        raise VidbenchError(f"stage {stage_id}: needs {', '.join(unmet)} first (not done)")
    if stage.kind == "table":
        return _render_table(exp)
    cell = _cell_of(exp, stage)
    if stage.kind == "image":
        path, reused = A.ensure_image(cell.image, device=device, progress=progress, log=log,
                                      lock=lock, stop=stop)
        return {"stage": stage_id, "file": str(path), "reused": reused}
    if stage.kind == "pca":
        generator, _ = A.ensure_image(cell.image, device=device, progress=progress, log=log,
                                      lock=lock)
        path, reused = A.ensure_pca(cell.pca, generator, device=device, progress=progress,
                                    log=log, lock=lock)
        return {"stage": stage_id, "dir": str(path), "reused": reused}
    from vidbench.experiments.build import build_cell, evaluate_and_record

    if stage.kind == "motion":
        built = build_cell(cell, device=device, progress=progress, log=log, lock=lock,
                           stop=stop)
        return {"stage": stage_id, **built["motion"]}
    built = build_cell(cell, device=device, progress=progress, log=log, lock=lock) \
        if cell.row.kind == "train" else {}
    from vidbench.experiments.build import done_keys

    entry, appended = evaluate_and_record(exp, cell, done_keys(exp.store)[0], built,
                                          device=device, progress=progress, log=log,
                                          metric=stage.metric)
    return {"stage": stage_id, "appended": appended, **entry}


def _render_table(exp: Experiment) -> dict[str, Any]:
    from vidbench.evaluation.records import read_results
    from vidbench.report.tables import build_table, render_text
    from vidbench.utils.fileio import atomic_write_text

    records, _ = read_results(exp.store)
    out = exp.table_file()
    atomic_write_text(out, render_text(build_table(exp.spec.table, records,
                                                   dataset=exp.cells[0].dataset)))
    return {"stage": "table", "file": str(out)}
