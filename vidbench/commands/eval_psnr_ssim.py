"""`vidbench eval psnr-ssim`: PSNR and SSIM of predicted videos against real ones, paired in
order, under a named preset.

With --json, an infinite PSNR (a frame identical to its reference) is written as the string
"inf" (strict JSON); `psnr_capped` is always a number.
"""
from __future__ import annotations

import math

from vidbench.cli import add_command
from vidbench.commands._args import (add_common_args, add_list_protocols, context_kwargs,
                                     positive_int, print_protocols, print_result,
                                     protocol_name)
from vidbench.utils.errors import VidbenchError


def run(args) -> int:
    if args.list_protocols:
        print_protocols("psnr-ssim", args.json)
        return 0
    if not args.pred or not args.real:
        raise VidbenchError("eval psnr-ssim needs --pred SRC and --real SRC (or --list-protocols)")
    from vidbench.evaluation.psnr_ssim import evaluate_psnr_ssim

    result = evaluate_psnr_ssim(args.pred, args.real, args.preset, num_videos=args.num_videos,
                                num_frames=args.num_frames, ffmpeg=args.ffmpeg,
                                **context_kwargs(args))
    psnr = result["psnr"]
    psnr_text = "inf" if math.isinf(psnr) else f"{psnr:.4f}"
    line = (f"PSNR[{result['protocol']}] = {psnr_text} dB (capped at 100 dB per frame: "
            f"{result['psnr_capped']:.4f}), SSIM = {result['ssim']:.4f}  "
            f"({result['num_videos']} pairs x {result['num_frames']} frames, "
            f"{result['seconds']:.1f} s)")
    print_result(result, args.json, line)
    return 0


def register(eval_subparsers) -> None:
    p = add_command(
        eval_subparsers, "psnr-ssim", help="PSNR and SSIM of predicted vs real videos (paired)",
        description="PSNR and SSIM between the i-th predicted and the i-th real video, per "
                    "frame, averaged over frames then videos. Both sources must have the same "
                    "number of videos (or use --num-videos) and each pair the same "
                    "[T, H, W, 3]. Presets: wang (skimage, Wang et al. settings), valid-crop "
                    "(JunyaoHu/BasicSR: an alias of wang, same numbers), dtvnet-ffmpeg "
                    "(DTVNet's mp4 + ffmpeg filters). With "
                    "--json an infinite PSNR is written as the string \"inf\"; psnr_capped "
                    "caps each frame at 100 dB and is always a number.",
        example="vidbench eval psnr-ssim --pred predicted/ --real data/sky/test --preset wang "
                "--num-frames 32 --json")
    p.add_argument("--pred", metavar="SRC", help="predicted videos (any vidbench data source)")
    p.add_argument("--real", metavar="SRC", help="the real videos, in the same order")
    p.add_argument("--preset", "--protocol", dest="preset", default="wang",
                   type=protocol_name("psnr-ssim"), help="named PSNR/SSIM preset")
    p.add_argument("--num-videos", type=positive_int,
                   help="use the first N pairs (recorded as an override)")
    p.add_argument("--num-frames", type=positive_int,
                   help="use the first T frames of every video (recorded as an override)")
    p.add_argument("--ffmpeg", metavar="PATH",
                   help="ffmpeg binary for dtvnet-ffmpeg (default: the one imageio-ffmpeg ships)")
    add_list_protocols(p, "PSNR/SSIM")
    add_common_args(p)
    p.set_defaults(func=run)
