"""The demo's units of work, each run in a worker process with one torch thread.

Each function takes and returns plain, picklable values (paths, specs, result records), so
:mod:`vidbench.experiments.demo.pipeline` can hand them to a process pool.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from vidbench.experiments.demo.context_models import (RANDOM_WALK_SIGMA, random_walk_model,
                                                      untrained_model)

METRICS = "fvd,is,acd"          # FVD with I3D; IS with C3D; ACD with the face network
PROTOCOLS = "mocogan-hd"


def init_worker() -> None:
    """One torch thread per process: faster than two for these small networks."""
    import torch

    torch.set_num_threads(1)


def train_image_job(data: str, steps: int, seed: int, out_dir: str, progress: bool,
                    r1_gamma: float | None = None) -> str:
    from vidbench.train.image_config import preset
    from vidbench.train.image import train_image

    extra = {} if r1_gamma is None else {"r1_gamma": r1_gamma}
    config = preset("tiny", dataset=data, steps=steps, seed=seed,
                    checkpoint_every=max(1, min(500, steps)), **extra)
    return str(train_image(config, out_dir, progress=progress))


def pca_job(generator: str, out_dir: str, num_samples: int, seed: int, progress: bool) -> str:
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import compute_pca, save_pca

    loaded = load_image_generator(generator)
    result = compute_pca(loaded.adapter, num_samples, seed=seed,
                         batch_size=min(4000, num_samples), progress=progress)
    save_pca(result, out_dir, {"generator": loaded.describe(), "seed": seed})
    return out_dir


def train_motion_job(generator: str, pca: str, data: str, ablations: tuple[str, ...],
                     steps: int, seed: int, run_dir: str, progress: bool) -> str:
    from vidbench.train.motion_config import resolve_config
    from vidbench.train.motion import train_motion

    cfg = resolve_config("tiny", ablations=ablations, overrides={
        "generator": str(Path(generator).resolve()), "pca": str(Path(pca).resolve()),
        "data.dataset": data, "steps": steps, "seed": seed,
        "checkpoint_every": max(1, steps)})
    train_motion(cfg, run_dir, progress=progress)
    return run_dir


def fake_source(job: dict[str, Any], num: int, seed: int):
    """The clips a row scores: a data set spec, or a model (trained, untrained, random walk)."""
    from vidbench.sample.generate import GeneratorSource, load_video_model

    if job["kind"] == "source":
        return job["spec"]
    model = load_video_model(job["run"])
    name = job["row"]
    if job["kind"] == "untrained":
        model = untrained_model(model, job["seed"])
    elif job["kind"] == "random-walk":
        model = random_walk_model(model, RANDOM_WALK_SIGMA)
    return GeneratorSource(model, num_videos=num, seed=seed, name=name)


def eval_job(job: dict[str, Any], real: str, num: int, seed: int,
             progress: bool) -> list[dict[str, Any]]:
    """Every metric of the protocol set on one row: one entry per metric (ok or skipped)."""
    from vidbench.evaluation.suite import evaluate_all

    fake = fake_source(job, num, seed)
    out = evaluate_all(fake, real, metrics=METRICS, protocols=PROTOCOLS, num_fake=num,
                       num_real=num, num_samples=num, num_runs=1, num_videos=num, seed=seed,
                       progress=progress)
    entries = []
    for rec in out["results"]:
        rec = dict(rec)
        if rec.get("status") != "skipped":
            rec.pop("status", None)
            if job["kind"] != "source" and isinstance(rec.get("fake"), dict):
                # a model, not a string spec: say what it was (a trained run regenerates)
                rec["fake"]["spec"] = f"checkpoint:{job['run']}:seed={seed}" \
                    if job["kind"] == "run" else \
                    f"{job['kind']} (vidbench.experiments.demo.context_models) on checkpoint:{job['run']}"
        entries.append(rec)
    return entries
