"""`vidbench eval acd`: Average Content Distance (face embeddings) under a named protocol."""
from __future__ import annotations

from vidbench.cli import add_command
from vidbench.commands._args import (add_common_args, add_list_protocols, context_kwargs,
                                     distributed_from_env, positive_int, print_plan, print_result,
                                     protocol_name)
from vidbench.utils.errors import VidbenchError


def run(args) -> int:
    if args.list_protocols:
        from vidbench.metrics.protocols import describe_metric_protocols

        print(describe_metric_protocols("acd"))
        return 0
    if not args.fake:
        raise VidbenchError("eval acd needs --fake SRC (or --list-protocols)")
    kwargs = {"real_spec": args.real, "num_videos": args.num_videos}
    if args.dry_run:
        from vidbench.evaluation.is_acd import ACDJob
        from vidbench.evaluation.passes import EvalContext

        job = ACDJob(args.fake, args.protocol, EvalContext(**context_kwargs(args)), **kwargs)
        print_plan(job.plan(), args.json)
        return 0
    from vidbench.evaluation.is_acd import evaluate_acd

    with distributed_from_env(args.device) as device:
        result = evaluate_acd(args.fake, args.protocol, **kwargs, **context_kwargs(args, device))
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
