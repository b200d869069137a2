"""The Python API: one function per metric, each returning a :class:`Result`.

``vidbench.fvd``, ``vidbench.inception_score``, ``vidbench.acd`` and ``vidbench.psnr_ssim``
run exactly what ``vidbench eval fvd|is|acd|psnr-ssim`` run (:mod:`vidbench.evaluation`), on
videos given as arrays, tensors, paths, source specs, checkpoints or iterables of batches
(:mod:`vidbench.evaluation.inputs` says how each is read; float input needs ``layout=`` and
``value_range=``). Real statistics are cached as in the command line. The heavy modules load on
the first call, so ``import vidbench`` stays light.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Result:
    """One metric value with its protocol and the full record the command line stores
    (counts, seeds, the sources' fingerprints, weight hashes, versions, git commit, device)."""

    metric: str                 # "fvd", "isv", "acd" or "psnr_ssim"
    protocol: str               # the named protocol the value was computed under
    value: Any                  # a float; PSNR/SSIM: {"psnr": ..., "ssim": ...}
    record: dict[str, Any] = field(repr=False, compare=False)

    @property
    def std(self) -> float | None:
        """The standard deviation the protocol reports (IS, ACD), else None."""
        return self.record.get("std")

    @property
    def warnings(self) -> list[str]:
        return list(self.record.get("warnings", []))

    def to_dict(self) -> dict[str, Any]:
        """The result record (what ``--json`` prints): a copy."""
        return copy.deepcopy(self.record)

    def __float__(self) -> float:
        if not isinstance(self.value, (int, float)):
            raise TypeError(f"{self.metric} has several values {sorted(self.value)}; "
                            "read result.value")
        return float(self.value)


def _result(record: dict[str, Any]) -> Result:
    return Result(record["metric"], record["protocol"], record["value"], record)


def fvd(
    fake: Any,                         # videos (see vidbench.evaluation.inputs)
    real: Any,                         # videos, or an exported statistics .npz
    protocol: str = "mocogan-hd",      # vidbench eval fvd --list-protocols
    *,
    layout: str | None = None,         # float input: NTHWC, NTCHW or NCTHW
    value_range: Any = None,           # float input: (0, 1), (-1, 1) or (0, 255)
    num_fake: int | None = None,       # clips; None: the protocol's count (or all)
    num_real: int | None = None,
    seed: int = 0,                     # random clip starts and seeded subsets
    batch_size: int = 16,              # clips per network call; does not change the value
    num_workers: int = 0,              # DataLoader decoding workers
    device: str = "cpu",
    use_cache: bool = True,            # reuse/store the real side's statistics
    root: str | None = None,           # base folder for relative source paths
    progress: bool = True,
) -> Result:
    """Fréchet Video Distance between ``fake`` and ``real`` under a named protocol."""
    from vidbench.evaluation.fvd import evaluate_fvd
    from vidbench.evaluation.inputs import as_source
    from vidbench.metrics.cache import is_stats_file

    fake_src = as_source(fake, layout=layout, value_range=value_range, arg="fake")
    real_src = real if isinstance(real, str) and is_stats_file(real) else \
        as_source(real, layout=layout, value_range=value_range, arg="real")
    return _result(evaluate_fvd(fake_src, real_src, protocol, num_fake=num_fake,
                                num_real=num_real, seed=seed, batch_size=batch_size,
                                num_workers=num_workers, device=device, use_cache=use_cache,
                                root=root, progress=progress))


def inception_score(
    videos: Any,                       # generated videos (see vidbench.evaluation.inputs)
    protocol: str = "mocogan-hd",      # vidbench eval is --list-protocols
    *,
    layout: str | None = None,
    value_range: Any = None,
    num_samples: int | None = None,    # clips per run; None: the protocol's
    num_runs: int | None = None,       # runs; None: the protocol's
    **context: Any,                    # seed, batch_size, num_workers, device, root, progress
) -> Result:
    """Video Inception Score (C3D, UCF-101) under a named protocol."""
    from vidbench.evaluation.inputs import as_source
    from vidbench.evaluation.is_acd import evaluate_is

    src = as_source(videos, layout=layout, value_range=value_range, arg="videos")
    return _result(evaluate_is(src, protocol, num_samples=num_samples, num_runs=num_runs,
                               **context))


def acd(
    videos: Any,                       # generated videos (see vidbench.evaluation.inputs)
    protocol: str = "mocogan-hd-all",  # vidbench eval acd --list-protocols
    *,
    real: Any = None,                  # real videos: their ACD goes in record["real"]
    layout: str | None = None,
    value_range: Any = None,
    num_videos: int | None = None,     # videos per side; None: the protocol's (or all)
    **context: Any,                    # seed, batch_size, num_workers, device, root, progress
) -> Result:
    """Average Content Distance (face embeddings) under a named protocol."""
    from vidbench.evaluation.inputs import as_source
    from vidbench.evaluation.is_acd import evaluate_acd

    src = as_source(videos, layout=layout, value_range=value_range, arg="videos")
    real_src = None if real is None else as_source(real, layout=layout,
                                                   value_range=value_range, arg="real")
    return _result(evaluate_acd(src, protocol, real_spec=real_src, num_videos=num_videos,
                                **context))


def psnr_ssim(
    pred: Any,                         # predicted videos (see vidbench.evaluation.inputs)
    real: Any,                         # their real counterparts, in the same order
    protocol: str = "wang",            # vidbench eval psnr-ssim --list-protocols
    *,
    layout: str | None = None,
    value_range: Any = None,
    num_videos: int | None = None,     # the first N pairs; None: all
    num_frames: int | None = None,     # the first T frames of every video; None: all
    **context: Any,                    # seed, root, progress
) -> Result:
    """PSNR and SSIM of predicted videos against real ones: ``value`` is
    ``{"psnr": ..., "ssim": ...}``."""
    from vidbench.evaluation.inputs import as_source
    from vidbench.evaluation.psnr_ssim import evaluate_psnr_ssim

    p = as_source(pred, layout=layout, value_range=value_range, arg="pred")
    r = as_source(real, layout=layout, value_range=value_range, arg="real")
    return _result(evaluate_psnr_ssim(p, r, protocol, num_videos=num_videos,
                                      num_frames=num_frames, **context))
