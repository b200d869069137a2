"""Several metrics of one pair of sources in one go (``vidbench eval all``).

Which metrics and protocols: a protocol set of :data:`vidbench.metrics.protocols.PROTOCOL_SETS`
(default ``mocogan-hd``), with per-metric entries ``metric=protocol`` replacing the set's
choice for that metric (an entry may repeat a metric to compute several protocols), then
narrowed to ``metrics`` (default: every metric of the selection except ``psnr-ssim``, which
needs predicted videos paired with real ones).

Each metric is a job of :mod:`vidbench.evaluation.fvd`, :mod:`vidbench.evaluation.is_acd` or
:mod:`vidbench.evaluation.psnr_ssim`; their features come from shared passes (:func:`vidbench.evaluation.passes.run_jobs`): one pass
per extractor and side, e.g. I3D on the fakes and on the reals for FVD, C3D on the fakes for
IS, the face embedder on the fakes and on the reals (the ground-truth row) for ACD. A metric
that cannot run (a missing weight file, too few clips) is reported as ``skipped`` with the
reason and the others still run.
"""
from __future__ import annotations

import time
from typing import Any

from vidbench.utils.errors import VidbenchError
from vidbench.evaluation.passes import EvalContext, plan_passes, run_jobs

ALL_METRIC = "all"


def resolve_selection(metrics: str | list[str] | None = None,
                      protocols: str | list[str] | None = None) -> dict[str, list[str]]:
    """``{CLI metric: [protocol names]}`` from ``--metrics`` and ``--protocols`` (module
    docstring); unknown names are user errors listing the known ones."""
    from vidbench.metrics.protocols import (DEFAULT_PROTOCOL_SET, METRIC_NAMES, PROTOCOL_SETS,
                                            metric_protocol_names)

    items = _split(protocols)
    sets = [i for i in items if "=" not in i]
    for name in sets:
        if name not in PROTOCOL_SETS:
            raise VidbenchError(f"unknown protocol set {name!r}; known: {', '.join(PROTOCOL_SETS)}"
                                " (or give metric=protocol entries)")
    selection: dict[str, list[str]] = {}
    for name in sets or [DEFAULT_PROTOCOL_SET]:
        for metric, names in PROTOCOL_SETS[name].items():
            selection.setdefault(metric, [])
            selection[metric] += [n for n in names if n not in selection[metric]]
    explicit: dict[str, list[str]] = {}
    for item in (i for i in items if "=" in i):
        metric, _, name = (x.strip() for x in item.partition("="))
        if metric not in METRIC_NAMES:
            raise VidbenchError(f"--protocols {item!r}: unknown metric {metric!r}; known: "
                                f"{', '.join(METRIC_NAMES)}")
        if name not in metric_protocol_names(metric):
            raise VidbenchError(f"--protocols {item!r}: unknown {metric} protocol {name!r}; "
                                f"known: {', '.join(metric_protocol_names(metric))}")
        explicit.setdefault(metric, [])
        if name not in explicit[metric]:
            explicit[metric].append(name)
    selection.update(explicit)
    wanted = _split(metrics) or [m for m in selection if m != "psnr-ssim"]
    for metric in wanted:
        if metric not in METRIC_NAMES:
            raise VidbenchError(f"--metrics: unknown metric {metric!r}; known: "
                                f"{', '.join(METRIC_NAMES)}")
        if not selection.get(metric):
            raise VidbenchError(f"no protocol selected for {metric}; add --protocols "
                                f"{metric}=NAME")
    return {m: selection[m] for m in METRIC_NAMES if m in wanted}


def _split(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else [p for v in value for p in v.split(",")]
    return [p.strip() for p in parts if p.strip()]


def _build_jobs(fake_spec: Any, real_spec: Any, selection: dict[str, list[str]],
                ctx: EvalContext, counts: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """``(record metric, protocol, job or the user error that stopped it)`` per protocol."""
    from vidbench.metrics.cache import is_stats_file
    from vidbench.metrics.protocols import METRIC_NAMES
    from vidbench.evaluation.fvd import FVDJob
    from vidbench.evaluation.is_acd import ACDJob, ISJob
    from vidbench.evaluation.psnr_ssim import PSNRSSIMJob

    stats_file = isinstance(real_spec, str) and is_stats_file(real_spec)
    builders = {
        "fvd": lambda p: FVDJob(fake_spec, real_spec, p, ctx, num_fake=counts.get("num_fake"),
                                num_real=counts.get("num_real")),
        "is": lambda p: ISJob(fake_spec, p, ctx, num_samples=counts.get("num_samples"),
                              num_runs=counts.get("num_runs")),
        "acd": lambda p: ACDJob(fake_spec, p, ctx, real_spec=None if stats_file else real_spec,
                                num_videos=counts.get("num_videos")),
        "psnr-ssim": lambda p: PSNRSSIMJob(fake_spec, real_spec, p, ctx,
                                           num_videos=counts.get("num_videos"),
                                           num_frames=counts.get("num_frames")),
    }
    jobs = []
    for metric, names in selection.items():
        for name in names:
            try:
                if real_spec is None and metric in ("fvd", "psnr-ssim"):
                    raise VidbenchError(f"{metric} needs real clips (--real SRC)")
                jobs.append((METRIC_NAMES[metric], name, builders[metric](name)))
            except VidbenchError as exc:
                jobs.append((METRIC_NAMES[metric], name, exc))
    return jobs


def _skipped(metric: str, protocol: str, exc: VidbenchError) -> dict[str, Any]:
    return {"metric": metric, "protocol": protocol, "status": "skipped", "reason": str(exc),
            "error": type(exc).__name__}


def evaluate_all(
    fake_spec: Any,                      # generated (or predicted) clips
    real_spec: Any = None,               # real clips (FVD: or an exported statistics file)
    metrics: str | list[str] | None = None,    # e.g. "fvd,is,acd"; None: the selection's
    protocols: str | list[str] | None = None,  # set name(s) and/or metric=protocol entries
    num_fake: int | None = None,         # FVD fake clips (override)
    num_real: int | None = None,         # FVD real clips (override)
    num_samples: int | None = None,      # IS clips per run (override)
    num_runs: int | None = None,         # IS runs (override)
    num_videos: int | None = None,       # ACD videos per side, PSNR/SSIM pairs (override)
    num_frames: int | None = None,       # PSNR/SSIM: the first T frames of every video
    dry_run: bool = False,               # plan the jobs and passes, compute nothing
    **context: Any,                      # EvalContext fields: seed, batch_size, device, ...
) -> dict[str, Any]:
    """Every selected metric on one pair of sources; one record whose ``results`` hold one
    entry per (metric, protocol), each a full result record with ``status: "ok"`` or
    ``{"status": "skipped", "reason": ...}``; ``passes`` logs the feature passes."""
    from vidbench.metrics.protocols import DEFAULT_PROTOCOL_SET
    from vidbench.utils.provenance import provenance

    t0 = time.time()
    ctx = EvalContext(**context)
    selection = resolve_selection(metrics, protocols)
    counts = {k: v for k, v in (("num_fake", num_fake), ("num_real", num_real),
                                ("num_samples", num_samples), ("num_runs", num_runs),
                                ("num_videos", num_videos), ("num_frames", num_frames))
              if v is not None}
    planned = _build_jobs(fake_spec, real_spec, selection, ctx, counts)
    live = [job for _, _, job in planned if not isinstance(job, VidbenchError)]
    results: list[dict[str, Any]] = []
    if dry_run:
        passes = [job.plan_prepare() for job in live if hasattr(job, "plan_prepare")]
        passes += plan_passes([r for job in live for r in job.requests.values()])
        results = [_skipped(m, p, job) if isinstance(job, VidbenchError)
                   else {**job.plan(), "status": "planned"} for m, p, job in planned]
    else:
        outcome, passes = run_jobs(live, ctx, isolate=True)
        done = iter(outcome)
        for metric, protocol, job in planned:
            got = job if isinstance(job, VidbenchError) else next(done)
            results.append(_skipped(metric, protocol, got) if isinstance(got, VidbenchError)
                           else {**got, "status": "ok"})
    notes = []
    for r in results:
        if r["status"] == "skipped":
            notes.append(f"{r['metric']} {r['protocol']} skipped: {r['reason']}")
        notes += [f"{r['metric']} {r['protocol']}: {w}" for w in r.get("warnings", [])]
    return {
        "metric": ALL_METRIC, "protocol": ",".join(_split(protocols)) or DEFAULT_PROTOCOL_SET,
        "selection": selection, "results": results,
        "num_ok": sum(r["status"] == "ok" for r in results),
        "num_skipped": sum(r["status"] == "skipped" for r in results),
        "passes": passes, "fake": {"spec": str(fake_spec)},
        "real": None if real_spec is None else {"spec": str(real_spec)},
        "seed": ctx.seed, "overrides": counts, "batch_size": ctx.batch_size,
        **provenance(ctx.device), "seconds": round(time.time() - t0, 3), "warnings": notes,
    }
