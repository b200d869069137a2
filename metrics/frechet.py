"""The Fréchet distance between two Gaussians, shared by FID and FVD.

FD = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr(sqrt(S1 S2)), always in float64.

Matches ``tensorflow/gan: tensorflow_gan/python/eval/classifier_metrics.py``
(``frechet_classifier_distance_from_activations``, the FVD reference of
``google-research/google-research: frechet_video_distance``) with ``method="svd"``:
Tr(sqrt(sqrt(S1) S2 sqrt(S1))) where each square root is a symmetric SVD square root and
singular values below 1e-10 are left un-rooted. Two equivalent forms are offered for the
presets that use them and as a cross-check (docs/protocols.md, *Fréchet distance*):

- ``"eig"``: sum of sqrt of the eigenvalues of S1 S2 (tiny negative parts clipped to 0),
  as torch-fidelity computes it;
- ``"sqrtm"``: the real part of ``scipy.linalg.sqrtm(S1 @ S2)``, as StyleGAN-V computes it.

The covariance convention (divide by N - ddof) is not decided here: the protocol passes
``ddof`` to :func:`covariance` (1 for TF-GAN, 0 for StyleGAN-V's running sums).
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

import numpy as np
import scipy.linalg

from vidbench.utils.errors import VidbenchError

SQRT_METHODS = ("svd", "eig", "sqrtm")
SVD_EPS = 1e-10  # TF-GAN: singular values below this are not square-rooted


class FewSamplesWarning(UserWarning):
    """Fewer samples than feature dimensions: the covariance is singular."""


@contextlib.contextmanager
def few_samples_expected() -> Iterator[None]:
    """A context in which :class:`FewSamplesWarning` is not shown: for callers that use few
    samples on purpose and keep the warning in their records instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewSamplesWarning)
        yield


def mean_from_sums(total: np.ndarray, n: int) -> np.ndarray:
    """Per-feature mean from a running sum over ``n`` samples (float64)."""
    if n < 1:
        raise VidbenchError("cannot take the mean of 0 samples")
    return np.asarray(total, dtype=np.float64) / n


def covariance(total: np.ndarray, total_outer: np.ndarray, n: int, ddof: int) -> np.ndarray:
    """Covariance from running sums: (sum x x^T - n mu mu^T) / (n - ddof), in float64.

    ``total`` is sum_i x_i [D], ``total_outer`` is sum_i x_i x_i^T [D, D]. ``ddof=1`` gives the
    unbiased estimate (TF-GAN, ``np.cov``), ``ddof=0`` the population one (StyleGAN-V).
    Raises a :class:`VidbenchError` for ``n <= 1`` (no spread can be estimated) and warns
    (:class:`FewSamplesWarning`) when ``n <= D``, where the covariance is rank-deficient and
    the Fréchet distance depends strongly on ``n``.
    """
    if ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 or 1, got {ddof}")
    total = np.asarray(total, dtype=np.float64)
    total_outer = np.asarray(total_outer, dtype=np.float64)
    dim = total.shape[0]
    if total.ndim != 1 or total_outer.shape != (dim, dim):
        raise ValueError(f"sum {total.shape} and sum of outer products {total_outer.shape} "
                         "do not match ([D] and [D, D])")
    if n <= 1:
        raise VidbenchError(f"a covariance needs at least 2 samples, got {n}")
    if n <= dim:
        warnings.warn(f"{n} samples for {dim} features: the covariance has rank at most "
                      f"{n - 1} < {dim}, so the Fréchet distance is biased by the sample "
                      "count; use more samples", FewSamplesWarning, stacklevel=2)
    mu = total / n
    cov = (total_outer - n * np.outer(mu, mu)) / (n - ddof)
    return (cov + cov.T) / 2  # exact symmetry, removes rounding asymmetry


def _symmetric_sqrt(mat: np.ndarray, eps: float = SVD_EPS) -> np.ndarray:
    """TF-GAN's symmetric square root: U diag(s') V^T with s' = sqrt(s) where s >= eps."""
    u, s, vh = np.linalg.svd(mat)
    s_rooted = np.where(s < eps, s, np.sqrt(s))
    return (u * s_rooted) @ vh


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, method: str = "svd") -> float:
    """Tr(sqrt(S1 S2)) for symmetric positive semi-definite S1, S2 by the named method."""
    if method == "svd":
        root1 = _symmetric_sqrt(sigma1)
        return float(np.trace(_symmetric_sqrt(root1 @ sigma2 @ root1)))
    if method == "eig":
        eigvals = np.linalg.eigvals(sigma1 @ sigma2).real
        return float(np.sqrt(np.clip(eigvals, 0.0, None)).sum())
    if method == "sqrtm":
        root = scipy.linalg.sqrtm(sigma1 @ sigma2)
        return float(np.trace(np.real(root)))
    raise VidbenchError(f"unknown square-root method {method!r}; choose one of {SQRT_METHODS}")


def _check_gaussian(mu: np.ndarray, sigma: np.ndarray, which: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"{which}: mean {mu.shape} and covariance {sigma.shape} do not match "
                         "([D] and [D, D])")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise VidbenchError(f"{which}: the statistics contain NaN or inf")
    return mu, sigma


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     method: str = "svd") -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), computed in float64.

    ``method`` picks the trace-of-square-root form ("svd", "eig" or "sqrtm"; see the module
    docstring). Identical inputs give 0 up to rounding (|FD| ~ 1e-12 Tr(S)); the value is not
    clamped, to stay equal to the reference. A non-finite result raises a
    :class:`VidbenchError` rather than returning NaN.
    """
    mu1, sigma1 = _check_gaussian(mu1, sigma1, "first")
    mu2, sigma2 = _check_gaussian(mu2, sigma2, "second")
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature dimensions differ: {mu1.shape[0]} vs {mu2.shape[0]}")
    diff = mu1 - mu2
    tr_covmean = trace_sqrt_product(sigma1, sigma2, method)
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)
    if not np.isfinite(value):
        raise VidbenchError(f"the Fréchet distance ({method}) is not finite: {value}")
    return value
