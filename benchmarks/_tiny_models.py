"""The small models of the training and sampling benchmarks (random weights, seeded).

- the image generator: a StyleGAN2 in the shape of the image training preset ``tiny``
  (``vidbench/image_train_config.py``: 32x32, style_dim 128, 2 mapping layers, 32 channels),
  saved as a rosinality-layout file (``{"g_ema": state_dict}``) with noise strengths 0.1, as a
  trained generator has them (initialisation leaves them at 0), as in the tests'
  ``tests/_motion_fixtures.py``;
- its PCA (``vidbench.train.pca``, 2000 samples), which the motion generator moves along;
- the motion training config: the preset ``tiny`` (``vidbench.train.motion_config.resolve_config``) with
  that generator and PCA;
- a :class:`vidbench.sample.generate.VideoModel`: that image generator with a motion generator of the
  preset's shape, randomly initialised (sampling speed does not depend on training).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

PCA_SAMPLES = 2000


def image_preset() -> dict[str, Any]:
    from vidbench.train.image_config import PRESETS

    return PRESETS["tiny"]


def make_setup(root: str | Path) -> tuple[Path, Path]:
    """(image generator file, PCA folder) under ``root``."""
    from vidbench.experiments.regress.standin_weights import write_stylegan2_with_pca

    p = image_preset()
    return write_stylegan2_with_pca(root, PCA_SAMPLES, size=p["size"],
                                    style_dim=p["style_dim"], n_mlp=p["n_mlp"],
                                    channels=p["channels"])


def motion_config(gen: Path, pca: Path, **overrides: Any):
    """The motion training preset ``tiny`` on ``gen`` and ``pca``, with ``overrides``."""
    from vidbench.train.motion_config import resolve_config

    return resolve_config("tiny", overrides={"generator": str(gen), "pca": str(pca),
                                             **overrides})


def video_model(gen: Path, pca: Path, seed: int = 0):
    """A :class:`~vidbench.sample.generate.VideoModel`: the image generator and a random motion
    generator shaped as the preset ``tiny`` says."""
    from vidbench.models.motion import MotionGenerator
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import load_pca
    from vidbench.sample.generate import VideoModel

    cfg = motion_config(gen, pca)
    loaded = load_image_generator(gen)
    basis = load_pca(pca)
    m = cfg.motion
    motion = MotionGenerator(loaded.adapter.latent_dim, m.hidden_dim, m.n_pca,
                             residual_scale=m.residual_scale, residual=m.residual,
                             generator=torch.Generator().manual_seed(seed))
    motion.set_pca(basis.components, basis.stdev, mean=basis.mean)
    motion.eval()
    info = {"motion": {"file": f"random motion generator (seed {seed})", "step": None},
            "pca": basis.describe(), "image_generator": loaded.describe()}
    return VideoModel(loaded.adapter, motion, cfg.data.n_frames, info)
