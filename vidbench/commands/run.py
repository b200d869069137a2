"""`vidbench run EXPERIMENT`: train (or reuse), sample, score and record one of the paper's
experiments (:mod:`vidbench.experiments`)."""
from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from vidbench.cli import add_command
from vidbench.commands._args import parse_setting, print_plan

EXPERIMENTS = {
    "ablation": ("Tab. 5 UCF-101 ablations: w/o Eqn. 2, w/o D_I, w/o D_V, Full-128, Full-256",
                 "vidbench run ablation --dataset shapes --preset tiny"),
    "benchmark": ("Tab. 2 / Tab. 3 rows: Ours (IS/FVD, FaceForensics FVD/ACD with GT, Sky FVD), "
                  "plus any baseline given with --method",
                  "vidbench run benchmark --dataset faceforensics --root data/ff --preset paper "
                  "--generator high=faceforensics-fid10.99.pt --shard 0/4"),
    "prediction": ("Tab. 3 Sky Time-lapse video prediction from the first frame: PSNR/SSIM of "
                   "Ours and the inversion upper bound Up-B",
                   "vidbench run prediction --dataset shapes --preset tiny --set "
                   "inversion.steps=20"),
    "cross-domain": ("Tab. 5 (FFHQ, VoxCeleb) ablation: w/o L_contr, w/o L_mi, Full (ACD) and "
                     "App. D motion diversity",
                     "vidbench run cross-domain --dataset voxceleb --root data/vox --preset paper "
                     "--generator high=ffhq_256.pt --set motion.epochs=30"),
    "diversity": ("App. D motion diversity: many videos of one content code (noise off), "
                  "Full vs w/o L_mi",
                  "vidbench run diversity --dataset shapes --preset tiny --set "
                  "diversity_videos=32"),
}


def _pairs(items: list[str] | None, flag: str, default_key: str | None = None) -> dict[str, str]:
    from vidbench.utils.errors import VidbenchError

    out: dict[str, str] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq:
            if default_key is None:
                raise VidbenchError(f"{flag} {item!r}: expected NAME=VALUE")
            key, value = default_key, item
        out[key.strip()] = value.strip()
    return out


def _settings(items: list[str] | None) -> dict[str, Any]:
    from vidbench.utils.errors import VidbenchError

    out: dict[str, Any] = {}
    for item in items or []:
        try:
            key, value = parse_setting(item)
        except argparse.ArgumentTypeError:
            raise VidbenchError(f"--set {item!r}: expected NAME=VALUE") from None
        out[key] = value
    return out


def _summary(report: dict[str, Any]) -> str:
    lines = [f"{report['experiment']} on {report['dataset']} ({report['preset']}), shard "
             f"{report['shard']}: {report['num_in_shard']} of {report['num_cells']} cell(s)"]
    for cell in report["cells"]:
        lines.append(f"  {cell['cell']}: {cell['status']}")
        for m in cell.get("metrics", []):
            what = (f"{m['value']:.6g}" + (" (counts overridden)" if m["overrides"] else "")
                    if m["status"] == "ok" else f"skipped: {m['reason']}")
            lines.append(f"    {m['metric']} [{m['protocol']}]: {what}")
    lines.append(f"appended {report['appended']} result line(s) to {report['results']} "
                 f"({report['seconds']:.1f} s); render with `vidbench table "
                 f"{report['table']}`")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from vidbench.experiments import run_experiment
    from vidbench.experiments.cells import parse_shard

    from vidbench.metrics.frechet import FewSamplesWarning

    quiet = args.json or args.dry_run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewSamplesWarning)  # in each record's warnings
        report = run_experiment(
            args.experiment, args.dataset, preset=args.preset, settings=_settings(args.set),
            root=args.root, work_dir=args.work, results=args.results,
            rows=tuple(args.rows.split(",")) if args.rows else None,
            seeds=tuple(int(s) for s in args.seeds.split(",")) if args.seeds else None,
            methods=_pairs(args.method, "--method"),
            generators=_pairs(args.generator, "--generator", default_key="high"),
            shard=parse_shard(args.shard), dry_run=args.dry_run, device=args.device,
            progress=not args.no_progress,
            log=(lambda msg: print(msg, file=sys.stderr)) if quiet else print)
    for problem in report["problems"]:
        print(f"vidbench run: warning: {problem}", file=sys.stderr)
    if args.json or args.dry_run:
        print_plan(report, args.json)
    else:
        print(_summary(report))
    return 0


def _register_one(sub, name: str) -> None:
    help_text, example = EXPERIMENTS[name]
    p = add_command(
        sub, name, help=help_text,
        description=f"{help_text}. Each row and training seed is a cell: its image generator "
                    "(trained with the preset's image settings, or --generator), PCA basis and "
                    "motion generator are trained or reused (folders named by content keys "
                    "under --work), samples are scored and one line per number is appended to "
                    "--results. Cells already in the results store are skipped; a metric that "
                    "cannot run (missing weights) is reported as skipped and tried again next "
                    "time. --shard i/n runs cells i, i+n, ... so n cluster jobs cover all "
                    "cells; --dry-run prints the cells, configs and keys.",
        example=example)
    p.add_argument("--dataset", default="shapes", metavar="D",
                   help="data set name (shapes, ucf101, faceforensics, sky, voxceleb) or a "
                        "source spec")
    p.add_argument("--preset", default="tiny", choices=["tiny", "paper"],
                   help="scale: tiny (CPU, minutes) or paper")
    p.add_argument("--root", help="data set root folder (for data set names)")
    p.add_argument("--work", metavar="DIR",
                   help="trained artefacts (default: $VIDBENCH_HOME/runs)")
    p.add_argument("--results", metavar="FILE",
                   help=f"results store (default: results/{name}.jsonl)")
    p.add_argument("--rows", help="only these rows, comma-separated (e.g. full-256,no-eqn2)")
    p.add_argument("--seeds", help="training seeds, comma-separated (default: the spec's)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="scale setting: motion.KEY, image.KEY, predict.KEY, inversion.KEY, "
                        "size.high, size.low, num_fake, num_real, is_samples, is_runs, "
                        "acd_videos, diversity_videos, pca_samples, eval_seed (repeatable)")
    p.add_argument("--generator", action="append", metavar="[SLOT=]FILE",
                   help="use this image generator for slot high (default) or low instead of "
                        "training one")
    p.add_argument("--method", action="append", metavar="NAME=SRC",
                   help="benchmark: also score these clips as row NAME (e.g. "
                        "tganv2=baselines:tganv2:samples.npy)")
    p.add_argument("--shard", default="0/1", metavar="i/n",
                   help="run shard i of n (0-based) of the cells")
    p.add_argument("--dry-run", action="store_true",
                   help="print the cells, configs and keys (JSON); compute nothing")
    p.add_argument("--device", default="cpu", help="torch device")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run, experiment=name)


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "run", help="run one of the paper's experiments end to end",
        description="Train (or reuse), sample, evaluate and record the cells of an experiment "
                    "of the MoCoGAN-HD paper; `vidbench table` renders the results.",
        example="vidbench run ablation --dataset shapes --preset tiny && vidbench table ablation")
    sub = parser.add_subparsers(dest="experiment_name", metavar="EXPERIMENT")
    sub.required = True
    for name in EXPERIMENTS:
        _register_one(sub, name)
