"""Build or reuse a cell's prerequisites: image generator, PCA basis, motion run.

Each artefact lives in a folder named by its content key (:mod:`vidbench.experiments.cells`)
and is finished when its completion file exists (``generator.json`` of an image run,
``pca.json`` of a PCA folder, ``complete.json`` of a motion run). A folder with a training
checkpoint but no completion file is an interrupted run and is resumed. Work on one artefact
is serialised with an exclusive ``fcntl.flock`` on ``<folder>.lock``, so shards running on
several machines over a shared file system build each artefact once and the others wait and
reuse it; ``lock=False`` skips the lock where a scheduler already orders the work (Slurm
stages with ``afterok`` dependencies: ``flock`` is off on some cluster file systems).

Inside a ``torch.distributed`` group (``torchrun``) every rank calls these functions: rank 0
decides whether to build or reuse, all ranks train together (the data-parallel training of
:mod:`vidbench.train`), only rank 0 takes the lock and writes the completion files, and the
group waits for it before going on.
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
def locked(folder: Path, lock: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on ``<folder>.lock`` for the block (rank 0 of a process group
    only; nothing with ``lock=False``)."""
    from vidbench.utils.distributed import is_main

    if not lock or not is_main():
        yield
        return
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


def _state(folder: Path, done: str, checkpoint: str) -> tuple[bool, bool]:
    """(done?, resume?) of an artefact folder, as rank 0 of the group sees it."""
    from vidbench.utils.distributed import broadcast_decision, is_main

    mine = ((folder / done).is_file(), (folder / checkpoint).is_file()) if is_main() else None
    return tuple(broadcast_decision(mine))


def ensure_image(plan: ImagePlan, *, device: str = "cpu", progress: bool = True,
                 log: Callable[[str], None] = print, lock: bool = True,
                 stop: Callable[[], bool] | None = None) -> tuple[Path, bool]:
    """(generator file, reused?) of an image slot: the given file, or a trained run."""
    from vidbench.train.image import CHECKPOINT, train_image
    from vidbench.train.image_generator import RUN_GENERATOR, RUN_GENERATOR_JSON
    from vidbench.utils.distributed import barrier, is_main

    if plan.file is not None:
        return Path(plan.file), True
    with locked(plan.dir, lock):
        done, resume = _state(plan.dir, RUN_GENERATOR_JSON, CHECKPOINT)
        if done:
            return plan.dir / RUN_GENERATOR, True
        log(f"{'resume' if resume else 'train'} image generator {plan.slot} "
            f"({plan.config.size}², {plan.config.steps} steps) in {plan.dir}")
        path = train_image(plan.config, plan.dir, resume=resume, progress=progress,
                           device=device, stop=stop)
        if is_main():
            _write_key(plan.dir, plan.key, {"slot": plan.slot})
        barrier()
        return path, False


def ensure_pca(plan: PCAPlan, generator: Path, *, device: str = "cpu", progress: bool = True,
               log: Callable[[str], None] = print, lock: bool = True) -> tuple[Path, bool]:
    """(PCA folder, reused?) of ``generator`` (computed by rank 0 of a process group)."""
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import PCA_META, compute_pca, save_pca
    from vidbench.utils.distributed import barrier, broadcast_decision, is_main

    if broadcast_decision((plan.dir / PCA_META).is_file() if is_main() else None):
        return plan.dir, True
    if not is_main():
        barrier()
        return plan.dir, False
    with locked(plan.dir, lock):
        if (plan.dir / PCA_META).is_file():
            barrier()
            return plan.dir, True
        log(f"PCA of {plan.num_samples} latents in {plan.dir}")
        loaded = load_image_generator(generator, device=device)
        result = compute_pca(loaded.adapter, plan.num_samples, seed=plan.seed,
                             batch_size=min(4000, plan.num_samples), progress=progress)
        save_pca(result, plan.dir, {"generator": loaded.describe(), "seed": plan.seed,
                                    "experiment_key": plan.key})
    barrier()
    return plan.dir, False


def ensure_motion(cfg, run_dir: Path, key: str, *, progress: bool = True,
                  log: Callable[[str], None] = print, lock: bool = True,
                  stop: Callable[[], bool] | None = None) -> tuple[Path, bool]:
    """(motion run folder, reused?) for ``cfg`` (generator and PCA paths filled in)."""
    from vidbench.train.checkpoint import LATEST
    from vidbench.utils.distributed import barrier, dist_info, is_main
    from vidbench.utils.fileio import atomic_write_text
    from vidbench.train.motion import train_motion

    with locked(run_dir, lock):
        done, resume = _state(run_dir, MOTION_DONE, LATEST)
        if done:
            return run_dir, True
        total = cfg.steps if cfg.steps is not None else f"{cfg.epochs} epochs of"
        log(f"{'resume' if resume else 'train'} motion generator ({total} steps, world size "
            f"{dist_info()[1]}) in {run_dir}")
        summary = train_motion(cfg, run_dir, resume=resume, progress=progress, stop=stop)
        if is_main():
            _write_key(run_dir, key, {})
            atomic_write_text(run_dir / MOTION_DONE, json.dumps(
                {"key": key, "step": summary["step"], "world_size": dist_info()[1],
                 "motion_sha256": summary["motion_sha256"], "losses": summary["losses"]},
                indent=1) + "\n")
        barrier()
        return run_dir, False
