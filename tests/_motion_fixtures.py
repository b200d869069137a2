"""Tiny random networks and files for the motion-training tests (CPU, seconds)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vidbench.experiments.regress.standin_weights import write_stylegan2, write_stylegan2_with_pca

def make_tiny_generator(path: str | Path, seed: int = 0) -> Path:
    """A random 32x32 StyleGAN2 (``TINY_STYLEGAN2``, noise strengths 0.1) saved in the
    rosinality layout ({"g_ema": state_dict})."""
    return write_stylegan2(path, seed)


def make_tiny_setup(root: str | Path, num_samples: int = 2000) -> tuple[Path, Path]:
    """(generator file, PCA folder) under ``root``."""
    return write_stylegan2_with_pca(root, num_samples)


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: CPU runs on a shared machine are much faster (and reproducible)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
