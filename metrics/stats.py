"""Streaming feature statistics: the one engine that turns clips into features.

Follows the design of ``NVlabs/stylegan2-ada-pytorch: metrics/metric_utils.py`` (ideas only):
a :class:`FeatureStats` accumulator keeps float64 running sums (memory O(D^2), flat in the
number of clips) and optionally every feature (for metrics that need them, e.g. IS), and
:func:`compute_feature_stats` streams a :class:`~vidbench.data.base.ClipSource` through an
extractor with a torch ``DataLoader`` (workers decode while the network runs).

Invariance: the result does not depend on the batch size, the number of loader workers or the
number of DDP ranks. Under ``torch.distributed`` every rank takes a contiguous shard of the
clip indices and the float64 sums are all-reduced (captured features are gathered in rank
order, which is the single-process order). The sums are float64, so with a float64 extractor
results agree to ~1e-15 relative; a float32 network such as I3D gives features that depend on
the batch size at the float32 rounding level (~1e-6 relative, BLAS/conv blocking), so its
statistics agree to about that level across batch sizes, not bit-for-bit.
"""
from __future__ import annotations

import io
import os
from typing import Any, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from vidbench.utils.distributed import dist_info, shard_bounds
from vidbench.metrics.frechet import covariance, mean_from_sums
from vidbench.data.base import ClipSource
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.utils.fileio import atomic_path

STATS_FORMAT = 1  # bump when the on-disk layout of FeatureStats changes


class FeatureStats:
    """float64 running sum, sum of outer products and count of D-dim features.

    ``capture_all=True`` also keeps every feature row (in order) for metrics that need them.
    """

    def __init__(self, dim: int | None = None, capture_all: bool = False):
        self.dim = dim
        self.capture_all = capture_all
        self.num_items = 0
        self._sum = None if dim is None else np.zeros(dim, np.float64)
        self._sum_outer = None if dim is None else np.zeros((dim, dim), np.float64)
        self._all: list[np.ndarray] = []

    def _init_dim(self, dim: int) -> None:
        self.dim = dim
        self._sum = np.zeros(dim, np.float64)
        self._sum_outer = np.zeros((dim, dim), np.float64)

    def append(self, features: np.ndarray | torch.Tensor) -> None:
        """Add a batch of features ``[B, D]`` (any float dtype; accumulated in float64)."""
        if isinstance(features, torch.Tensor):
            features = features.detach().to("cpu", torch.float64).numpy()
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"features must be [B, D], got shape {list(x.shape)}")
        if self.dim is None:
            self._init_dim(x.shape[1])
        if x.shape[1] != self.dim:
            raise ValueError(f"features have {x.shape[1]} dimensions, expected {self.dim}")
        if not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).any(axis=1).sum())
            raise VidbenchError(f"{bad} of {len(x)} feature vectors contain NaN or inf "
                                "(bad input frames or a broken extractor)")
        self.num_items += len(x)
        self._sum += x.sum(axis=0)
        self._sum_outer += x.T @ x
        if self.capture_all:
            self._all.append(x.copy())

    @property
    def sum(self) -> np.ndarray:
        self._require_items()
        return self._sum

    @property
    def sum_outer(self) -> np.ndarray:
        self._require_items()
        return self._sum_outer

    def _require_items(self) -> None:
        if self.dim is None or self.num_items == 0:
            raise VidbenchError("no features were accumulated (the source has no clips)")

    def mean(self) -> np.ndarray:
        self._require_items()
        return mean_from_sums(self._sum, self.num_items)

    def cov(self, ddof: int) -> np.ndarray:
        """Covariance with divisor N - ``ddof`` (the protocol decides; see vidbench.metrics.frechet)."""
        self._require_items()
        return covariance(self._sum, self._sum_outer, self.num_items, ddof)

    def all_features(self) -> np.ndarray:
        """Every feature row in order ``[N, D]`` (only with ``capture_all``)."""
        if not self.capture_all:
            raise ValueError("features were not captured (use capture_all=True)")
        self._require_items()
        return np.concatenate(self._all, axis=0)

    def prefix(self, num: int) -> FeatureStats:
        """The statistics of the first ``num`` rows (only with ``capture_all``), accumulated
        batch by batch as they were appended, so they equal a pass over exactly those rows
        with the same batches."""
        if not self.capture_all:
            raise ValueError("features were not captured (use capture_all=True)")
        if not 1 <= num <= self.num_items:
            raise ValueError(f"prefix of {num} rows asked of {self.num_items}")
        out = FeatureStats(self.dim, capture_all=True)
        for part in self._all:
            if out.num_items == num:
                break
            out.append(part[:num - out.num_items])
        return out

    def merge(self, other: FeatureStats) -> FeatureStats:
        """A new accumulator holding ``self`` then ``other``."""
        if self.dim is not None and other.dim is not None and self.dim != other.dim:
            raise ValueError(f"cannot merge {self.dim}-dim and {other.dim}-dim statistics")
        out = FeatureStats(self.dim if self.dim is not None else other.dim,
                           capture_all=self.capture_all and other.capture_all)
        for part in (self, other):
            if part.num_items:
                out.num_items += part.num_items
                out._sum += part._sum
                out._sum_outer += part._sum_outer
                if out.capture_all:
                    out._all.extend(part._all)
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        self._require_items()
        arrays = {"stats_format": np.array(STATS_FORMAT), "num_items": np.array(self.num_items),
                  "sum": self._sum, "sum_outer": self._sum_outer}
        if self.capture_all:
            arrays["features"] = self.all_features()
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Any, where: str = "statistics") -> FeatureStats:
        try:
            fmt = int(arrays["stats_format"])
            total, total_outer = np.asarray(arrays["sum"]), np.asarray(arrays["sum_outer"])
            n = int(arrays["num_items"])
        except KeyError as exc:
            raise BadInputError(where, f"not a vidbench statistics file (missing {exc})") from None
        if fmt != STATS_FORMAT:
            raise BadInputError(where, f"statistics format {fmt}, this vidbench reads {STATS_FORMAT}")
        dim = total.shape[0]
        if total.shape != (dim,) or total_outer.shape != (dim, dim) or n < 1:
            raise BadInputError(where, f"inconsistent statistics: sum {total.shape}, "
                                       f"sum_outer {total_outer.shape}, n {n}")
        out = cls(dim, capture_all="features" in arrays)
        out.num_items = n
        out._sum[:] = total
        out._sum_outer[:] = total_outer
        if out.capture_all:
            out._all = [np.asarray(arrays["features"], dtype=np.float64)]
        return out

    def save(self, path: str | os.PathLike) -> None:
        """Write an ``.npz`` atomically."""
        buf = io.BytesIO()
        np.savez(buf, **self.to_arrays())
        with atomic_path(path) as tmp:
            tmp.write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureStats:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls.from_arrays(dict(data), where=str(path))
        except (OSError, ValueError) as exc:
            raise BadInputError(path, f"cannot read statistics: {exc}") from None


# --- distributed reduction ---------------------------------------------------------------------

def _reduce_device() -> torch.device:
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_stats(stats: FeatureStats) -> FeatureStats:
    """Sum the statistics of every rank (float64); gather captured features in rank order."""
    _, world = dist_info()
    if world == 1:
        return stats
    dist = torch.distributed
    dev = _reduce_device()
    n = torch.tensor([stats.num_items], dtype=torch.float64, device=dev)
    total = torch.from_numpy(stats._sum).to(dev)
    total_outer = torch.from_numpy(stats._sum_outer).to(dev)
    for t in (n, total, total_outer):
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    out = FeatureStats(stats.dim, capture_all=stats.capture_all)
    out.num_items = int(n.item())
    out._sum[:] = total.cpu().numpy()
    out._sum_outer[:] = total_outer.cpu().numpy()
    if stats.capture_all:
        parts: list[Any] = [None] * world
        dist.all_gather_object(parts, stats._all)
        out._all = [a for part in parts for a in part]
    return out


# --- the engine --------------------------------------------------------------------------------

class _Failed:
    """A user error raised while loading in a worker, carried to the main process."""

    def __init__(self, message: str):
        self.message = message


class _ClipDataset(torch.utils.data.Dataset):
    """The clips ``indices`` of a source, as uint8 arrays ``[T, H, W, 3]`` (picklable)."""

    def __init__(self, source: ClipSource, indices: Sequence[int]):
        self.source = source
        self.indices = list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> Any:
        try:
            return self.source[self.indices[i]]
        except VidbenchError as exc:
            return _Failed(str(exc))


def _stack_clips(items: list[Any]) -> Any:
    """Collate clips into uint8 ``[B, T, H, W, 3]``; a failure or a shape mismatch is passed
    on as :class:`_Failed`."""
    for item in items:
        if isinstance(item, _Failed):
            return item
    shapes = {tuple(c.shape) for c in items}
    if len(shapes) > 1:
        return _Failed(f"clips differ in shape {sorted(shapes)}: every clip of a source must "
                       "have the same [T, H, W, 3] (set a clip length, resize the frames)")
    return torch.from_numpy(np.stack(items))


def compute_feature_stats(
    source: ClipSource,
    extractor: Any,                    # vidbench.metrics.extractors.Extractor: uint8 [B,T,H,W,3] -> [B,D]
    *,
    batch_size: int = 16,              # clips per extractor call (does not change the result)
    num_workers: int = 0,              # DataLoader worker processes decoding clips
    device: str | torch.device = "cpu",
    max_items: int | None = None,      # use only the first max_items clips
    capture_all: bool = False,         # also keep every feature row
    progress: bool = True,             # tqdm bar (clips/s) on stderr, rank 0 only
    desc: str | None = None,           # label of the progress bar
) -> FeatureStats:
    """Stream ``source`` through ``extractor`` and accumulate float64 feature statistics."""
    if batch_size < 1 or num_workers < 0:
        raise VidbenchError(f"batch size must be >= 1 and workers >= 0, got {batch_size}, {num_workers}")
    n = len(source) if max_items is None else min(int(max_items), len(source))
    if n < 1:
        raise VidbenchError(f"{source.name}: no clips to extract features from")
    rank, world = dist_info()
    lo, hi = shard_bounds(n, rank, world)
    device = torch.device(device)
    loader = torch.utils.data.DataLoader(
        _ClipDataset(source, range(lo, hi)), batch_size=batch_size, shuffle=False,
        num_workers=num_workers, collate_fn=_stack_clips, pin_memory=device.type == "cuda")
    extractor = extractor.to(device)
    if hasattr(extractor, "start_pass"):
        extractor.start_pass(lo)
    stats = FeatureStats(extractor.feature_dim, capture_all=capture_all)
    first_shape = None
    with torch.inference_mode(), tqdm(total=n, unit="clip", desc=desc or source.name,
                                      disable=not progress or rank != 0, leave=False) as bar:
        for batch in loader:
            if isinstance(batch, _Failed):
                raise VidbenchError(batch.message)
            first_shape = first_shape or tuple(batch.shape[1:])
            if tuple(batch.shape[1:]) != first_shape:
                raise BadInputError(source.name, f"clips differ in shape ({list(first_shape)} vs "
                                                 f"{list(batch.shape[1:])}); every clip must "
                                                 "have the same [T, H, W, 3]")
            features = extractor(batch)
            if tuple(features.shape) != (len(batch), extractor.feature_dim):
                raise RuntimeError(f"{extractor.name} returned {list(features.shape)}, expected "
                                   f"[{len(batch)}, {extractor.feature_dim}]")
            stats.append(features)
            bar.update(min(len(batch) * world, n - bar.n))
    return all_reduce_stats(stats)
