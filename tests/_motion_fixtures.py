"""Tiny random networks and files for the motion-training tests (CPU, seconds)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.stylegan2 import StyleGAN2Generator

TINY_G = dict(size=32, style_dim=64, n_mlp=2, channels=32)


def make_tiny_generator(path: str | Path, seed: int = 0) -> Path:
    """A random 32x32 StyleGAN2 (noise strengths 0.1) saved in the rosinality layout
    ({"g_ema": state_dict})."""
    g = StyleGAN2Generator(TINY_G["size"], TINY_G["style_dim"], TINY_G["n_mlp"],
                           channels=TINY_G["channels"],
                           generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():   # trained generators use their noise inputs; init leaves them at 0
        for name, p in g.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.1)
    path = Path(path)
    torch.save({"g_ema": g.state_dict()}, path)
    return path


def make_tiny_setup(root: str | Path, num_samples: int = 2000) -> tuple[Path, Path]:
    """(generator file, PCA folder) under ``root``."""
    from vidbench.image_generator import load_image_generator
    from vidbench.pca import compute_pca, save_pca

    root = Path(root)
    gen = make_tiny_generator(root / "g.pt")
    loaded = load_image_generator(gen)
    result = compute_pca(loaded.adapter, num_samples, seed=0, batch_size=1000, progress=False)
    save_pca(result, root / "g_pca", {"generator": loaded.describe(), "seed": 0})
    return gen, root / "g_pca"


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: CPU runs on a shared machine are much faster (and reproducible)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
