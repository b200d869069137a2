"""Extract once, derive many: the shared feature passes of one evaluation.

A metric asks for features with a :class:`Request`: the first ``num`` clips of a drawn source
through one extractor, as feature rows (IS, ACD) or as float64 running statistics (FVD).
:func:`run_passes` groups the requests by (source fingerprint, extractor contract, which
includes the weights' sha256 and the preprocessing) and runs the one feature engine,
:func:`vidbench.metrics.stats.compute_feature_stats`, ONCE per group over the largest ``num``
asked. So two metrics that need the same extractor on the same clips decode and embed them
once, and ``vidbench eval all`` runs one pass per extractor and side. Selections are prefixes
("first N clips"). A statistics request over a whole pass gets the pass's streamed sums; one
over a prefix gets sums replayed from the pass's per-batch rows, in the same batch order.

:class:`EvalContext` holds the options every metric of an evaluation shares (seed, data
root, engine settings) and opens each (source, clip draw) once; :func:`run_jobs` runs the
passes of a list of metric jobs and finishes each.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidbench.utils.distributed import tf32_disabled
from vidbench.metrics.extractors import Extractor
from vidbench.metrics.protocols import ClipDraw
from vidbench.metrics.stats import FeatureStats, compute_feature_stats
from vidbench.data.base import ClipSource, fingerprint_of, take_first
from vidbench.utils.errors import VidbenchError


@dataclass
class Request:
    """Features of the first ``num`` clips of ``source`` through ``extractor``."""

    label: str                  # who asks, e.g. "isv tganv2 fake" (logged with the pass)
    source: ClipSource          # drawn clips, in order
    num: int
    extractor: Extractor
    allow_tf32: bool = False    # TF32 on CUDA; a pass allows it only if every request does
    rows: bool = True           # feature rows [num, D]; False: a FeatureStats of them
    seconds: float = 0.0        # set by run_passes: the time of the pass that served it

    def __post_init__(self) -> None:
        if not 1 <= self.num <= len(self.source):
            raise VidbenchError(f"{self.label}: {self.num} clips asked of {self.source.name}, "
                                f"which has {len(self.source)}")

    def key(self) -> str:
        """Requests with equal keys are served by one pass (reads the weights' sha256)."""
        return fingerprint_of({"source": self.source.fingerprint,
                               "extractor": self.extractor.contract()})


@dataclass
class EvalContext:
    """Options shared by every metric of one evaluation."""

    seed: int = 0                # random clip starts and seeded subsets
    root: str | None = None      # base folder for data set names
    skip_bad: bool = False       # list and skip unreadable or too-short videos
    batch_size: int = 16         # clips per network call (does not change values)
    num_workers: int = 0         # DataLoader decoding workers
    device: str = "cpu"
    progress: bool = True
    use_cache: bool = True       # FVD real statistics cache
    _opened: dict[Any, ClipSource] = field(default_factory=dict, repr=False)

    @property
    def opts(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "num_workers": self.num_workers,
                "device": self.device, "progress": self.progress}

    def draw_first(self, spec: Any, num_frames: int | None) -> ClipSource:
        """``spec`` cut into clips of its first ``num_frames`` frames (all frames when None),
        in the source's order; opened once per (spec, frames) within this context."""
        from vidbench.evaluation.draws import open_drawn_source

        draw = ClipDraw(num=None, length=num_frames, stride=1, start="first",
                        selection="first-n")
        key = (spec if isinstance(spec, str) else id(spec), num_frames)
        if key not in self._opened:
            self._opened[key] = open_drawn_source(spec, draw, seed=self.seed, root=self.root,
                                                  skip_bad=self.skip_bad)
        return self._opened[key]


def check_count(source: ClipSource, num: int, *, role: str, what: str, flag: str) -> None:
    """A clear error when ``source`` has fewer than ``num`` clips."""
    if num > len(source):
        raise VidbenchError(f"{role} source {source.name} has {len(source)} clips; {what} needs "
                            f"{num} (set {flag} to use fewer)")


def plan_passes(requests: list[Request]) -> list[dict[str, Any]]:
    """The passes :func:`run_passes` would run for ``requests``, computing nothing."""
    groups: dict[str, list[Request]] = {}
    for req in requests:
        groups.setdefault(req.key(), []).append(req)
    return [{"key": key, "extractor": reqs[0].extractor.name, "source": reqs[0].source.name,
             "fingerprint": reqs[0].source.fingerprint, "num_clips": max(r.num for r in reqs),
             "used_by": [r.label for r in reqs]} for key, reqs in groups.items()]


def run_passes(requests: list[Request], ctx: EvalContext
               ) -> tuple[list[np.ndarray | FeatureStats | VidbenchError], list[dict[str, Any]]]:
    """Features for each request (rows, or statistics for ``rows=False``; or the user error its
    pass raised), and one log entry per pass: extractor, source, clips, seconds and the
    requests it served."""
    groups: dict[str, list[int]] = {}
    for i, req in enumerate(requests):
        groups.setdefault(req.key(), []).append(i)
    out: list[Any] = [VidbenchError("not run")] * len(requests)
    log = []
    for key, members in groups.items():
        first = requests[members[0]]
        num = max(requests[i].num for i in members)
        allow_tf32 = all(requests[i].allow_tf32 for i in members)
        capture = any(requests[i].rows or requests[i].num < num for i in members)
        t0 = time.time()
        entry = {"key": key, "extractor": first.extractor.name, "source": first.source.name,
                 "fingerprint": first.source.fingerprint, "num_clips": num,
                 "used_by": [requests[i].label for i in members]}
        try:
            with tf32_disabled(not allow_tf32):
                stats = compute_feature_stats(
                    take_first(first.source, num), first.extractor, capture_all=capture,
                    batch_size=ctx.batch_size, num_workers=ctx.num_workers, device=ctx.device,
                    progress=ctx.progress, desc=f"{first.extractor.name} {first.source.name}")
            for i in members:
                req = requests[i]
                if req.rows:
                    out[i] = stats.all_features()[:req.num]
                else:
                    out[i] = stats if req.num == num else stats.prefix(req.num)
        except VidbenchError as exc:
            entry["error"] = str(exc)
            for i in members:
                out[i] = exc
        entry["seconds"] = round(time.time() - t0, 3)
        for i in members:
            requests[i].seconds = entry["seconds"]
        log.append(entry)
    return out, log


def run_jobs(jobs: list[Any], ctx: EvalContext, *, isolate: bool = False
             ) -> tuple[list[dict[str, Any] | VidbenchError], list[dict[str, Any]]]:
    """Run the passes of ``jobs`` once each and finish every job: (per job a record or, with
    ``isolate``, the user error that stopped it; the pass log). Without ``isolate`` the first
    user error is raised.

    A job has ``requests`` (side -> :class:`Request`), ``seconds`` (its time so far; the
    passes it uses are added), optionally ``prepare()`` (work of its own, e.g. FVD's cached
    real statistics, returning a pass-log entry) and ``finish(features by side) -> record``.
    """
    outcome: list[Any] = [None] * len(jobs)
    log: list[dict[str, Any]] = []
    for i, job in enumerate(jobs):  # FVD real statistics: their own (cached) pass
        if hasattr(job, "prepare"):
            try:
                log.append(job.prepare())
            except VidbenchError as exc:
                if not isolate:
                    raise
                outcome[i] = exc
    live = [i for i in range(len(jobs)) if outcome[i] is None]
    requests = [(i, role, req) for i in live for role, req in jobs[i].requests.items()]
    features, passes = run_passes([r for _, _, r in requests], ctx)
    log += passes
    for i, _, req in requests:
        jobs[i].seconds += req.seconds
    got: dict[int, dict[str, Any]] = {i: {} for i in live}
    for (i, role, _), feats in zip(requests, features):
        if isinstance(feats, VidbenchError):
            if not isolate:
                raise feats
            outcome[i] = feats
        elif outcome[i] is None:
            got[i][role] = feats
    for i in live:
        if outcome[i] is not None:
            continue
        try:
            outcome[i] = jobs[i].finish(got[i])
        except VidbenchError as exc:
            if not isolate:
                raise
            outcome[i] = exc
    return outcome, log


def side_entry(spec: Any, source: ClipSource, num: int) -> dict[str, Any]:
    """A record's description of one side: the spec, the source's description, clips used."""
    return {"spec": str(spec), **source.describe(), "num_used": num}


def overrides_note(protocol: str, overrides: dict[str, Any]) -> list[str]:
    """The warning every metric gives when counts differ from its protocol's."""
    if not overrides:
        return []
    return [f"sample counts differ from the {protocol} protocol ({overrides}): the value "
            "does not compare with numbers reported under it"]


def record_tail(*, seed: int, overrides: dict[str, Any], batch_size: int, device: str,
                seconds: float, notes: list[str]) -> dict[str, Any]:
    """The fields that close every result record: seed, overrides, engine, provenance, time,
    warnings."""
    from vidbench.utils.provenance import provenance

    return {"seed": seed, "overrides": overrides, "batch_size": batch_size, **provenance(device),
            "seconds": round(seconds, 3), "warnings": list(dict.fromkeys(notes))}
