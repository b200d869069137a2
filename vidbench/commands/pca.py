"""`vidbench pca`: the PCA basis of the latent space the motion generator walks (a StyleGAN2's
W, a BigGAN's z)."""
from __future__ import annotations

import json

from vidbench.cli import add_command
from vidbench.commands._args import non_negative_int, positive_int


def run(args) -> int:
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import compute_pca, default_pca_dir, save_pca

    loaded = load_image_generator(args.generator, size=args.size,
                                  config=args.generator_config, device=args.device)
    result = compute_pca(loaded.adapter, args.num_samples, seed=args.seed,
                         batch_size=args.batch_size, progress=not args.no_progress)
    out = args.out or default_pca_dir(args.generator)
    space = "w" if loaded.kind == "stylegan2" else "z"
    sampler = ("z ~ N(0, I) from torch.Generator(cpu).manual_seed(seed), batch by batch"
               + (", mapped to w" if space == "w" else ""))
    meta_path = save_pca(result, out, {"generator": loaded.describe(), "seed": args.seed,
                                       "batch_size": args.batch_size, "space": space,
                                       "sampler": sampler})
    summary = {"out": str(meta_path.parent), "num_samples": result.num_samples,
               "latent_dim": int(result.components.shape[1]),
               "top10_var_ratio": [float(v) for v in result.var_ratio[:10]]}
    if args.preview:
        from vidbench.train.pca import load_pca
        from vidbench.sample.pca_preview import pca_preview

        basis = load_pca(meta_path.parent)           # the files just written, as G_M reads them
        info = pca_preview(loaded.adapter, basis.components, basis.stdev, basis.directory,
                           var_ratio=result.var_ratio, num_components=args.preview,
                           span=args.preview_span, seed=args.seed,
                           source={"generator": loaded.describe(), "pca": basis.describe()})
        summary["preview"] = info["png"]
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"PCA of {result.num_samples} {space} vectors written to {summary['out']} (top "
              f"component explains {result.var_ratio[0]:.3%} of the variance)")
        if args.preview:
            print(f"traversals of the first {args.preview} directions: {summary['preview']}")
    return 0


def register(subparsers) -> None:
    p = add_command(
        subparsers, "pca", help="PCA basis of a StyleGAN2's W or a BigGAN's z (for `train "
                                "motion`)",
        description="Sample z ~ N(0, I), map it to w through the frozen StyleGAN2 (a BigGAN "
                    "keeps z, paper §3) and fit an exact PCA in float64 (covariance with n - 1, components sorted by variance, "
                    "sklearn's svd_flip signs), as MoCoGAN-HD's get_stats_pca.py (1,000,000 "
                    "samples). Writes pca_comp.npy, pca_stdev.npy, pca_var_ratio.npy, "
                    "style_mean.npy, style_var.npy and pca.json (generator sha256, count, seed).",
        example="vidbench pca --generator stylegan2-ffhq-config-f.pt --num-samples 1000000 "
                "--device cuda")
    p.add_argument("--generator", required=True, metavar="G.pt",
                   help="stylegan2-shapes64 (the shipped one), a StyleGAN2 file (rosinality "
                        "layout), a `train image` run folder, or a BigGAN-PyTorch G.pth / "
                        "G_ema.pth (the kind is recognised)")
    p.add_argument("--generator-config", metavar="FILE.json",
                   help="BigGAN only: its settings as BigGAN-PyTorch option names "
                        "(default: biggan.json beside the generator; docs/biggan.md)")
    p.add_argument("--size", type=positive_int, help="expected generator size (checked)")
    p.add_argument("--num-samples", type=positive_int, default=1_000_000, help="latent vectors")
    p.add_argument("--batch-size", type=positive_int, default=4000, help="latent vectors per batch")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the z draws")
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default: <generator stem>_pca next to the generator)")
    p.add_argument("--device", default="cpu", help="torch device of the generator")
    p.add_argument("--preview", type=non_negative_int, default=0, metavar="N",
                   help="also render the image along each of the first N directions "
                        "(preview.png and preview.json in the output folder; 0: none)")
    p.add_argument("--preview-span", type=float, default=3.0, metavar="S",
                   help="the traversals go from -S to +S standard deviations (default 3)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print a summary as one JSON object")
    p.set_defaults(func=run)
