"""The PCA basis that the motion generator moves along (docs/official-code.md, *PCA basis*): of
W for a StyleGAN2, of z itself for a BigGAN (paper §3; docs/biggan.md).

Reference: snap-research/MoCoGAN-HD ``get_stats_pca.py``: z ~ N(0, I) in batches, mapped through
the frozen mapping network, then sklearn ``IncrementalPCA(n_components=D)``. Keeping every
component, that equals exact PCA up to round-off, so vidbench computes it directly: streaming
float64 sums of the (shifted) samples and their outer products, the covariance with the n − 1
divisor (sklearn's), its eigendecomposition, components sorted by variance and signs fixed as
sklearn's ``svd_flip(u_based_decision=False)`` does (the largest-magnitude entry of each
component positive). Scope of the match: the saved arrays equal sklearn's up to round-off for
the same samples; the samples themselves come from a seeded ``torch.Generator``.

Files written to the output folder (atomically): ``pca_comp.npy`` (D × D, rows = unit
components), ``pca_stdev.npy`` (√variance), ``pca_var_ratio.npy``, ``style_mean.npy``,
``style_var.npy`` (as the official script) and ``pca.json`` (generator sha256, sample count,
seed, file hashes).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from vidbench.models.generator_api import ImageGenerator
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.utils.fileio import atomic_path, atomic_write_text
from vidbench.utils.hashing import sha256_file

PCA_FORMAT = "vidbench-pca/1"
PCA_META = "pca.json"
ARRAY_FILES = ("pca_comp.npy", "pca_stdev.npy", "pca_var_ratio.npy", "style_mean.npy",
               "style_var.npy")
REQUIRED_FILES = ("pca_comp.npy", "pca_stdev.npy")


def default_pca_dir(generator: str | os.PathLike) -> str:
    """Where `vidbench pca` writes by default: ``<generator stem>_pca`` next to the file."""
    path = os.path.abspath(os.path.expanduser(os.fspath(generator))).rstrip(os.sep)
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.join(os.path.dirname(path), f"{stem}_pca")


@dataclass
class PCAResult:
    """Exact PCA of ``num_samples`` vectors (float64)."""

    components: np.ndarray   # [D, D], row k = component k, sorted by variance
    variance: np.ndarray     # [D] explained variance (n − 1 divisor)
    var_ratio: np.ndarray    # [D] variance / total variance
    mean: np.ndarray         # [D]
    feature_var: np.ndarray  # [D] per-dimension variance (n − 1)
    num_samples: int

    @property
    def stdev(self) -> np.ndarray:
        return np.sqrt(self.variance)


class CovarianceAccumulator:
    """Streaming float64 mean and covariance (n − 1); sums are shifted by the first batch's
    mean so large offsets do not cancel catastrophically."""

    def __init__(self, dim: int, device: torch.device | str = "cpu"):
        self.dim, self.n = dim, 0
        self.shift: torch.Tensor | None = None
        self.s1 = torch.zeros(dim, dtype=torch.float64, device=device)
        self.s2 = torch.zeros(dim, dim, dtype=torch.float64, device=device)

    def update(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected samples [N, {self.dim}], got {tuple(x.shape)}")
        x = x.to(self.s1.device, torch.float64)
        if self.shift is None:
            self.shift = x.mean(0)
        y = x - self.shift
        self.s1 += y.sum(0)
        self.s2 += y.T @ y
        self.n += x.shape[0]

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        if self.n < 2 or self.shift is None:
            raise VidbenchError(f"PCA needs at least 2 samples, got {self.n}")
        s1, s2 = self.s1.cpu().numpy(), self.s2.cpu().numpy()
        cov = (s2 - np.outer(s1, s1) / self.n) / (self.n - 1)
        cov = (cov + cov.T) / 2
        return self.shift.cpu().numpy() + s1 / self.n, cov


def svd_flip_rows(components: np.ndarray) -> np.ndarray:
    """Flip each row's sign so that its largest-magnitude entry is positive (sklearn's
    ``svd_flip`` with ``u_based_decision=False``; the first maximum wins ties)."""
    idx = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), idx])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def pca_from_covariance(mean: np.ndarray, cov: np.ndarray, num_samples: int) -> PCAResult:
    """Components from the eigendecomposition of ``cov``, sorted by decreasing variance."""
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1]
    variance = np.clip(evals[order], 0.0, None)
    components = svd_flip_rows(evecs[:, order].T)
    total = float(np.trace(cov))
    ratio = variance / total if total > 0 else np.zeros_like(variance)
    return PCAResult(components, variance, ratio, mean, np.diag(cov).copy(), num_samples)


def fit_pca(samples: np.ndarray | torch.Tensor) -> PCAResult:
    """Exact PCA of in-memory samples [N, D] (float64)."""
    x = torch.as_tensor(np.asarray(samples), dtype=torch.float64)
    acc = CovarianceAccumulator(x.shape[1])
    acc.update(x)
    return pca_from_covariance(*acc.mean_cov(), acc.n)


@torch.no_grad()
def compute_pca(gen: ImageGenerator, num_samples: int, *, seed: int = 0,
                batch_size: int = 4000, progress: bool = True) -> PCAResult:
    """PCA of ``num_samples`` latents ``gen.sample_latents`` (z → w) drawn from a CPU
    ``torch.Generator`` seeded with ``seed``; batches of ``batch_size`` (the last may be
    shorter)."""
    if num_samples < 2 or batch_size < 1:
        raise VidbenchError(f"need num_samples >= 2 and batch_size >= 1, got {num_samples}, "
                            f"{batch_size}")
    rng = torch.Generator().manual_seed(seed)
    device = next(gen.parameters()).device if isinstance(gen, torch.nn.Module) else "cpu"
    acc = CovarianceAccumulator(gen.latent_dim, device)
    with tqdm(total=num_samples, desc="PCA samples", unit="w", disable=not progress) as bar:
        for start in range(0, num_samples, batch_size):
            n = min(batch_size, num_samples - start)
            acc.update(gen.sample_latents(n, rng))
            bar.update(n)
    return pca_from_covariance(*acc.mean_cov(), acc.n)


def save_pca(result: PCAResult, out_dir: str | os.PathLike, meta: dict[str, Any]) -> Path:
    """Write the arrays (float32, as the official files) and ``pca.json``; returns the json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {"pca_comp.npy": result.components, "pca_stdev.npy": result.stdev,
              "pca_var_ratio.npy": result.var_ratio, "style_mean.npy": result.mean,
              "style_var.npy": result.feature_var}
    hashes = {}
    for name, arr in arrays.items():
        with atomic_path(out / name) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(arr, dtype=np.float32), allow_pickle=False)
        hashes[name] = sha256_file(out / name)
    info = {"format": PCA_FORMAT, "num_samples": result.num_samples,
            "latent_dim": int(result.components.shape[1]),
            "method": "float64 eigendecomposition of the covariance (n - 1), components sorted "
                      "by variance, signs as sklearn svd_flip (largest |entry| positive)",
            **meta, "files": hashes}
    atomic_write_text(out / PCA_META, json.dumps(info, indent=2, sort_keys=True))
    return out / PCA_META


@dataclass
class PCABasis:
    """A PCA folder as the motion generator uses it, with the hashes that identify it."""

    directory: str
    components: torch.Tensor          # [K, D] float32
    stdev: torch.Tensor               # [K]
    mean: torch.Tensor | None         # [D] (style_mean.npy), needed by --no-residual
    hashes: dict[str, str]            # file name -> sha256
    meta: dict[str, Any]              # pca.json (empty for official folders)

    def describe(self) -> dict[str, Any]:
        return {"dir": self.directory, "files": dict(self.hashes),
                "generator_sha256": self.meta.get("generator", {}).get("sha256")}


def load_pca(directory: str | os.PathLike,
             expected_hashes: dict[str, str] | None = None) -> PCABasis:
    """Read a PCA folder (vidbench's or the official ``save_pca_path``); with
    ``expected_hashes`` every listed file must have that sha256 (a trained G_M is valid only
    with its own basis)."""
    directory = os.path.abspath(os.fspath(directory))
    if not os.path.isdir(directory):
        raise BadInputError(directory, "PCA folder not found (make one with `vidbench pca`)")
    for name in REQUIRED_FILES:
        if not os.path.isfile(os.path.join(directory, name)):
            raise BadInputError(directory, f"no {name} in the PCA folder")
    hashes = {name: sha256_file(os.path.join(directory, name)) for name in ARRAY_FILES
              if os.path.isfile(os.path.join(directory, name))}
    for name, want in (expected_hashes or {}).items():
        if hashes.get(name) != want:
            raise BadInputError(os.path.join(directory, name),
                                f"sha256 {hashes.get(name)} differs from {want} recorded with the "
                                f"motion generator: it was trained with another PCA basis")

    def read(name: str) -> np.ndarray:
        try:
            return np.load(os.path.join(directory, name), allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise BadInputError(os.path.join(directory, name), f"cannot read: {exc}") from None

    comp, stdev = read("pca_comp.npy"), read("pca_stdev.npy")
    if comp.ndim != 2 or stdev.ndim != 1 or stdev.shape[0] != comp.shape[0]:
        raise BadInputError(directory, f"pca_comp {comp.shape} and pca_stdev {stdev.shape} do not "
                                       "form a basis [K, D] / [K]")
    mean = read("style_mean.npy").reshape(-1) if "style_mean.npy" in hashes else None
    meta: dict[str, Any] = {}
    if os.path.isfile(os.path.join(directory, PCA_META)):
        with open(os.path.join(directory, PCA_META), encoding="utf-8") as fh:
            meta = json.load(fh)
    return PCABasis(directory, torch.from_numpy(comp.astype(np.float32)),
                    torch.from_numpy(stdev.astype(np.float32)),
                    None if mean is None else torch.from_numpy(mean.astype(np.float32)),
                    hashes, meta)
