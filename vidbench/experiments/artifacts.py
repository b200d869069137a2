"""Build or reuse a cell's prerequisites: image generator, PCA basis, motion run.

Each artefact lives in a folder named by its content key (:mod:`vidbench.experiments.cells`)
and is finished when its completion file exists (``generator.json`` of an image run,
``pca.json`` of a PCA folder, ``complete.json`` of a motion run). A folder with a training
checkpoint but no completion file is an interrupted run and is resumed. Work on one artefact
is serialised with an exclusive ``fcntl.flock`` on ``<folder>.lock``, so shards running on
several machines over a shared file system build each artefact once and the others wait and
reuse it.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from vidbench.experiments.cells import ImagePlan, PCAPlan

MOTION_DONE = "complete.json"
KEY_FILE = "experiment-key.json"


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<folder>.lock`` for the block."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(folder) + ".lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_key(folder: Path, key: str, what: dict[str, Any]) -> None:
    from vidbench.utils.fileio import atomic_write_text

    atomic_write_text(folder / KEY_FILE, json.dumps({"key": key, **what}, indent=1,
                                                    default=str) + "\n")


def ensure_image(plan: ImagePlan, *, device: str = "cpu", progress: bool = True,
                 log: Callable[[str], None] = print) -> tuple[Path, bool]:
    """(generator file, reused?) of an image slot: the given file, or a trained run."""
    from vidbench.train.image import CHECKPOINT, train_image
    from vidbench.train.image_generator import RUN_GENERATOR, RUN_GENERATOR_JSON

    if plan.file is not None:
        return Path(plan.file), True
    with locked(plan.dir):
        if (plan.dir / RUN_GENERATOR_JSON).is_file():
            return plan.dir / RUN_GENERATOR, True
        resume = (plan.dir / CHECKPOINT).is_file()
        log(f"{'resume' if resume else 'train'} image generator {plan.slot} "
            f"({plan.config.size}², {plan.config.steps} steps) in {plan.dir}")
        path = train_image(plan.config, plan.dir, resume=resume, progress=progress,
                           device=device)
        _write_key(plan.dir, plan.key, {"slot": plan.slot})
        return path, False


def ensure_pca(plan: PCAPlan, generator: Path, *, device: str = "cpu", progress: bool = True,
               log: Callable[[str], None] = print) -> tuple[Path, bool]:
    """(PCA folder, reused?) of ``generator``."""
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import PCA_META, compute_pca, save_pca

    with locked(plan.dir):
        if (plan.dir / PCA_META).is_file():
            return plan.dir, True
        log(f"PCA of {plan.num_samples} latents in {plan.dir}")
        loaded = load_image_generator(generator, device=device)
        result = compute_pca(loaded.adapter, plan.num_samples, seed=plan.seed,
                             batch_size=min(4000, plan.num_samples), progress=progress)
        save_pca(result, plan.dir, {"generator": loaded.describe(), "seed": plan.seed,
                                    "experiment_key": plan.key})
        return plan.dir, False


def ensure_motion(cfg, run_dir: Path, key: str, *, progress: bool = True,
                  log: Callable[[str], None] = print) -> tuple[Path, bool]:
    """(motion run folder, reused?) for ``cfg`` (generator and PCA paths filled in)."""
    from vidbench.train.checkpoint import LATEST
    from vidbench.utils.fileio import atomic_write_text
    from vidbench.train.motion import train_motion

    with locked(run_dir):
        if (run_dir / MOTION_DONE).is_file():
            return run_dir, True
        resume = (run_dir / LATEST).is_file()
        total = cfg.steps if cfg.steps is not None else f"{cfg.epochs} epochs of"
        log(f"{'resume' if resume else 'train'} motion generator ({total} steps) in {run_dir}")
        summary = train_motion(cfg, run_dir, resume=resume, progress=progress)
        _write_key(run_dir, key, {})
        atomic_write_text(run_dir / MOTION_DONE, json.dumps(
            {"key": key, "step": summary["step"], "motion_sha256": summary["motion_sha256"],
             "losses": summary["losses"]}, indent=1) + "\n")
        return run_dir, False
