"""Fréchet Video Distance (Unterthiner et al. 2018) from I3D feature statistics.

Matches ``google-research/google-research: frechet_video_distance`` (which calls TF-GAN's
``frechet_classifier_distance_from_activations``) under the ``tf-reference`` protocol: means
and covariances of the 400 I3D logits in float64, covariance divisor and square-root form as
the protocol fixes them (docs/protocols.md, *FVD protocols*). Feature extraction, clip drawing
and caching live in the engine (:mod:`vidbench.metrics.stats`, :mod:`vidbench.metrics.cache`,
:mod:`vidbench.evaluation.fvd`).
"""
from __future__ import annotations

from vidbench.metrics.frechet import frechet_distance
from vidbench.metrics.protocols import FVDProtocol, get_protocol
from vidbench.metrics.stats import FeatureStats

METRIC = "fvd"


def compute_fvd(stats_fake: FeatureStats, stats_real: FeatureStats,
                protocol: str | FVDProtocol) -> float:
    """FVD between fake and real feature statistics under ``protocol``."""
    proto = get_protocol(protocol)
    if stats_fake.dim != stats_real.dim:
        raise ValueError(f"feature dimensions differ: fake {stats_fake.dim}, real {stats_real.dim}")
    return frechet_distance(stats_fake.mean(), stats_fake.cov(proto.ddof),
                            stats_real.mean(), stats_real.cov(proto.ddof),
                            method=proto.sqrt_method)
