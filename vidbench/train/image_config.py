"""Configuration of ``vidbench train image``: one frozen dataclass, presets as data.

:class:`ImageTrainConfig` holds every setting with its default (rosinality ``train.py``'s
defaults where it has one: lr 0.002, R1 γ 10 every 16 steps, EMA half-life 10k images).
:data:`PRESETS` are partial overrides; :func:`preset` applies one and then the caller's
overrides; an unknown key is an error. The resolved config is saved with every run.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from vidbench.data.resize import RESIZE_METHODS
from vidbench.train.diffaugment import parse_policy
from vidbench.utils.errors import VidbenchError

_RESIZE = tuple(RESIZE_METHODS)


@dataclass(frozen=True)
class ImageTrainConfig:
    """Settings of one image-generator run (units in the comments)."""

    dataset: str = "shapes"           # any vidbench source spec (path, data set name, shapes:...)
    root: str | None = None           # data set root, for data set names
    resize: str = "area"              # named resize method to the training size
    frame_step: int = 1               # keep every k-th frame of each video
    max_images: int | None = 200_000  # frames held in memory (uint8), None = all
    hflip: bool = False               # random left-right mirroring of reals
    augment: str = ""                 # DiffAugment policy for D's inputs, e.g. "translation,cutout"
    size: int = 64                    # image side (power of two >= 8)
    style_dim: int = 512              # z and w dimension
    n_mlp: int = 8                    # mapping layers
    channel_multiplier: int = 2       # StyleGAN2 channel table multiplier
    channels: int | None = None       # one channel count for every resolution (None: table)
    max_channels: int | None = None   # cap on every resolution's channels
    d_channels: int | None = None     # the discriminator's channel count (None: as ``channels``)
    batch: int = 16                   # images per step
    steps: int = 100_000              # training steps (one D and one G update each)
    lr: float = 0.002                 # Adam learning rate (D's scaled by k/(k+1))
    r1_gamma: float = 10.0            # R1 weight γ (applied as γ/2 · k every k steps)
    r1_every: int = 16                # k: lazy R1 interval in steps
    ema_half_life: float = 10_000.0   # g_ema half-life in images
    ema_rampup: float | None = None   # cap the half-life at images_seen · rampup (ADA: 0.05)
    checkpoint_every: int = 1_000     # steps between checkpoints and sample grids
    log_every: int = 10               # steps per log.jsonl line
    sample_grid: int = 8              # sample grid rows = columns
    seed: int = 0                     # seeds weights, latents, noise and data order

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise VidbenchError(f"train image: {what}")

        need(self.size >= 8 and self.size & (self.size - 1) == 0,
             f"size must be a power of two >= 8, got {self.size}")
        need(self.resize in _RESIZE, f"resize {self.resize!r} unknown; valid: {', '.join(_RESIZE)}")
        for name in ("frame_step", "style_dim", "n_mlp", "channel_multiplier", "batch", "steps",
                     "r1_every", "checkpoint_every", "log_every", "sample_grid"):
            need(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_images", "channels", "max_channels", "d_channels"):
            value = getattr(self, name)
            need(value is None or value >= 1, f"{name} must be >= 1 or None, got {value}")
        group = min(4, self.batch)
        need(self.batch % group == 0, f"batch {self.batch} must be divisible by the minibatch-"
                                      f"stddev group {group} (use 1, 2, 3 or a multiple of 4)")
        try:
            parse_policy(self.augment)
        except ValueError as err:
            need(False, f"augment: {err}")
        need(self.lr > 0, f"lr must be > 0, got {self.lr}")
        need(self.r1_gamma >= 0, f"r1_gamma must be >= 0, got {self.r1_gamma}")
        need(self.ema_half_life > 0, f"ema_half_life must be > 0, got {self.ema_half_life}")
        need(self.ema_rampup is None or self.ema_rampup > 0,
             f"ema_rampup must be > 0 or None, got {self.ema_rampup}")
        need(self.seed >= 0, f"seed must be >= 0, got {self.seed}")


PRESETS: dict[str, dict[str, Any]] = {
    # The CPU demo: 32x32 shapes in about 4 minutes on one CPU thread (about 0.09 s per step;
    # one thread beats two for networks this small). Chosen from runs on `shapes`: 64 channels
    # cost 3.5x per step for no visible gain; lr 0.005 or R1 gamma <= 0.5 collapsed colours;
    # 16 channels mixed colours within a shape; batch 32 learned no faster per image.
    "tiny": {"size": 32, "style_dim": 128, "n_mlp": 2, "channels": 32, "batch": 16,
             "steps": 2500, "lr": 0.0025, "r1_gamma": 1.0, "ema_half_life": 2_000.0,
             "ema_rampup": 0.05, "checkpoint_every": 500, "sample_grid": 8},
    # rosinality train.py's defaults at 64x64 (GPU scale).
    "stylegan2": {},
}


def config_from_dict(values: dict[str, Any], base: ImageTrainConfig | None = None
                     ) -> ImageTrainConfig:
    """``base`` (default: the defaults) with ``values`` applied; unknown keys are an error."""
    known = {f.name for f in fields(ImageTrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise VidbenchError(f"train image: unknown config key(s) {', '.join(unknown)}; "
                            f"valid: {', '.join(sorted(known))}")
    return replace(base or ImageTrainConfig(), **values)


def preset(name: str, **overrides: Any) -> ImageTrainConfig:
    """The preset ``name`` with ``overrides`` applied on top."""
    if name not in PRESETS:
        raise VidbenchError(f"train image: unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    return config_from_dict(overrides, config_from_dict(PRESETS[name]))


def config_to_dict(config: ImageTrainConfig) -> dict[str, Any]:
    return asdict(config)
