"""`vidbench eval acd`: Average Content Distance (face embeddings) under a named protocol."""
from __future__ import annotations

from vidbench.cli import add_command
from vidbench.commands._args import (add_common_args, add_list_protocols, evaluate_job_command,
                                     positive_int, print_result, protocol_name)


def run(args) -> int:
    from vidbench.evaluation.is_acd import ACDJob, evaluate_acd

    result = evaluate_job_command(args, "acd", ACDJob, evaluate_acd,
                                  real_spec=args.real, num_videos=args.num_videos)
    if result is None:
        return 0
    pairs = ", ".join(f"{k} {v:.4f}" for k, v in result["by_pairs"].items())
    real = f"; real {result['real']['value']:.4f}" if result["real"] else ""
    line = (f"ACD[{result['protocol']}] = {result['value']:.4f} (std over videos "
            f"{result['std']:.4f}; {result['num_fake']} videos; pairs: {pairs}{real}; "
            f"{result['seconds']:.1f} s)")
    print_result(result, args.json, line)
    return 0


def register(eval_subparsers) -> None:
    p = add_command(
        eval_subparsers, "acd", help="Average Content Distance (VGGFace2 embeddings)",
        description="ACD of generated clips: per video, the mean L2 distance between the unit "
                    "face embeddings (facenet-pytorch InceptionResnetV1, VGGFace2) of frame "
                    "pairs, averaged over videos; the first 16 frames of each video. The "
                    "protocol fixes the input (MoCoGAN-HD's whole 128x128 frames or MTCNN "
                    "crops), the pairs (consecutive or all) and the video count; both pair "
                    "readings are reported. --real adds the ACD of real clips (the "
                    "ground-truth row). Needs 20180402-114759-vggface2.pt in "
                    "$VIDBENCH_HOME/weights.",
        example="vidbench eval acd --fake samples/ --real data/faceforensics/test "
                "--protocol mocogan-hd-all --num-videos 128 --json")
    p.add_argument("--fake", metavar="SRC", help="generated clips (any vidbench data source)")
    p.add_argument("--real", metavar="SRC", help="real clips: their ACD is reported as well")
    p.add_argument("--protocol", default="mocogan-hd-all", type=protocol_name("acd"),
                   help="named ACD protocol")
    p.add_argument("--num-videos", type=positive_int,
                   help="videos per side (default: the protocol's count, or all; recorded "
                        "as an override)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the resolved protocol, the drawn clips and the embedder "
                        "contract; compute nothing")
    add_list_protocols(p, "ACD")
    add_common_args(p)
    p.set_defaults(func=run)
