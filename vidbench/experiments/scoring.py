"""Score one cell: its clips under every metric it still needs, as result records.

Feature metrics (FVD, IS, ACD) go through :func:`vidbench.evaluation.suite.evaluate_all` in one
call, so they share the feature passes, and a metric that cannot run (e.g. the C3D weights are
missing) comes back as skipped with its reason: nothing is written for it. A trained row is
scored through its ``checkpoint:`` source (samples generated as they are read, seeded per
sample, converted to uint8 as the protocols ask), a ground-truth row as two disjoint seeded
sets of real clips, a given-clips row (a baseline) through its source spec. Prediction
(``psnr-ssim``) runs :func:`vidbench.sample.predict.predict_from_checkpoint` and scores the written
frames; the motion-diversity metric is :mod:`vidbench.experiments.diversity`.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from vidbench.utils.errors import VidbenchError
from vidbench.experiments.cells import KEY_CHARS, Cell, ResultPlan, key_of
from vidbench.experiments.scales import Scale

FEATURE_METRICS = ("fvd", "is", "acd")
Outcome = tuple[ResultPlan, dict[str, Any]]       # record, or {"status": "skipped", ...}


def skipped(reason: str) -> dict[str, Any]:
    return {"status": "skipped", "reason": reason}


def _convention(plans: list[ResultPlan]) -> str:
    """The float -> uint8 convention the protocols expect of generated clips."""
    from vidbench.metrics.isv import get_is_protocol
    from vidbench.metrics.protocols import get_protocol

    wanted = set()
    for p in plans:
        proto = get_protocol(p.protocol) if p.metric == "fvd" else (
            get_is_protocol(p.protocol) if p.metric == "is" else None)
        if proto is not None and proto.to_uint8 != "caller":
            wanted.add(proto.to_uint8)
    return wanted.pop() if len(wanted) == 1 else "round"


def _num_needed(plans: list[ResultPlan]) -> int:
    from vidbench.metrics.acd import get_acd_protocol
    from vidbench.metrics.isv import get_is_protocol
    from vidbench.metrics.protocols import get_protocol

    need = 2
    for p in plans:
        c = p.counts
        if p.metric == "fvd":
            need = max(need, c.get("num_fake") or get_protocol(p.protocol).fake.num or 2)
        elif p.metric == "is":
            proto = get_is_protocol(p.protocol)
            need = max(need, (c.get("num_samples") or proto.num_samples)
                       * (c.get("num_runs") or proto.num_runs))
        elif p.metric == "acd":
            need = max(need, c.get("num_videos") or get_acd_protocol(p.protocol).num_videos or 2)
    return need


def fake_spec_of(cell: Cell, plans: list[ResultPlan], scale: Scale, device: str) -> str:
    if cell.row.kind == "gt":
        return cell.data_spec
    if cell.row.kind == "source":
        return str(cell.row.source)
    return (f"checkpoint:{cell.motion_dir}:num_videos={_num_needed(plans)},"
            f"seed={scale.eval_seed},convention={_convention(plans)},device={device}")


def _feature_metrics(cell: Cell, plans: list[ResultPlan], scale: Scale, *, root: str | None,
                     device: str, progress: bool,
                     sampling: list[ResultPlan] | None = None) -> list[Outcome]:
    from vidbench.evaluation.suite import evaluate_all

    counts: dict[str, Any] = {}
    for p in plans:
        counts.update(p.counts)
    record = evaluate_all(fake_spec_of(cell, sampling or plans, scale, device), cell.data_spec,
                          metrics=",".join(p.metric for p in plans),
                          protocols=",".join(f"{p.metric}={p.protocol}" for p in plans),
                          num_fake=counts.get("num_fake"), num_real=counts.get("num_real"),
                          num_samples=counts.get("num_samples"), num_runs=counts.get("num_runs"),
                          num_videos=counts.get("num_videos"), seed=scale.eval_seed, root=root,
                          device=device, progress=progress)
    by_key = {(r["metric"], r["protocol"]): r for r in record["results"]}
    names = {"fvd": "fvd", "is": "isv", "acd": "acd"}
    out = []
    for p in plans:
        r = by_key[(names[p.metric], p.protocol)]
        out.append((p, skipped(r["reason"]) if r["status"] != "ok"
                    else {k: v for k, v in r.items() if k != "status"}))
    return out


def _diversity(cell: Cell, plan: ResultPlan, scale: Scale, device: str,
               progress: bool) -> Outcome:
    from vidbench.experiments.diversity import motion_diversity
    from vidbench.sample.generate import load_video_model

    model = load_video_model(cell.motion_dir, device=device)
    return plan, motion_diversity(model, num_videos=plan.counts["num_videos"],
                                  seed=scale.eval_seed, progress=progress)


def prediction_config(scale: Scale, preset: str):
    from vidbench.sample.inversion import InversionSettings
    from vidbench.sample.predict import PredictConfig

    return PredictConfig(**{"seed": scale.eval_seed, **dict(scale.predict)},
                         presets=(preset,), inversion=InversionSettings(**dict(scale.inversion)))


def prediction_clips(cell: Cell, scale: Scale) -> str:
    """The clips a prediction cell predicts: the scale's held-out set for the cell's data set
    (``test_data``), keeping the options of the cell's own spec that the held-out spec does not
    set (``shapes:scale=2,...`` predicts held-out clips of that same look, not default
    ``shapes``); the cell's own clips where the scale has no held-out set."""
    from vidbench.data.sources import format_spec, parse_spec

    test = scale.test_data.get(cell.dataset)
    if test is None:
        return cell.data_spec
    head, held_out = parse_spec(test)
    options = {**parse_spec(cell.data_spec)[1], **held_out}
    if options == held_out:
        return test
    return format_spec(head, options)


def _prediction(cell: Cell, plans: list[ResultPlan], scale: Scale, *, work: Path,
                root: str | None, device: str, progress: bool) -> list[Outcome]:
    from vidbench.evaluation.psnr_ssim import evaluate_psnr_ssim
    from vidbench.sample.predict import predict_from_checkpoint
    from vidbench.evaluation.records import split_psnr_ssim

    preset = plans[0].protocol
    if any(p.protocol != preset for p in plans):
        raise VidbenchError("one prediction run scores under one PSNR/SSIM preset")
    config = prediction_config(scale, preset)
    test = prediction_clips(cell, scale)
    out_dir = work / "predict" / key_of("prediction", {
        "model": cell.model_key, "config": config.describe(), "test": test})[:KEY_CHARS]
    if not (out_dir / "manifest.json").is_file():
        predict_from_checkpoint(cell.motion_dir, test, out_dir, config, root=root,
                                device=device, overwrite=True, progress=progress)
    pairs = {"prediction": ("pred", "real"), "up_b": ("inverted", "first_frames")}
    out = []
    for part in dict.fromkeys(p.part for p in plans):
        pred, real = pairs[part]
        rec = evaluate_psnr_ssim(str(out_dir / pred), str(out_dir / real), preset,
                                 progress=progress)
        by_metric = {r["metric"]: r for r in split_psnr_ssim(rec)}
        for plan in (p for p in plans if p.part == part):
            r = {**by_metric[plan.metric], "prediction_dir": str(out_dir), "part": part}
            if not math.isfinite(r["value"]):      # identical frames: the capped PSNR
                r.update(value=rec["psnr_capped"], value_note="PSNR capped at 100 dB")
            out.append((plan, r))
    return out


def evaluate_cell(cell: Cell, plans: list[ResultPlan], scale: Scale, *, work: Path,
                  root: str | None = None, device: str = "cpu", progress: bool = True,
                  sampling: list[ResultPlan] | None = None) -> list[Outcome]:
    """Records (or skips) for ``plans``, the not-yet-done results of ``cell``. ``sampling``:
    the feature metrics whose needs decide how a trained cell's samples are drawn (how many,
    which uint8 conversion); default ``plans``. One metric's ``eval`` stage passes all of the
    cell's, so its samples are those of a joint evaluation."""
    out: list[Outcome] = []
    features = [p for p in plans if p.metric in FEATURE_METRICS]
    if features:
        out += _feature_metrics(cell, features, scale, root=root, device=device,
                                progress=progress,
                                sampling=[p for p in sampling if p.metric in FEATURE_METRICS]
                                if sampling else None)
    for p in (p for p in plans if p.metric == "diversity"):
        out.append(_diversity(cell, p, scale, device, progress))
    predictions = [p for p in plans if p.metric in ("psnr", "ssim")]
    if predictions:
        try:
            out += _prediction(cell, predictions, scale, work=work, root=root, device=device,
                               progress=progress)
        except VidbenchError as exc:   # e.g. the VGG16 weights of the perceptual loss
            out += [(p, skipped(str(exc))) for p in predictions]
    return out
