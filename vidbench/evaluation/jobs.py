"""Metrics scored from extractor features, as jobs that share passes: FVD (I3D), video IS
(C3D) and ACD (face embeddings); see docs/protocols.md, *IS protocols* and *ACD*.

A job is one metric under one named protocol. Built, it has drawn its clips (raising a user
error when the sources are too small or a weight file is missing: the extractor contract
reads every weight file's sha256) and states its :class:`~vidbench.evaluation.passes.Request`
per side; :meth:`finish` turns the features into a result record of the shape of
:func:`vidbench.evaluation.fvd.evaluate_fvd`'s. :func:`run_jobs` runs the shared passes of any set of
jobs (:mod:`vidbench.evaluation.passes`), so one job alone is :func:`evaluate_is` /
:func:`evaluate_acd` and several are ``vidbench eval all``.

Clips: IS and ACD take the first ``num_frames`` frames of the first N clips of their source
(IS: ``num_samples x num_runs`` generated clips, MoCoGAN-HD's and TGANv2's fakes from t = 0;
ACD: the protocol's videos, or all). FVD draws as its protocol says (:mod:`vidbench.evaluation.fvd`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
import warnings
from typing import Any, Iterator

import numpy as np

from vidbench.metrics.extractors import build_extractor
from vidbench.metrics.stats import FeatureStats
from vidbench.utils.errors import VidbenchError
from vidbench.evaluation.passes import (EvalContext, Request, check_count, overrides_note,
                                      record_tail, run_jobs)


def _replace(proto: Any, changes: dict[str, Any]) -> Any:
    try:
        return dataclasses.replace(proto, **changes)
    except ValueError as exc:
        raise VidbenchError(f"protocol {proto.name} with {changes}: {exc}") from None


def _side(spec: Any, source: Any, num: int) -> dict[str, Any]:
    return {"spec": str(spec), **source.describe(), "num_used": num}


class ISJob:
    """Video IS of ``fake_spec`` under an IS protocol, with optional count overrides."""

    metric = "isv"

    def __init__(self, fake_spec: Any, protocol: Any, ctx: EvalContext, *,
                 num_samples: int | None = None, num_runs: int | None = None):
        from vidbench.metrics.isv import get_is_protocol

        t0 = time.time()
        self.proto = get_is_protocol(protocol)
        self.protocol = self.proto.name
        self.overrides = {k: v for k, v in (("num_samples", num_samples), ("num_runs", num_runs))
                          if v is not None and v != getattr(self.proto, k)}
        self.effective = _replace(self.proto, self.overrides)
        self.fake_spec, self.ctx = fake_spec, ctx
        self.extractor = build_extractor("c3d-ucf101", mode=self.proto.input_mode)
        self.contract = self.extractor.contract()  # a missing weight file stops here
        self.source = ctx.draw_first(fake_spec, self.effective.num_frames)
        n = self.effective.total_samples
        check_count(self.source, n, role="fake", flag="--num-samples/--num-runs",
                    what=f"IS {self.protocol} ({self.effective.num_runs} run(s) x "
                         f"{self.effective.num_samples})")
        self.requests = {"fake": Request(f"isv {self.protocol} fake", self.source, n,
                                         self.extractor)}
        self.seconds = time.time() - t0

    def plan(self) -> dict[str, Any]:
        return {"metric": self.metric, "protocol": self.protocol, "overrides": self.overrides,
                "fake": _side(self.fake_spec, self.source, self.requests["fake"].num),
                "extractor": self.contract}

    def finish(self, features: dict[str, np.ndarray]) -> dict[str, Any]:
        from vidbench.metrics.isv import compute_is

        t0 = time.time()
        res = compute_is(features["fake"], self.effective)
        runs = [float(np.mean(r)) for r in res["scores"]]
        return {
            "metric": self.metric, "protocol": self.protocol, "value": res["value"],
            "std": res["std"], "std_ddof": 0,
            "std_over": "runs" if self.effective.num_runs > 1 else "splits",
            "runs": runs, "num_runs": self.effective.num_runs, "splits": self.effective.splits,
            "scores": res["scores"], "num_fake": res["num_samples"],
            "num_samples": self.effective.num_samples, "protocol_fields": self.proto.to_dict(),
            "fake": _side(self.fake_spec, self.source, res["num_samples"]), "real": None,
            "extractor": self.contract, "weights_sha256": self.contract["weights_sha256"],
            **record_tail(seed=self.ctx.seed, overrides=self.overrides,
                          batch_size=self.ctx.batch_size, device=self.ctx.device,
                          seconds=self.seconds + time.time() - t0,
                          notes=overrides_note(self.protocol, self.overrides)),
        }


class ACDJob:
    """ACD of ``fake_spec`` (and of ``real_spec``, the ground-truth row, when given)."""

    metric = "acd"

    def __init__(self, fake_spec: Any, protocol: Any, ctx: EvalContext, *,
                 real_spec: Any = None, num_videos: int | None = None):
        from vidbench.metrics.acd import get_acd_protocol

        t0 = time.time()
        self.proto = get_acd_protocol(protocol)
        self.protocol = self.proto.name
        default = self.proto.num_videos
        self.overrides = ({"num_videos": num_videos}
                          if num_videos is not None and default is not None
                          and num_videos != default else {})
        self.fake_spec, self.real_spec, self.ctx = fake_spec, real_spec, ctx
        self.extractor = build_extractor("facenet-vggface2", mode=self.proto.input_mode,
                                         num_frames=self.proto.num_frames)
        self.contract = self.extractor.contract()  # a missing weight file stops here
        self.requests, self.sources = {}, {}
        for role, spec in (("fake", fake_spec), ("real", real_spec)):
            if spec is None:
                continue
            source = ctx.draw_first(spec, self.proto.num_frames)
            n = num_videos or default or len(source)
            check_count(source, n, role=role, what=f"ACD {self.protocol}", flag="--num-videos")
            self.sources[role] = source
            self.requests[role] = Request(f"acd {self.protocol} {role}", source, n,
                                          self.extractor)
        self.seconds = time.time() - t0

    def plan(self) -> dict[str, Any]:
        sides = {role: _side(spec, self.sources[role], self.requests[role].num)
                 for role, spec in (("fake", self.fake_spec), ("real", self.real_spec))
                 if role in self.requests}
        return {"metric": self.metric, "protocol": self.protocol, "overrides": self.overrides,
                **sides, "extractor": self.contract}

    def _score(self, features: np.ndarray) -> dict[str, Any]:
        from vidbench.metrics.acd import compute_acd

        return compute_acd(features, _replace(self.proto, {"num_videos": len(features)}))

    def finish(self, features: dict[str, np.ndarray]) -> dict[str, Any]:
        t0 = time.time()
        fake = self._score(features["fake"])
        real = None
        if "real" in features:
            gt = self._score(features["real"])
            real = {**_side(self.real_spec, self.sources["real"], gt["num_videos"]),
                    **{k: gt[k] for k in ("value", "std", "by_pairs", "face_found_fraction")}}
        notes = overrides_note(self.protocol, self.overrides)
        if fake["face_found_fraction"] < 1:
            notes.append(f"faces were found in {fake['face_found_fraction']:.1%} of the fake "
                         "frames; the others were embedded whole")
        return {
            "metric": self.metric, "protocol": self.protocol, "value": fake["value"],
            "std": fake["std"], "std_ddof": 0, "std_over": "videos",
            "by_pairs": fake["by_pairs"], "face_found_fraction": fake["face_found_fraction"],
            "per_video": fake["per_video"], "num_fake": fake["num_videos"],
            "num_real": None if real is None else real["num_used"],
            "protocol_fields": self.proto.to_dict(),
            "fake": _side(self.fake_spec, self.sources["fake"], fake["num_videos"]),
            "real": real, "extractor": self.contract,
            "weights_sha256": self.contract["weights_sha256"],
            **record_tail(seed=self.ctx.seed, overrides=self.overrides,
                          batch_size=self.ctx.batch_size, device=self.ctx.device,
                          seconds=self.seconds + time.time() - t0, notes=notes),
        }


class FVDJob:
    """FVD under an FVD protocol: the fake side through a shared pass, the real side through
    the reference-statistics cache (or an exported statistics file)."""

    metric = "fvd"

    def __init__(self, fake_spec: Any, real_spec: Any, protocol: Any, ctx: EvalContext, *,
                 num_fake: int | None = None, num_real: int | None = None):
        from vidbench.metrics.protocols import get_protocol
        from vidbench.evaluation.fvd import _counts, draw_sides

        t0 = time.time()
        self.proto = get_protocol(protocol)
        self.protocol = self.proto.name
        self.fake_spec, self.real_spec, self.ctx = fake_spec, real_spec, ctx
        self.extractor = build_extractor(self.proto.extractor, **self.proto.extractor_kwargs())
        self.contract = self.extractor.contract()  # a missing weight file stops here
        nf, self.num_real, self.overrides, self.notes = _counts(self.proto, num_fake, num_real)
        self.fake_src, self.real_src, more = draw_sides(
            fake_spec, real_spec, self.proto, num_fake=nf, num_real=self.num_real,
            seed=ctx.seed, root=ctx.root, skip_bad=ctx.skip_bad)
        self.notes += more
        self.requests = {"fake": Request(f"fvd {self.protocol} fake", self.fake_src,
                                         len(self.fake_src), self.extractor,
                                         allow_tf32=self.proto.allow_tf32)}
        self.real_stats: FeatureStats | None = None
        self.real: dict[str, Any] = {}
        self.seconds = time.time() - t0

    def plan(self) -> dict[str, Any]:
        from vidbench.metrics.cache import StatsCache
        from vidbench.evaluation.fvd import _key_seed, reference_key

        if self.real_src is None:
            real = {"spec": str(self.real_spec), "stats_file": self.real_spec}
        else:
            key, _ = reference_key(self.real_src, self.extractor, self.proto,
                                   _key_seed(self.proto.real, self.ctx.seed))
            real = {**_side(self.real_spec, self.real_src, len(self.real_src)),
                    "cache_key": key, "cached": StatsCache().path(key).is_file()}
        return {"metric": self.metric, "protocol": self.protocol, "overrides": self.overrides,
                "fake": _side(self.fake_spec, self.fake_src, len(self.fake_src)),
                "real": real, "extractor": self.contract}

    def plan_prepare(self) -> dict[str, Any]:
        """The log entry :meth:`prepare` would give, computing nothing."""
        real = self.plan()["real"]
        return {"extractor": self.extractor.name, "source": real.get("name", self.real_spec),
                "fingerprint": real.get("fingerprint"), "num_clips": real.get("num_used"),
                "cached": real.get("cached", True), "used_by": [f"fvd {self.protocol} real"]}

    def prepare(self) -> dict[str, Any]:
        """Compute (or read) the real statistics: the real side's pass. Returns its log entry."""
        from vidbench.utils.distributed import tf32_disabled
        from vidbench.evaluation.fvd import fvd_real_side

        t0 = time.time()
        with tf32_disabled(not self.proto.allow_tf32), self._warnings():
            self.real_stats, self.real = fvd_real_side(
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
        """Record FewSamplesWarnings into the notes; re-emit every warning afterwards."""
        from vidbench.metrics.frechet import FewSamplesWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            if issubclass(w.category, FewSamplesWarning):
                self.notes.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    def finish(self, features: dict[str, np.ndarray]) -> dict[str, Any]:
        from vidbench.metrics.fvd import compute_fvd
        from vidbench.evaluation.fvd import fvd_record

        t0 = time.time()
        if self.real_stats is None:
            self.prepare()
        fake_stats = FeatureStats(self.extractor.feature_dim)
        fake_stats.append(features["fake"])
        with self._warnings():
            value = compute_fvd(fake_stats, self.real_stats, self.proto)
        return fvd_record(self.proto, value, fake_stats, self.real_stats,
                          fake_spec=self.fake_spec, fake_src=self.fake_src, real=self.real,
                          extractor=self.extractor, seed=self.ctx.seed,
                          overrides=self.overrides, batch_size=self.ctx.batch_size,
                          device=self.ctx.device, t0=t0 - self.seconds,
                          notes=list(dict.fromkeys(self.notes)))


def evaluate_is(
    fake_spec: Any,                    # generated clips: a source string or a ClipSource
    protocol: str = "mocogan-hd",      # vidbench.metrics.isv.IS_PROTOCOLS
    num_samples: int | None = None,    # clips per run; None: the protocol's (an override)
    num_runs: int | None = None,       # runs; None: the protocol's (an override)
    **context: Any,                    # EvalContext fields: seed, batch_size, device, ...
) -> dict[str, Any]:
    """Video IS (C3D, UCF-101) of the first clips of ``fake_spec``: one result record with the
    value, std (over runs, or over splits with one run) and per-run values."""
    ctx = EvalContext(**context)
    (record,), _ = run_jobs([ISJob(fake_spec, protocol, ctx, num_samples=num_samples,
                                   num_runs=num_runs)], ctx)
    return record


def evaluate_acd(
    fake_spec: Any,                    # generated clips: a source string or a ClipSource
    protocol: str = "mocogan-hd-all",  # vidbench.metrics.acd.ACD_PROTOCOLS
    real_spec: Any = None,             # real clips: their ACD is the ground-truth row
    num_videos: int | None = None,     # videos per side; None: the protocol's (or all)
    **context: Any,                    # EvalContext fields: seed, batch_size, device, ...
) -> dict[str, Any]:
    """ACD of the first ``num_frames`` frames of each fake video (and of the real ones)."""
    ctx = EvalContext(**context)
    (record,), _ = run_jobs([ACDJob(fake_spec, protocol, ctx, real_spec=real_spec,
                                    num_videos=num_videos)], ctx)
    return record
