"""Video Inception Score with the UCF-101 C3D, from class probabilities.

Protocols and references: docs/protocols.md, *Inception Score formula* and *IS protocols*.

IS = exp(mean_i KL(p(y|x_i) || p(y))) with p(y) the mean prediction of the split, in float64.
Two placements of the epsilon occur in the references and are kept apart:

``log``
    ``p * (log(p + eps) - log(p_mean + eps))``: ``pfnet-research/tgan:
    evaluation/calc_inception.py`` (eps 1e-7).
``shift``
    ``q = p + eps`` everywhere, ``q * (log q - log mean(q))``: ``pfnet-research/tgan2:
    tgan2/evaluations/inception_score.py`` (eps 1e-20).

With ``eps = 0`` (StyleGAN-V) the terms use ``0 * log 0 = 0``. Splits are the contiguous
blocks ``[i*N//S, (i+1)*N//S)``; the std is the population std (``np.std``), as in every
reference. A protocol (:class:`ISProtocol`) fixes the C3D input mode, the mean file, the
number of samples per run, the runs, the splits, eps and its placement, and any shuffle.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import xlogy

from vidbench.utils.errors import VidbenchError

EPS_PLACEMENTS = ("log", "shift")


def _check_probs(probs: np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
        raise VidbenchError(f"IS expects probabilities [N, K] with K >= 2, got {list(p.shape)}")
    if not np.isfinite(p).all() or p.min() < 0:
        raise VidbenchError("IS expects finite, non-negative probabilities")
    worst = float(np.abs(p.sum(axis=1) - 1).max())
    if worst > 1e-3:
        raise VidbenchError(f"IS expects rows that sum to 1 (softmax outputs); a row is off "
                            f"by {worst:.3g}")
    return p


def split_score(p: np.ndarray, eps: float, eps_placement: str = "log") -> float:
    """exp(mean KL(p(y|x) || p(y))) of one block of probabilities ``[n, K]`` (float64)."""
    if eps_placement not in EPS_PLACEMENTS:
        raise ValueError(f"eps_placement must be one of {EPS_PLACEMENTS}, got {eps_placement!r}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    if eps_placement == "shift":
        p = p + eps
    p_mean = p.mean(axis=0, keepdims=True)
    if eps == 0 or eps_placement == "shift":
        kl = xlogy(p, p) - xlogy(p, np.broadcast_to(p_mean, p.shape))
    else:
        kl = p * (np.log(p + eps) - np.log(p_mean + eps))
    return float(np.exp(kl.sum(axis=1).mean()))


def split_scores(probs: np.ndarray, splits: int = 1, eps: float = 1e-20,
                 eps_placement: str = "log") -> np.ndarray:
    """The score of each contiguous split ``[i*N//S, (i+1)*N//S)``."""
    p = _check_probs(probs)
    n = len(p)
    if not 1 <= splits <= n:
        raise VidbenchError(f"cannot make {splits} splits of {n} samples")
    return np.array([split_score(p[i * n // splits:(i + 1) * n // splits], eps, eps_placement)
                     for i in range(splits)])


def inception_score(probs: np.ndarray, splits: int = 1, eps: float = 1e-20,
                    eps_placement: str = "log") -> tuple[float, float]:
    """(mean, population std) over ``splits`` contiguous splits of ``probs [N, K]``."""
    scores = split_scores(probs, splits, eps, eps_placement)
    return float(scores.mean()), float(scores.std())


@dataclass(frozen=True)
class ISProtocol:
    """A complete video-IS recipe (docs/protocols.md, *IS protocols*); the name is stored with
    every value."""

    name: str
    description: str
    input_mode: str                 # vidbench.models.c3d.INPUT_MODES: resize, crop, mean handling
    num_samples: int                # clips per run
    num_runs: int = 1               # independent sample sets; value = mean +- std over runs
    splits: int = 1                 # splits per run (std over splits when num_runs == 1)
    eps: float = 1e-20
    eps_placement: str = "log"      # EPS_PLACEMENTS
    shuffle_seed: int | None = None # np.random.RandomState(seed).shuffle of the rows first
    num_frames: int = 16
    weights: str = "c3d"            # vidbench.models.weights names
    mean_weights: str = "c3d-mean"
    to_uint8: str = "tgan"          # float -> uint8 convention expected of fakes
    # > 0: the C3D's fc6/fc7 dropout stays on (training mode, as TGAN v1 ran it), each clip is
    # classified dropout_runs times with seeded masks, and the value is the mean +- std of the
    # IS over those dropout runs
    dropout_runs: int = 0
    dropout_seed: int = 0
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        from vidbench.models.c3d import INPUT_MODES

        if self.input_mode not in INPUT_MODES or self.eps_placement not in EPS_PLACEMENTS:
            raise ValueError(f"{self.name}: bad input_mode or eps_placement")
        if min(self.num_samples, self.num_runs, self.splits) < 1 or self.eps < 0 \
                or self.splits > self.num_samples or self.dropout_runs < 0:
            raise ValueError(f"{self.name}: invalid counts or eps")

    @property
    def total_samples(self) -> int:
        return self.num_samples * self.num_runs

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["notes"] = list(self.notes)
        return out

    def extractor_kwargs(self) -> dict[str, Any]:
        """The C3D extractor's arguments (``build_extractor("c3d-ucf101", **...)``)."""
        kwargs: dict[str, Any] = {"mode": self.input_mode}
        if self.dropout_runs:
            kwargs.update(dropout_runs=self.dropout_runs, dropout_seed=self.dropout_seed)
        return kwargs


def compute_is(probs: np.ndarray, protocol: ISProtocol) -> dict[str, Any]:
    """IS of captured probabilities ``[num_runs * num_samples, K]`` under ``protocol``.

    Run r uses rows ``[r*num_samples, (r+1)*num_samples)``. With one run the value is the
    mean +- std over its splits; with several runs each run's score is the mean over its
    splits and the value is the mean +- std over runs (TGANv2's ``--n-loops``).

    A protocol with ``dropout_runs = R`` takes ``[N, R * K]`` (each clip's R dropout
    classifications side by side): the IS above is computed for each dropout run and the value
    is their mean +- std (``std_over`` "dropout runs").
    """
    if protocol.dropout_runs:
        return _dropout_is(probs, protocol)
    p = _check_probs(probs)
    if len(p) != protocol.total_samples:
        raise VidbenchError(f"{protocol.name}: needs exactly {protocol.total_samples} clips "
                            f"({protocol.num_runs} run(s) x {protocol.num_samples}), got {len(p)}")
    if protocol.shuffle_seed is not None:
        p = p.copy()
        np.random.RandomState(protocol.shuffle_seed).shuffle(p)
    runs = [split_scores(p[r * protocol.num_samples:(r + 1) * protocol.num_samples],
                         protocol.splits, protocol.eps, protocol.eps_placement)
            for r in range(protocol.num_runs)]
    if protocol.num_runs == 1:
        values = runs[0]
    else:
        values = np.array([run.mean() for run in runs])
    return {"metric": "isv", "protocol": protocol.name, "value": float(values.mean()),
            "std": float(values.std()), "num_samples": int(len(p)),
            "num_runs": protocol.num_runs, "splits": protocol.splits,
            "std_over": "runs" if protocol.num_runs > 1 else "splits",
            "scores": [[float(s) for s in run] for run in runs],
            "settings": protocol.to_dict()}


def _dropout_is(probs: np.ndarray, protocol: ISProtocol) -> dict[str, Any]:
    p = np.asarray(probs, dtype=np.float64)
    runs = protocol.dropout_runs
    if p.ndim != 2 or p.shape[1] % runs:
        raise VidbenchError(f"{protocol.name}: expects [N, {runs} x K] probabilities (one block "
                            f"per dropout run), got {list(p.shape)}")
    k = p.shape[1] // runs
    eval_mode = dataclasses.replace(protocol, dropout_runs=0)
    per_run = [compute_is(p[:, r * k:(r + 1) * k], eval_mode) for r in range(runs)]
    values = np.array([r["value"] for r in per_run])
    return {"metric": "isv", "protocol": protocol.name, "value": float(values.mean()),
            "std": float(values.std()), "num_samples": per_run[0]["num_samples"],
            "num_runs": protocol.num_runs, "splits": protocol.splits,
            "std_over": "dropout runs", "dropout_values": [float(v) for v in values],
            "scores": [[float(s) for run in r["scores"] for s in run] for r in per_run],
            "settings": protocol.to_dict()}


_V2_NOTE = "input: clips as uint8 x, fed as (x - 128) / 128 (TGANv2 feeds clipped floats)"

IS_PROTOCOLS: dict[str, ISProtocol] = {p.name: p for p in (
    ISProtocol(
        name="tganv2",
        description="TGANv2 compute_inception_score.py: 2048 clips x 10 runs, 1 split each, "
                    "eps 1e-20 added to p, mean +- std over runs; bilinear (align corners) to 112",
        input_mode="tganv2", num_samples=2048, num_runs=10, splits=1, eps=1e-20,
        eps_placement="shift", notes=(_V2_NOTE,)),
    ISProtocol(
        name="tgan-v1",
        description="TGAN v1 calc_inception.py as it ran: 9,984 clips (208 x 48), one split, "
                    "eps 1e-7; cubic to 128, crop 112, v1 mean clip; C3D in training mode "
                    "(fc6/fc7 dropout on), 10 seeded dropout runs, mean +- std over them",
        input_mode="tgan-v1", num_samples=9984, num_runs=1, splits=1, eps=1e-7,
        eps_placement="log", mean_weights="c3d-mean-tgan-v1", dropout_runs=10, dropout_seed=0,
        notes=("TGAN v1 feeds x*128+128 of the generator output without clipping; vidbench "
               "feeds uint8 clips",
               "dropout on: calc_inception.py's `with chainer.using_config('train', False) and "
               "chainer.no_backprop_mode():` enters only no_backprop_mode (`A and B` is B), so "
               "its published IS had fc6/fc7 dropout active with unseeded masks; vidbench seeds "
               "them (clip i: default_rng([dropout_seed, i]) draws its masks of every run) and "
               "reports the spread over runs; tgan-v1-eval is the same without dropout")),
    ISProtocol(
        name="tgan-v1-eval",
        description="as tgan-v1 with the C3D in eval mode (no dropout): what calc_inception.py "
                    "meant to compute, not what produced TGAN v1's published numbers",
        input_mode="tgan-v1", num_samples=9984, num_runs=1, splits=1, eps=1e-7,
        eps_placement="log", mean_weights="c3d-mean-tgan-v1",
        notes=("TGAN v1 feeds x*128+128 of the generator output without clipping; vidbench "
               "feeds uint8 clips",)),
    ISProtocol(
        name="stylegan-v-isv",
        description="StyleGAN-V isv2048_ucf counting: 2048 clips, rows shuffled with "
                    "RandomState(42), 10 splits, no eps, mean +- std over splits",
        input_mode="tganv2", num_samples=2048, num_runs=1, splits=10, eps=0.0,
        eps_placement="log", shuffle_seed=42, to_uint8="round",
        notes=("StyleGAN-V's TorchScript c3d_ucf101.pt preprocesses internally "
               "(unverified); vidbench uses the TGANv2 C3D input, so only the counting matches",
               "small splits bias IS downward: not comparable with tganv2 numbers")),
    ISProtocol(
        name="mocogan-hd",
        description="MoCoGAN-HD: frames cubic-resized to 128 (cv2 INTER_CUBIC), then the "
                    "tganv2 model; counts as tganv2 (2048 x 10, 1 split, eps 1e-20)",
        input_mode="mocogan-hd", num_samples=2048, num_runs=10, splits=1, eps=1e-20,
        eps_placement="shift", to_uint8="truncate-01",
        notes=("sample count, splits and eps are not stated by MoCoGAN-HD: tganv2 defaults "
               "[unverified]", "cubic resize on float frames, not rounded to uint8")),
    ISProtocol(
        name="mocogan-hd-v1crop",
        description="as mocogan-hd, with the v1 frame path: cubic to 128, central crop 112",
        input_mode="mocogan-hd-v1crop", num_samples=2048, num_runs=10, splits=1, eps=1e-20,
        eps_placement="shift", to_uint8="truncate-01",
        notes=("which frame path MoCoGAN-HD used is not stated [unverified]",)),
)}


def get_is_protocol(name: str | ISProtocol) -> ISProtocol:
    if isinstance(name, ISProtocol):
        return name
    if name not in IS_PROTOCOLS:
        raise VidbenchError(f"unknown IS protocol {name!r}; known: {', '.join(IS_PROTOCOLS)}")
    return IS_PROTOCOLS[name]
