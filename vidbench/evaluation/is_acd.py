"""Video IS (C3D, UCF-101) and ACD (face embeddings) as metric jobs that share feature passes.

A job is one metric under one named protocol. Built, it has drawn its clips (raising a user
error when the sources are too small or a weight file is missing: the extractor contract
reads every weight file's sha256) and states its :class:`~vidbench.evaluation.passes.Request`
per side; ``finish`` turns the feature rows into a result record of the same shape as FVD's
(:mod:`vidbench.evaluation.fvd`). One job alone is :func:`evaluate_is` / :func:`evaluate_acd`;
several are ``vidbench eval all`` (:mod:`vidbench.evaluation.suite`).

Clips: IS and ACD take the first ``num_frames`` frames of the first N clips of their source
(IS: ``num_samples x num_runs`` generated clips, from t = 0; ACD: the protocol's videos, or all).
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from vidbench.metrics.registry import build_extractor
from vidbench.utils.errors import VidbenchError
from vidbench.evaluation.passes import (EvalContext, Request, check_count, overrides_note,
                                        record_tail, run_jobs, side_entry)


def _replace(proto: Any, changes: dict[str, Any]) -> Any:
    try:
        return dataclasses.replace(proto, **changes)
    except ValueError as exc:
        raise VidbenchError(f"protocol {proto.name} with {changes}: {exc}") from None


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
        self.extractor = build_extractor("c3d-ucf101", **self.proto.extractor_kwargs())
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
                "fake": side_entry(self.fake_spec, self.source, self.requests["fake"].num),
                "extractor": self.contract}

    def finish(self, features: dict[str, np.ndarray]) -> dict[str, Any]:
        from vidbench.metrics.isv import compute_is

        t0 = time.time()
        res = compute_is(features["fake"], self.effective)
        runs = [float(np.mean(r)) for r in res["scores"]]
        return {
            "metric": self.metric, "protocol": self.protocol, "value": res["value"],
            "std": res["std"], "std_ddof": 0,
            "std_over": res["std_over"], "runs": runs,
            **({"dropout_values": res["dropout_values"]} if "dropout_values" in res else {}), "num_runs": self.effective.num_runs, "splits": self.effective.splits,
            "scores": res["scores"], "num_fake": res["num_samples"],
            "num_samples": self.effective.num_samples, "protocol_fields": self.proto.to_dict(),
            "fake": side_entry(self.fake_spec, self.source, res["num_samples"]), "real": None,
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
        sides = {role: side_entry(spec, self.sources[role], self.requests[role].num)
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
            real = {**side_entry(self.real_spec, self.sources["real"], gt["num_videos"]),
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
            "fake": side_entry(self.fake_spec, self.sources["fake"], fake["num_videos"]),
            "real": real, "extractor": self.contract,
            "weights_sha256": self.contract["weights_sha256"],
            **record_tail(seed=self.ctx.seed, overrides=self.overrides,
                          batch_size=self.ctx.batch_size, device=self.ctx.device,
                          seconds=self.seconds + time.time() - t0, notes=notes),
        }


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
