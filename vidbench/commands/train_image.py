"""`vidbench train image`: train a StyleGAN2 image generator (rosinality checkpoint layout)."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from vidbench.cli import add_command
from vidbench.commands._args import add_deprecated_alias, non_negative_int, positive_int
from vidbench.utils.distributed import distributed_from_env, is_main
from vidbench.utils.errors import BadInputError


# CLI flag -> config key; a flag left out keeps the preset's (or the resumed run's) value.
_FLAGS = {"dataset": "dataset", "root": "root", "size": "size", "steps": "steps",
          "batch": "batch", "lr": "lr", "channels": "channels",
          "d_channels": "d_channels", "resize": "resize",
          "r1_gamma": "r1_gamma", "checkpoint_every": "checkpoint_every", "seed": "seed",
          "hflip": "hflip", "log_every": "log_every", "augment": "augment"}


def _saved_config(out: Path) -> dict:
    path = out / "config.json"
    if not path.is_file():
        raise BadInputError(path, "nothing to resume: the run directory has no config.json")
    try:
        return json.loads(path.read_text())["config"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BadInputError(path, f"not a run config ({exc})") from None


def run(args) -> int:
    import torch

    from vidbench.train.image_config import config_from_dict, preset
    from vidbench.train.image import train_image

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {key: getattr(args, flag) for flag, key in _FLAGS.items() if hasattr(args, flag)}
    out = Path(args.out)
    if args.resume:
        config = config_from_dict(overrides, config_from_dict(_saved_config(out)))
    else:
        config = preset(args.preset, **overrides)
    if args.dry_run:
        from dataclasses import asdict

        print(json.dumps({"out": str(out), "resume": args.resume, "config": asdict(config)},
                         indent=2))
        return 0
    start = time.perf_counter()
    with distributed_from_env(args.device) as device:
        path = train_image(config, out, resume=args.resume, progress=not args.no_progress,
                           device=device)
    if is_main():
        print(f"generator: {path} (and {path.with_suffix('.json').name}); samples in "
              f"{out / 'samples'}; {config.steps} steps in {time.perf_counter() - start:.0f} s")
    return 0


def register(train_subparsers) -> None:
    from vidbench.data.resize import RESIZE_METHODS
    from vidbench.train.image_config import PRESETS

    keep = argparse.SUPPRESS  # config flags: absent from args unless given

    p = add_command(
        train_subparsers, "image", help="train a StyleGAN2 image generator on video frames",
        description="Train a StyleGAN2 generator (non-saturating logistic loss, lazy R1, EMA "
                    "generator; no path-length regularisation or style mixing) on the frames of "
                    "any vidbench source. Writes RUN_DIR/generator.pt in the rosinality layout "
                    "(key g_ema) with generator.json (constructor arguments, sha256), "
                    "checkpoint.pt for --resume, samples/step_XXXXXX.png, log.jsonl and "
                    "config.json. Flags left out keep the preset's value (with --resume: the "
                    "run's own; only --steps may change). Under torchrun the global --batch-size is "
                    "split over the processes (data parallel, gloo on CPU, NCCL on CUDA).",
        example="vidbench train image --dataset shapes --preset tiny --out runs/shapes-image\n"
                "vidbench train image --out runs/shapes-image --resume --steps 3000\n"
                "torchrun --standalone --nproc_per_node 2 -m vidbench train image --threads 1 "
                "--out runs/shapes-image-2p")
    p.add_argument("--dataset", default=keep, metavar="SRC",
                   help="frames to learn: a path, a data set name (with --root) or "
                        "shapes[:key=value,...] (preset default: shapes)")
    p.add_argument("--root", default=keep,
                   help="data set root folder (for data set names such as ucf101)")
    p.add_argument("--preset", default="tiny", choices=list(PRESETS),
                   help="tiny: 32x32 CPU demo; stylegan2: rosinality's defaults at 64x64")
    p.add_argument("--size", default=keep, type=positive_int, help="image side, a power of two")
    p.add_argument("--steps", default=keep, type=positive_int,
                   help="training steps (one D and one G update)")
    p.add_argument("--batch-size", dest="batch", default=keep, type=positive_int,
                   help="images per step")
    add_deprecated_alias(p, "--batch", "--batch-size", dest="batch", type=positive_int)
    p.add_argument("--lr", default=keep, type=float, help="Adam learning rate")
    p.add_argument("--channels", default=keep, type=positive_int,
                   help="channels at every resolution (preset: 32 for tiny, the StyleGAN2 table "
                        "for stylegan2)")
    p.add_argument("--d-channels", default=keep, type=positive_int,
                   help="the discriminator's channels at every resolution (default: --channels)")
    p.add_argument("--resize", default=keep, choices=list(RESIZE_METHODS),
                   help="named resize method to the training size (preset: area)")
    p.add_argument("--r1-gamma", default=keep, type=float, help="R1 weight gamma")
    p.add_argument("--hflip", action=argparse.BooleanOptionalAction, default=keep,
                   help="random left-right flips of the real images (preset: off)")
    p.add_argument("--augment", default=keep, metavar="POLICY",
                   help="DiffAugment transforms of the discriminator's inputs, comma-separated: "
                        "translation, cutout (preset: none)")
    p.add_argument("--checkpoint-every", default=keep, type=positive_int,
                   help="steps between checkpoints and sample grids")
    p.add_argument("--log-every", default=keep, type=positive_int,
                   help="steps per log.jsonl line (preset: 10)")
    p.add_argument("--seed", default=keep, type=non_negative_int,
                   help="seed of weights, latents and data order")
    p.add_argument("--out", default="runs/train-image", metavar="RUN_DIR", help="run directory")
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu, cuda")
    p.add_argument("--threads", type=non_negative_int, default=0,
                   help="CPU threads for torch (0: torch's default); 1 is fastest for the tiny "
                        "preset's small networks")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and stop")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


__all__ = ["register", "run"]
