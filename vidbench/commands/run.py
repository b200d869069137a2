"""`vidbench run EXPERIMENT`: train (or reuse), sample, score and record one of the paper's
experiments (:mod:`vidbench.experiments`)."""
from __future__ import annotations

import argparse
import sys
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


def _plan_args(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments that decide an experiment's plan (what `run`, `--launcher slurm` and
    `run status` share)."""
    from vidbench.utils.errors import VidbenchError

    try:
        seeds = tuple(int(s) for s in args.seeds.split(",")) if args.seeds else None
    except ValueError:
        raise VidbenchError(f"--seeds {args.seeds!r}: expected integers, e.g. 0,1,2") from None
    return {"name": args.experiment, "dataset": args.dataset, "preset": args.preset,
            "settings": _settings(args.set), "root": args.root, "work_dir": args.work,
            "results": args.results,
            "rows": tuple(args.rows.split(",")) if args.rows else None, "seeds": seeds,
            "methods": _pairs(args.method, "--method"),
            "generators": _pairs(args.generator, "--generator", default_key="high")}


def _slurm_options(args: argparse.Namespace):
    from vidbench.experiments.launch import SlurmOptions

    return SlurmOptions(partition=args.slurm_partition, account=args.slurm_account,
                        time_min=args.slurm_time, nodes=args.slurm_nodes,
                        gpus_per_task=args.slurm_gpus_per_task,
                        tasks_per_node=args.slurm_tasks_per_node,
                        cpus_per_task=args.slurm_cpus_per_task, mem_gb=args.slurm_mem_gb,
                        setup=tuple(args.slurm_setup or ()),
                        additional=_pairs(args.slurm_additional, "--slurm-additional"))


def _status_text(status: dict[str, Any]) -> str:
    lines = [f"{status['experiment']} on {status['dataset']}: jobs and logs in "
             f"{status['folder']}"]
    width = max(len(s["stage"]) for s in status["stages"])
    for s in status["stages"]:
        extra = f", requeued {s['requeues']}x" if s["requeues"] else ""
        if s.get("blocked_by"):
            extra += f", by {', '.join(s['blocked_by'])} (failed)"
        lines.append(f"  {s['stage']:<{width}}  {s['state']:<9} job {s['job_id'] or '-'}{extra}")
        if s.get("log_tail"):
            lines.append(f"    last lines of {s['log']}:")
            lines += [f"      {line}" for line in s["log_tail"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from vidbench.experiments import run_experiment
    from vidbench.experiments.cells import parse_shard
    from vidbench.utils.distributed import distributed_from_env, is_main

    from vidbench.metrics.frechet import few_samples_expected

    quiet = args.json or args.dry_run
    log = (lambda msg: print(msg, file=sys.stderr)) if quiet else print
    plan = _plan_args(args)
    if args.launcher == "slurm":
        from vidbench.experiments.launch import submit_slurm
        from vidbench.utils.errors import VidbenchError

        if args.dry_run or args.shard != "0/1":
            raise VidbenchError("--launcher slurm submits every stage as its own job: drop "
                                "--shard and --dry-run (the dry run of the local launcher "
                                "prints the same stage graph)")
        report = submit_slurm(plan, _slurm_options(args), device=args.device,
                              wait=args.wait, log=log)
        if args.json:
            print_plan(report, True)
        elif "status" in report:
            print(_status_text(report["status"]))
        else:
            print(f"submitted {len(report['submitted'])} job(s); follow them with `vidbench "
                  f"run status {args.experiment}` (same options)")
        return 0
    name = plan.pop("name")
    # few clips: said in each record's warnings, not on the terminal
    with few_samples_expected(), distributed_from_env(args.device) as device:
        report = run_experiment(
            name, plan.pop("dataset"), **plan, shard=parse_shard(args.shard),
            dry_run=args.dry_run, device=device, progress=not args.no_progress,
            log=log if is_main() else (lambda msg: None))
    if not is_main():
        return 0
    for problem in report["problems"]:
        print(f"vidbench run: warning: {problem}", file=sys.stderr)
    if args.json or args.dry_run:
        print_plan(report, args.json)
    else:
        print(_summary(report))
    return 0


def status(args: argparse.Namespace) -> int:
    from vidbench.experiments.launch import experiment_status

    args.experiment = args.status_experiment
    report = experiment_status(_plan_args(args))
    if args.json:
        print_plan(report, True)
    else:
        print(_status_text(report))
    return 0


def _plan_options(p, name: str | None) -> None:
    """The options that decide an experiment's plan."""
    p.add_argument("--dataset", default="shapes", metavar="D",
                   help="data set name (shapes, ucf101, faceforensics, sky, voxceleb) or a "
                        "source spec")
    p.add_argument("--preset", default="tiny", choices=["tiny", "paper"],
                   help="scale: tiny (CPU, minutes) or paper")
    p.add_argument("--root", help="data set root folder (for data set names)")
    p.add_argument("--work", metavar="DIR",
                   help="trained artefacts (default: $VIDBENCH_HOME/runs)")
    p.add_argument("--results", metavar="FILE",
                   help=f"results store (default: results/{name or 'EXPERIMENT'}.jsonl)")
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


def _slurm_arguments(p) -> None:
    from vidbench.commands._args import int_at_least

    g = p.add_argument_group("Slurm (--launcher slurm; docs/cluster.md)")
    g.add_argument("--slurm-partition", metavar="NAME", help="sbatch --partition")
    g.add_argument("--slurm-account", metavar="NAME", help="sbatch --account")
    g.add_argument("--slurm-time", type=int_at_least(1), default=60, metavar="MIN",
                   help="time limit of each job in minutes; a training stage "
                        "checkpoints and requeues itself when it runs out")
    g.add_argument("--slurm-nodes", type=int_at_least(1), default=1, metavar="N",
                   help="nodes of each training stage (one torch.distributed group)")
    g.add_argument("--slurm-gpus-per-task", type=int_at_least(0), default=0, metavar="N",
                   help="GPUs per task (0: CPU jobs)")
    g.add_argument("--slurm-tasks-per-node", type=int_at_least(1), default=1, metavar="N",
                   help="tasks (ranks) per node of a training stage, one per GPU")
    g.add_argument("--slurm-cpus-per-task", type=int_at_least(1), default=1, metavar="N",
                   help="CPUs per task")
    g.add_argument("--slurm-mem-gb", type=float, default=None, metavar="GB",
                   help="memory per node (sbatch --mem)")
    g.add_argument("--slurm-setup", action="append", metavar="LINE",
                   help="shell line run before each job, e.g. 'module load cuda' (repeatable)")
    g.add_argument("--slurm-additional", action="append", metavar="KEY=VALUE",
                   help="another #SBATCH option, e.g. qos=high or constraint=a100 (repeatable)")
    g.add_argument("--wait", action="store_true",
                   help="wait until every stage is done (or one failed) and print the status")


def _register_status(sub) -> None:
    p = add_command(
        sub, "status", help="the state of each stage of a Slurm run and its job id",
        description="Each stage of the experiment (as `vidbench run EXPERIMENT` with the same "
                    "options plans it) with its state (done, queued, running, requeued, "
                    "failed with its log's last lines, blocked by a failed stage, todo), its "
                    "Slurm job id and how often it was requeued. Run `vidbench run EXPERIMENT "
                    "--launcher slurm` again to submit only what is missing or failed (jobs "
                    "blocked by a failed stage are cancelled and submitted again).",
        example="vidbench run status ablation --dataset shapes --preset tiny")
    p.add_argument("status_experiment", metavar="EXPERIMENT", choices=list(EXPERIMENTS),
                   help=f"one of {', '.join(EXPERIMENTS)}")
    _plan_options(p, None)
    p.add_argument("--json", action="store_true", help="print the status as one JSON object")
    p.set_defaults(func=status)


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
                    "time. --dry-run prints the stage graph; --launcher slurm submits each stage "
                    "as a Slurm job; under torchrun every rank works on each cell together; "
                    "--shard i/n runs cells i, i+n, ... of this process.",
        example=example)
    _plan_options(p, name)
    p.add_argument("--shard", default="0/1", metavar="i/n",
                   help="run shard i of n (0-based) of the cells")
    p.add_argument("--dry-run", action="store_true",
                   help="print the stage graph, cells, configs and keys and the data still "
                        "missing (JSON); compute nothing, no data needed")
    p.add_argument("--launcher", default="local", choices=["local", "slurm"],
                   help="local: this machine (or every rank of a torchrun group on each cell); "
                        "slurm: one job per stage, submitted with submitit")
    p.add_argument("--device", default="cpu", help="torch device")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    _slurm_arguments(p)
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
    _register_status(sub)
