"""FVD under a named protocol: the computation behind ``vidbench eval fvd``, ``eval all``, the
experiments, the demo and the regression panel (one path for all of them).

:class:`FVDJob` draws both sides as the protocol says (:mod:`vidbench.evaluation.draws`),
takes the real side's statistics from the content-keyed cache or an exported file
(:mod:`vidbench.evaluation.reference`), and asks the shared feature pass
(:mod:`vidbench.evaluation.passes`) for the fake side's float64 running statistics; the value
is :func:`vidbench.metrics.fvd.compute_fvd` of the two. :func:`evaluate_fvd` runs one job.
"""
from __future__ import annotations

import contextlib
import time
import warnings
from typing import Any, Iterator

from vidbench.evaluation.draws import draw_seed, draw_sides
from vidbench.evaluation.passes import (EvalContext, Request, overrides_note, record_tail, run_jobs,
                                        side_entry)
from vidbench.evaluation.reference import real_side, reference_key
from vidbench.metrics.cache import DamagedEntryWarning, StatsCache
from vidbench.metrics.extractors import Extractor
from vidbench.metrics.registry import build_extractor
from vidbench.metrics.frechet import FewSamplesWarning
from vidbench.metrics.fvd import METRIC, compute_fvd
from vidbench.metrics.protocols import FVDProtocol, get_protocol
from vidbench.metrics.stats import FeatureStats
from vidbench.utils.distributed import tf32_disabled


def sample_counts(proto: FVDProtocol, num_fake: int | None, num_real: int | None
                  ) -> tuple[int | None, int | None, dict[str, int], list[str]]:
    """(clips fake, clips real, the counts that differ from the protocol's, their note)."""
    nf = proto.fake.num if num_fake is None else num_fake
    nr = proto.real.num if num_real is None else num_real
    overrides = {k: v for k, v, d in (("num_fake", nf, proto.fake.num),
                                      ("num_real", nr, proto.real.num)) if d is not None and v != d}
    return nf, nr, overrides, overrides_note(proto.name, overrides)


class FVDJob:
    """FVD under an FVD protocol: the fake side's statistics through a shared pass, the real
    side's through the reference-statistics cache (or an exported statistics file)."""

    metric = METRIC

    def __init__(self, fake_spec: Any, real_spec: Any, protocol: str | FVDProtocol,
                 ctx: EvalContext, *, num_fake: int | None = None, num_real: int | None = None):
        t0 = time.time()
        self.proto = get_protocol(protocol)
        self.protocol = self.proto.name
        self.fake_spec, self.real_spec, self.ctx = fake_spec, real_spec, ctx
        self.extractor: Extractor = build_extractor(self.proto.extractor,
                                                    **self.proto.extractor_kwargs())
        self.contract = self.extractor.contract()  # a missing weight file stops here
        nf, self.num_real, self.overrides, self.notes = sample_counts(self.proto, num_fake,
                                                                      num_real)
        self.fake_src, self.real_src, more = draw_sides(
            fake_spec, real_spec, self.proto, num_fake=nf, num_real=self.num_real,
            seed=ctx.seed, root=ctx.root, skip_bad=ctx.skip_bad)
        self.notes += more
        self.requests = {"fake": Request(f"fvd {self.protocol} fake", self.fake_src,
                                         len(self.fake_src), self.extractor,
                                         allow_tf32=self.proto.allow_tf32, rows=False)}
        self.real_stats: FeatureStats | None = None
        self.real: dict[str, Any] = {}
        self.seconds = time.time() - t0

    def plan(self) -> dict[str, Any]:
        """What the job will compute (sides, extractor, cache key), computing nothing."""
        if self.real_src is None:
            real = {"spec": str(self.real_spec), "stats_file": self.real_spec}
        else:
            key, key_obj = reference_key(self.real_src, self.extractor, self.proto,
                                         draw_seed(self.proto.real, self.ctx.seed))
            real = {**side_entry(self.real_spec, self.real_src, len(self.real_src)),
                    "cache_key": key, "cached": StatsCache().path(key).is_file(),
                    "key_fields": key_obj}
        return {"metric": self.metric, "protocol": self.protocol,
                "protocol_fields": self.proto.to_dict(), "seed": self.ctx.seed,
                "overrides": self.overrides, "notes": list(self.notes),
                "fake": side_entry(self.fake_spec, self.fake_src, len(self.fake_src)),
                "real": real, "extractor": self.contract}

    def plan_prepare(self) -> dict[str, Any]:
        """The log entry :meth:`prepare` would give, computing nothing."""
        real = self.plan()["real"]
        return {"extractor": self.extractor.name, "source": real.get("name", self.real_spec),
                "fingerprint": real.get("fingerprint"), "num_clips": real.get("num_used"),
                "cached": real.get("cached", True), "used_by": [f"fvd {self.protocol} real"]}

    def prepare(self) -> dict[str, Any]:
        """Compute (or read) the real statistics: the real side's pass. Returns its log entry."""
        t0 = time.time()
        with tf32_disabled(not self.proto.allow_tf32), self._warnings():
            self.real_stats, self.real = real_side(
                self.real_spec, self.real_src, self.proto, self.extractor,
                num_real=self.num_real, seed=self.ctx.seed, root=self.ctx.root,
                skip_bad=self.ctx.skip_bad, use_cache=self.ctx.use_cache, opts=self.ctx.opts)
        seconds = time.time() - t0
        self.seconds += seconds
        return {"extractor": self.extractor.name, "source": self.real.get("name", self.real_spec),
                "fingerprint": self.real.get("fingerprint"),
                "num_clips": self.real_stats.num_items, "cached": self.real.get("cached"),
                "used_by": [f"fvd {self.protocol} real"], "seconds": round(seconds, 3)}

    @contextlib.contextmanager
    def _warnings(self) -> Iterator[None]:
        """Record FewSamplesWarnings and DamagedEntryWarnings into the notes; re-emit every
        warning afterwards."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            if issubclass(w.category, (FewSamplesWarning, DamagedEntryWarning)):
                self.notes.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    def finish(self, features: dict[str, FeatureStats]) -> dict[str, Any]:
        """The result record from the fake side's statistics."""
        t0 = time.time()
        if self.real_stats is None:
            self.prepare()
        fake_stats = features["fake"]
        with self._warnings():
            value = compute_fvd(fake_stats, self.real_stats, self.proto)
        return {
            "metric": self.metric, "protocol": self.protocol, "value": value,
            "num_fake": fake_stats.num_items, "num_real": self.real_stats.num_items,
            "seed": self.ctx.seed, "overrides": self.overrides,
            "protocol_fields": self.proto.to_dict(),
            "fake": {"spec": str(self.fake_spec), **self.fake_src.describe()}, "real": self.real,
            "extractor": self.contract, "weights_sha256": self.extractor.weights_sha256(),
            **record_tail(seed=self.ctx.seed, overrides=self.overrides,
                          batch_size=self.ctx.batch_size, device=self.ctx.device,
                          seconds=self.seconds + time.time() - t0, notes=self.notes),
        }


def plan_fvd(fake_spec: Any, real_spec: Any, protocol: str | FVDProtocol = "mocogan-hd",
             num_fake: int | None = None, num_real: int | None = None, seed: int = 0,
             root: str | None = None, skip_bad: bool = False) -> dict[str, Any]:
    """What :func:`evaluate_fvd` would do (protocol, drawn sources, cache key), computing nothing."""
    ctx = EvalContext(seed=seed, root=root, skip_bad=skip_bad)
    return FVDJob(fake_spec, real_spec, protocol, ctx, num_fake=num_fake,
                  num_real=num_real).plan()


def evaluate_fvd(
    fake_spec: Any,                    # source string (vidbench data) or a ClipSource
    real_spec: Any,                    # source string, ClipSource, or an exported stats .npz
    protocol: str | FVDProtocol = "mocogan-hd",
    num_fake: int | None = None,       # clips; None: the protocol's count (or all)
    num_real: int | None = None,
    seed: int = 0,                     # random clip starts and seeded subsets
    batch_size: int = 16,              # clips per I3D call; does not change the value
    num_workers: int = 0,              # DataLoader decoding workers
    device: str = "cpu",
    use_cache: bool = True,            # reuse/store real statistics in the cache
    root: str | None = None,           # base folder for relative source paths
    skip_bad: bool = False,            # list and skip unreadable or too-short videos
    progress: bool = True,
) -> dict[str, Any]:
    """FVD between fake and real clips under a named protocol: one result record.

    Fewer clips than feature dimensions (N <= 400 for I3D) still give a value, with a
    warning in the record's ``warnings`` (and a :class:`~vidbench.metrics.frechet.FewSamplesWarning`).
    """
    ctx = EvalContext(seed=seed, root=root, skip_bad=skip_bad, batch_size=batch_size,
                      num_workers=num_workers, device=device, progress=progress,
                      use_cache=use_cache)
    (record,), _ = run_jobs([FVDJob(fake_spec, real_spec, protocol, ctx, num_fake=num_fake,
                                    num_real=num_real)], ctx)
    return record

