"""`vidbench train motion`: train MoCoGAN-HD's motion generator over a frozen StyleGAN2 or
BigGAN image generator."""
from __future__ import annotations

import argparse
import dataclasses
import os

from vidbench.cli import add_command
from vidbench.commands._args import non_negative_int, print_result, parse_setting, positive_int
from vidbench.utils.distributed import distributed_from_env
from vidbench.train.motion_config import (ABLATIONS, IMAGE_DISC_VARIANTS, MEMORY_BANKS, MODES,
                                          PRESETS, VIDEO_RESPONSES, fill_defaults, load_config,
                                          resolve_config, with_overrides)
from vidbench.utils.errors import VidbenchError


def _path(value: str) -> str:
    return os.path.abspath(os.path.expanduser(value))


def overrides_from_args(args) -> dict[str, object]:
    """The config keys the command line sets explicitly."""
    o: dict[str, object] = {}
    generator, pca = getattr(args, "generator", None), getattr(args, "pca", None)
    dataset, root = getattr(args, "dataset", None), getattr(args, "root", None)
    if generator:
        from vidbench.train.image_generator import generator_argument

        o["generator"] = generator_argument(generator)
    if getattr(args, "generator_config", None):
        o["generator_config"] = _path(args.generator_config)
    if pca:
        o["pca"] = _path(pca)
    elif generator and not args.resume:
        from vidbench.train.pca import default_pca_dir

        o["pca"] = default_pca_dir(generator)
    if dataset:
        o["data.dataset"] = _path(dataset) if os.path.exists(dataset) else dataset
    if root:
        o["data.root"] = _path(root)
    if getattr(args, "init_from", None):
        o["init_from"] = _path(args.init_from)
    if getattr(args, "init_tag", None):
        o["init_tag"] = args.init_tag
    if getattr(args, "steps", None) is not None:
        o["steps"], o["epochs"] = args.steps, None
    if getattr(args, "epochs", None) is not None:
        o["epochs"], o["steps"] = args.epochs, None
    for flag, key in (("batch_size", "batch_size"), ("mode", "mode"),
                      ("image_disc_variant", "image_disc_variant"), ("seed", "seed"),
                      ("video_response", "loss.video_response"),
                      ("memory_bank", "loss.memory_bank"),
                      ("device", "device"), ("workers", "data.num_workers"),
                      ("log_every", "log_every"), ("checkpoint_every", "checkpoint_every"),
                      ("snapshot_every", "snapshot_every")):
        if getattr(args, flag, None) is not None:
            o[key] = getattr(args, flag)
    if args.deterministic:
        o["deterministic"] = True
    for name in ABLATIONS:
        if getattr(args, name.replace("-", "_")):
            o.update(ABLATIONS[name])
    o.update(dict(args.set or []))
    return o


def run(args) -> int:
    overrides = overrides_from_args(args)
    if args.resume:
        saved = os.path.join(args.out, "config.json")
        if not os.path.isfile(saved):
            raise VidbenchError(f"{args.out}: nothing to resume (no config.json)")
        cfg = fill_defaults(with_overrides(load_config(saved), overrides))
    else:
        cfg = resolve_config(args.preset, overrides=overrides)
    if args.dry_run:
        print(cfg.to_json())
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if cfg.deterministic and cfg.device.startswith("cuda"):
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    from vidbench.train.motion import train_motion

    with distributed_from_env(cfg.device) as device:
        cfg = dataclasses.replace(cfg, device=device)
        summary = train_motion(cfg, args.out, resume=args.resume, progress=not args.no_progress)
    print_result(summary, args.json, f"trained {summary['step']} iterations; checkpoint "
                                     f"{summary['checkpoint']}, export {summary['export']}")
    return 0


def register(train_subparsers) -> None:
    p = add_command(
        train_subparsers, "motion", help="train MoCoGAN-HD's motion generator (G_I frozen)",
        description=(
            "Train the motion generator G_M of MoCoGAN-HD over a frozen image generator "
            "(StyleGAN2: the motion walks W; BigGAN-PyTorch G.pth/G_ema.pth: it walks z, "
            "the class fixed, settings from biggan.json beside the file or "
            "--generator-config, docs/biggan.md) and its PCA basis (`vidbench pca`), against "
            "a video data set. Defaults "
            "follow the official code (snap-research/MoCoGAN-HD 27356ba); presets: "
            f"{', '.join(PRESETS)} (`paper` picks the row of --dataset when it has one). "
            "Where the paper and the official code differ (docs/official-code.md), the code is the "
            "default and a switch gives the paper's version: --image-disc-variant official "
            "(in-domain RaLS PatchGAN on [x_1; x_t] pairs, no contrastive term) or "
            "paper-contrastive (contrastive pairs of augmented real frames, paper §3.2); "
            "--video-response patch (LSGAN on every D_3d patch) or averaged (paper §3.1); "
            "--memory-bank two-queues (EMA projections of aug(x_1) and aug(x_t)) or fake-frames "
            "(one bank of fake frames, paper App. A.2.2); the residual step λ is 0.2 in every "
            "mode (the paper's smaller cross-domain λ is lost: --set "
            "motion.residual_scale=...); clips use stride 2 everywhere (the paper's consecutive "
            "FaceForensics frames: --set data.time_step=1). Under torchrun with "
            "several processes the run is data-parallel (gloo on CPU, NCCL on GPU); --batch-size "
            "is the global batch. The run folder gets config.json, run.json, log.jsonl, "
            "checkpoint-latest.pt (resume with --resume) and modelR_latest.pth/.json."),
        example="vidbench train motion --generator shapes_g.pt --pca shapes_g_pca "
                "--dataset shapes:length=40 --preset tiny --steps 50 --out runs/motion-tiny")
    p.add_argument("--generator", metavar="G.pt", default=argparse.SUPPRESS,
                   help="stylegan2-shapes64 (the shipped one), a StyleGAN2 file (rosinality "
                        "layout), a `train image` run folder, or a BigGAN-PyTorch G.pth / "
                        "G_ema.pth (the kind is recognised)")
    p.add_argument("--generator-config", metavar="FILE.json", default=argparse.SUPPRESS,
                   help="BigGAN only: its settings as BigGAN-PyTorch option names "
                        "(default: biggan.json beside the generator; docs/biggan.md)")
    p.add_argument("--pca", metavar="DIR", default=argparse.SUPPRESS,
                   help="PCA folder (default: <generator stem>_pca next to the generator)")
    p.add_argument("--dataset", metavar="SRC", default=argparse.SUPPRESS,
                   help="video source: a data set name (with --root), a path, or shapes[:...] "
                        "(default: the preset's)")
    p.add_argument("--root", default=argparse.SUPPRESS, help="data set root folder")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder")
    p.add_argument("--preset", default="paper", choices=list(PRESETS), help="config preset")
    preset_flags = [
        ("--steps", dict(type=positive_int, help="iterations (each: 1 D step + g_steps G steps)")),
        ("--epochs", dict(type=positive_int, help="epochs of one clip per video, instead")),
        ("--batch-size", dict(type=positive_int, help="global batch")),
        ("--mode", dict(choices=MODES, help="in-domain or cross-domain training")),
        ("--image-disc-variant", dict(choices=IMAGE_DISC_VARIANTS,
                                      help="in-domain image D: official or paper-contrastive")),
        ("--video-response", dict(choices=VIDEO_RESPONSES,
                                  help="D_3d loss on every patch (code) or on the per-sample "
                                       "average of the patches (paper §3.1)")),
        ("--memory-bank", dict(choices=MEMORY_BANKS,
                               help="contrastive negatives: two-queues (code) or fake-frames "
                                    "(paper App. A.2.2)")),
        ("--seed", dict(type=int, help="seed of every random generator of the run")),
        ("--device", dict(help="torch device (cuda: one GPU per torchrun process)")),
        ("--workers", dict(type=int, help="DataLoader workers decoding clips")),
        ("--log-every", dict(type=positive_int, help="iterations between log lines")),
        ("--checkpoint-every", dict(type=positive_int,
                                    help="iterations between checkpoint-latest.pt writes")),
        ("--snapshot-every", dict(type=positive_int,
                                  help="iterations between kept checkpoint-<step>.pt files")),
    ]
    for flag, kwargs in preset_flags:   # unset flags keep the preset's value
        kwargs["help"] += " (default: the preset's)"
        p.add_argument(flag, default=argparse.SUPPRESS, **kwargs)
    p.add_argument("--init-from", metavar="DIR", default=argparse.SUPPRESS,
                   help="start from official modelR_/modelD_3d_/modelD_img_<tag>.pth files "
                        "(optimisers start fresh, as the official resume)")
    p.add_argument("--init-tag", default=argparse.SUPPRESS,
                   help="tag of those files: latest or epoch_<E> (default: latest)")
    p.add_argument("--deterministic", action="store_true",
                   help="torch.use_deterministic_algorithms for the run")
    for name in ABLATIONS:
        p.add_argument(f"--{name}", action="store_true",
                       help="ablation: " + ", ".join(f"{k}={v}" for k, v in ABLATIONS[name].items()))
    p.add_argument("--set", action="append", type=parse_setting, metavar="KEY=VALUE",
                   help="override any config key (dotted, e.g. loss.w_match=5.0); repeatable")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from checkpoint-latest.pt")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    p.add_argument("--threads", type=non_negative_int, default=0,
                   help="CPU threads for torch (0: torch's default); the demo trains with 1, "
                        "and the result depends on it at the level of float rounding")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)
