"""The demo's units of work, each run in a worker process with one torch thread.

Each function takes and returns plain, picklable values (paths, specs, result records, clip
motions), so :mod:`vidbench.experiments.demo.pipeline` can hand them to a process pool.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vidbench.experiments.demo.context_models import random_walk_model, untrained_model

METRICS = "fvd,is,acd"          # FVD with I3D; IS with C3D; ACD with the face network
PROTOCOLS = "mocogan-hd"
IMAGE_WEIGHTS = "stylegan2-shapes64"   # the shipped, pre-trained image generator
REAL_STRIDE = 2                 # the protocol's (and the training loader's) frame step of reals


def init_worker() -> None:
    """One torch thread per process: faster than two for these small networks."""
    import torch

    torch.set_num_threads(1)


def shipped_generator() -> tuple[str, dict[str, Any]]:
    """The shipped image generator's path (size and sha256 checked) and its record."""
    from vidbench.models.weights import get_spec, location, weight_path

    path = weight_path(IMAGE_WEIGHTS)
    record = location(get_spec(IMAGE_WEIGHTS)).with_suffix(".json")
    return str(path), json.loads(record.read_text())


def train_image_job(data: str, steps: int, seed: int, out_dir: str, progress: bool,
                    settings: dict[str, Any]) -> str:
    """A from-scratch image generator: the shipped one's ``settings`` for ``steps`` steps."""
    from vidbench.train.image import train_image
    from vidbench.train.image_config import config_from_dict

    config = config_from_dict({**settings, "dataset": data, "steps": steps, "seed": seed,
                               "log_every": 10, "checkpoint_every": max(1, min(500, steps))})
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
                     steps: int, seed: int, run_dir: str, progress: bool,
                     settings: dict[str, Any] | None = None) -> str:
    """One motion generator: the ``tiny`` preset, then ``settings`` (dotted config keys), then
    this job's generator, PCA, data, steps and seed."""
    from vidbench.train.motion_config import resolve_config
    from vidbench.train.motion import train_motion

    cfg = resolve_config("tiny", ablations=ablations, overrides={**(settings or {}),
        "generator": str(Path(generator).resolve()), "pca": str(Path(pca).resolve()),
        "data.dataset": data, "steps": steps, "seed": seed,
        "checkpoint_every": max(1, steps)})
    train_motion(cfg, run_dir, progress=progress)
    return run_dir


def video_model(job: dict[str, Any]):
    """The video model a row samples: a trained run, or a context model built on one."""
    from vidbench.sample.generate import load_video_model

    model = load_video_model(job["run"])
    if job["kind"] == "untrained":
        model = untrained_model(model, job["seed"])
    elif job["kind"] == "random-walk":
        model = random_walk_model(model)
    return model


def fake_source(job: dict[str, Any], num: int, sampling_seed: int):
    """The clips a row scores: a data set spec, or ``num`` clips of a model held in memory
    (sample ``i`` of ``sampling_seed``), so that FVD and the motion measurement see the same
    clips."""
    from vidbench.data.base import ArraySource
    from vidbench.sample.generate import GeneratorSource

    if job["kind"] == "source":
        return job["spec"]
    gen = GeneratorSource(video_model(job), num_videos=num, seed=sampling_seed, name=job["row"])
    clips = np.stack([gen[i] for i in range(num)])
    return ArraySource(clips, name=job["row"], fingerprint=gen.fingerprint, meta=gen.meta)


def real_clips(spec: str, num: int, frames: int) -> np.ndarray:
    """The first ``num`` videos of a data set spec as the protocol strides them (every
    :data:`REAL_STRIDE`-th frame, ``frames`` of them, from the first)."""
    from vidbench.evaluation.sources import open_any_source

    src = open_any_source(spec)
    return np.stack([src[i][:frames * REAL_STRIDE:REAL_STRIDE] for i in range(num)])


def score_job(job: dict[str, Any], real: str, num: int, eval_seed: int, sampling_seed: int,
              progress: bool) -> dict[str, Any]:
    """Every metric of the protocol set on one row at one sampling seed (``entries``: one per
    metric, ok or skipped) and the motion of each of its clips (``motions``)."""
    from vidbench.evaluation.suite import evaluate_all
    from vidbench.metrics.clip_motion import clip_motion
    from vidbench.metrics.frechet import few_samples_expected

    fake = fake_source(job, num, sampling_seed)
    # the demo's 16 clips per side are fewer than I3D's 400 features on purpose: each record
    # keeps the warning, the table's header names the counts
    with few_samples_expected():
        out = evaluate_all(fake, real, metrics=METRICS, protocols=PROTOCOLS, num_fake=num,
                           num_real=num, num_samples=num, num_runs=1, num_videos=num,
                           seed=eval_seed, progress=progress)
    if job["kind"] == "source":
        clips = real_clips(job["spec"], num, 16)
    else:
        clips = [fake[i] for i in range(len(fake))]
    entries = []
    for rec in out["results"]:
        rec = dict(rec)
        if rec.get("status") != "skipped":
            rec.pop("status", None)
            if job["kind"] != "source" and isinstance(rec.get("fake"), dict):
                # a model, not a string spec: say what it was (a trained run regenerates)
                rec["fake"]["spec"] = f"checkpoint:{job['run']}:seed={sampling_seed}" \
                    if job["kind"] == "run" else \
                    (f"{job['kind']} (vidbench.experiments.demo.context_models) on "
                     f"checkpoint:{job['run']}:seed={sampling_seed}")
        entries.append(rec)
    return {"entries": entries, "motions": [clip_motion(c) for c in clips]}


def diversity_job(job: dict[str, Any], num_videos: int, seed: int) -> dict[str, Any]:
    """The motion-diversity metric (MoCoGAN-HD App. D) of one trained run."""
    from vidbench.experiments.diversity import motion_diversity

    return motion_diversity(video_model(job), num_videos=num_videos, content=0, seed=seed,
                            progress=False)
