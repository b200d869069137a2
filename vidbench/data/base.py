"""The one video contract of vidbench.

Every producer of videos (a data set, a folder of samples, an array file, a generator, a
baseline's output) is a :class:`ClipSource`: a map-style collection of clips where
``source[i]`` is a ``uint8`` array ``[T, H, W, 3]`` (RGB) and :func:`iter_batches` yields
``uint8 [B, T, H, W, 3]`` batches. Each source carries a ``name`` and a content
``fingerprint`` (a hex string that changes when the clips would change) so that results and
cached statistics can say exactly what they were computed on.

Map-style access (rather than a bare iterator) is what lets the feature engine decode in
DataLoader workers and shard over DDP ranks while producing the same clips in the same order.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator, Sequence

import numpy as np

from vidbench.utils.errors import BadInputError


def fingerprint_of(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj``."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def check_clip(clip: np.ndarray, where: str) -> np.ndarray:
    """Assert the contract for one clip: uint8 ``[T, H, W, 3]``."""
    if not isinstance(clip, np.ndarray):
        raise BadInputError(where, f"expected a numpy array, got {type(clip).__name__}")
    if clip.dtype != np.uint8:
        raise BadInputError(where, f"expected uint8 frames, got {clip.dtype}")
    if clip.ndim != 4 or clip.shape[-1] != 3:
        raise BadInputError(where, f"expected shape [T, H, W, 3], got {list(clip.shape)}")
    return clip


class ClipSource:
    """A map-style collection of uint8 RGB clips ``[T, H, W, 3]``.

    Subclasses implement ``__len__``, ``get_clip(i)`` and set ``name`` and ``fingerprint``.
    ``meta`` is a JSON-able dict that describes the source (stored with every result).
    ``skipped`` lists ``(path, reason)`` for inputs dropped under ``skip_bad``.
    """

    name: str = "source"
    fingerprint: str = ""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.skipped: list[tuple[str, str]] = []

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_clip(self, index: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, index: int) -> np.ndarray:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"clip {index} out of range for {self.name} ({n} clips)")
        return check_clip(self.get_clip(index), f"{self.name}[{index}]")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "fingerprint": self.fingerprint, "num_clips": len(self),
                **self.meta, "skipped": [list(s) for s in self.skipped]}


class ArraySource(ClipSource):
    """Clips held in memory: a uint8 array ``[N, T, H, W, 3]`` or a list of ``[T, H, W, 3]``."""

    def __init__(self, clips: np.ndarray | Sequence[np.ndarray], name: str = "array",
                 fingerprint: str | None = None, meta: dict[str, Any] | None = None):
        super().__init__()
        self._clips = clips
        self.name = name
        if fingerprint is None:
            h = hashlib.sha256()
            for c in clips:
                c = np.ascontiguousarray(c)
                h.update(str(c.shape).encode())
                h.update(c.tobytes())
            fingerprint = h.hexdigest()
        self.fingerprint = fingerprint
        self.meta = dict(meta or {})

    def __len__(self) -> int:
        return len(self._clips)

    def get_clip(self, index: int) -> np.ndarray:
        return np.asarray(self._clips[index])


class SubsetSource(ClipSource):
    """The clips ``indices`` of another source, in that order."""

    def __init__(self, base: ClipSource, indices: Sequence[int]):
        super().__init__()
        self.base = base
        self.indices = [int(i) for i in indices]
        self.name = base.name
        self.fingerprint = fingerprint_of({"base": base.fingerprint, "indices": self.indices})
        self.meta = {**base.meta, "subset_of": base.fingerprint, "num_selected": len(self.indices)}
        self.skipped = base.skipped

    def __len__(self) -> int:
        return len(self.indices)

    def get_clip(self, index: int) -> np.ndarray:
        return self.base.get_clip(self.indices[index])


def take_first(source: ClipSource, n: int | None) -> ClipSource:
    """The first ``n`` clips of ``source`` (all when ``n`` is None); an error if it has fewer."""
    if n is None or n == len(source):
        return source
    if n > len(source):
        from vidbench.utils.errors import VidbenchError
        raise VidbenchError(f"{source.name}: asked for {n} clips but the source has only {len(source)}")
    return SubsetSource(source, range(n))


def iter_batches(source: ClipSource, batch_size: int) -> Iterator[np.ndarray]:
    """Yield ``uint8 [B, T, H, W, 3]`` batches in order (single process, no workers)."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    for start in range(0, len(source), batch_size):
        yield np.stack([source[i] for i in range(start, min(start + batch_size, len(source)))])
