"""Typed configuration of MoCoGAN-HD motion training: frozen dataclasses, presets as data.

Every default lives in the dataclasses below, and they are the official code's values
(snap-research/MoCoGAN-HD ``options/*.py`` and ``train_func_*.py``). :data:`PRESETS` (``paper``,
``paper-<dataset>``, ``tiny``) and :data:`ABLATIONS` are dicts of dotted overrides;
:func:`resolve_config` applies preset → ablations → user overrides, so the saved
``config.json`` states every value a run used. An unknown key is an error everywhere.

Defaults: docs/official-code.md, *Hyper-parameters*; presets: *Training loop and per-data-set
settings*.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from vidbench.utils.config_json import flatten_keys, from_dict, to_jsonable
from vidbench.utils.errors import BadInputError, VidbenchError

MODES = ("in-domain", "cross-domain")
VIDEO_RESPONSES = ("patch", "averaged")
MEMORY_BANKS = ("two-queues", "fake-frames")
IMAGE_DISC_VARIANTS = ("official", "paper-contrastive")
CONFIG_FORMAT = "vidbench-motion-config/1"


@dataclass(frozen=True)
class MotionNetConfig:
    hidden_dim: int = 384           # LSTM hidden size (--h_dim)
    n_pca: int = 384                # PCA components used (--n_pca)
    residual_scale: float = 0.2     # λ of Eqn. 2 (--w_residual), every mode in the code
    residual: bool = True           # False: the "w/o Eqn. 2" ablation (paper Tab. 5)


@dataclass(frozen=True)
class DiscConfig:
    frame_size: int = 128           # side of every discriminator input (--video_frame_size)
    ndf: int = 64                   # PatchGAN width, both scales (D_3d and the pair D)
    ndf_max: int = 64               # PatchGAN width cap (64 in the code)
    n_layers: int = 3               # PatchGAN strided layers
    num_scales: int = 2             # PatchGAN scales (--num_D)
    biggan_ch: int = 96             # BigGAN D width (contrastive image D)
    proj_dim: int = 256             # contrastive projection size (--l_len)
    queue_size: int = 4096          # memory-bank rows (--q_len), rounded to the global batch
    ema_momentum: float = 0.999     # EMA of the image D (--moco_m)
    tau: float = 0.07               # InfoNCE temperature (--moco_t)


@dataclass(frozen=True)
class LossConfig:
    video_disc: bool = True         # D_3d and its G term (Eqn. 4)
    image_disc: bool = True         # the image D and its G terms (Eqn. 5, feature matching)
    contrastive: bool = True        # InfoNCE in the image-D loss (Eqn. 6); not in-domain/official
    mi: bool = True                 # mutual-information term (Eqn. 3)
    w_video: float = 1.0            # weight of the D_3d term in L_G (hard-coded 1)
    w_image: float = 1.0            # weight of the image-D term in L_G (hard-coded 1)
    w_match: float = 1.0            # feature matching (--w_match; 5.0 for FFHQ-VoxCeleb)
    w_mi: float = 1.0               # MI term in L_G (hard-coded 1)
    w_contrastive: float = 2.0      # InfoNCE in the image-D loss (hard-coded 2)
    gp_weight: float = 10.0         # D_3d gradient penalty
    video_response: str = "patch"   # patch: LSGAN on every D_3d patch (code); averaged (paper §3.1)
    memory_bank: str = "two-queues"  # two-queues (code); fake-frames (paper App. A.2.2)


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 1e-4                                 # every optimiser, constant
    betas: tuple[float, float] = (0.5, 0.999)        # G_M and D_3d Adam
    eps: float = 1e-8                                # G_M and D_3d Adam
    image_betas: tuple[float, float] | None = None   # None: (0.5, 0.999) PatchGAN, (0, 0.999) BigGAN D
    image_eps: float | None = None                   # None: 1e-8 PatchGAN, 1e-6 BigGAN D


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "shapes"         # a vidbench source spec (data set name, path, shapes:...)
    root: str | None = None         # data set root for registered data set names
    n_frames: int = 16              # frames per clip (--n_frames_G)
    time_step: int = 2              # stride between clip frames (--time_step)
    num_workers: int = 0            # DataLoader workers decoding clips


@dataclass(frozen=True)
class MotionTrainConfig:
    generator: str | None = None    # image generator file (StyleGAN2 rosinality layout or
                                    # BigGAN-PyTorch G.pth / G_ema.pth)
    generator_config: str | None = None  # BigGAN config JSON (None: biggan.json beside it)
    pca: str | None = None          # folder with pca_comp.npy, pca_stdev.npy, style_mean.npy
    mode: str = "in-domain"         # in-domain | cross-domain (docs/official-code.md)
    image_disc_variant: str = "official"  # official | paper-contrastive (in-domain, paper §3.2)
    batch_size: int = 16            # global batch, split across DDP ranks (--batchSize)
    steps: int | None = None        # iterations (one D step + g_steps G steps each)
    epochs: int | None = None       # alternatively: epochs of one clip per video
    g_steps: int = 5                # G steps per D step, same real batch (--G_step)
    seed: int = 0                   # seeds every torch.Generator of the run
    device: str = "cpu"             # torch device (cuda under torchrun: one GPU per rank)
    log_every: int = 5              # iterations between log.jsonl lines
    checkpoint_every: int = 1000    # iterations between checkpoint-latest.pt writes
    snapshot_every: int | None = None  # iterations between kept checkpoint-<step>.pt files
    deterministic: bool = False     # torch.use_deterministic_algorithms during the run
    init_from: str | None = None    # start from official modelR/modelD_3d/modelD_img files here
    init_tag: str = "latest"        # their tag: latest or epoch_<E>
    motion: MotionNetConfig = field(default_factory=MotionNetConfig)
    disc: DiscConfig = field(default_factory=DiscConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)

    def to_dict(self) -> dict[str, Any]:
        return {"format": CONFIG_FORMAT, **to_jsonable(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "config") -> MotionTrainConfig:
        data = dict(data)
        fmt = data.pop("format", CONFIG_FORMAT)
        if fmt != CONFIG_FORMAT:
            raise VidbenchError(f"{where}: format {fmt!r} is not {CONFIG_FORMAT!r}")
        return from_dict(cls, data, where)


# --------------------------------------------------------------------------- presets (data)
# The rows of docs/official-code.md, *Training loop and per-data-set settings* (image-G file in
# the comment).
PAPER_ROWS: dict[str, dict[str, Any]] = {
    "ucf101": {"mode": "in-domain", "batch_size": 16, "epochs": 20,        # ucf-256-fid41.6761
               "data.dataset": "ucf101"},
    "faceforensics": {"mode": "in-domain", "batch_size": 16, "epochs": 100,  # faceforensics-fid10.99
                      "data.dataset": "faceforensics"},
    "sky": {"mode": "in-domain", "batch_size": 32, "epochs": 200,         # sky-fid10.8013 (128²)
            "data.dataset": "sky"},
    "ffhq256-voxceleb": {"mode": "cross-domain", "batch_size": 16, "epochs": 30,  # ffhq_256.pt
                         "loss.w_match": 5.0, "data.dataset": "voxceleb"},
    "ffhq1024-voxceleb": {"mode": "cross-domain", "batch_size": 16, "epochs": 30,  # config-f
                          "loss.w_match": 5.0, "data.dataset": "voxceleb"},
    "afhq-voxceleb": {"mode": "cross-domain", "batch_size": 8, "epochs": 100,  # afhq-dog (512²)
                      "data.dataset": "voxceleb"},
    "anime-voxceleb": {"mode": "cross-domain", "batch_size": 8, "epochs": 100,  # skylion (512²)
                       "data.dataset": "voxceleb"},
    "church-tlvdb": {"mode": "cross-domain", "batch_size": 16, "epochs": 200,  # church config-f
                     "data.dataset": "folder"},
}

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {"data.num_workers": 8},
    **{f"paper-{name}": {"data.num_workers": 8, **row} for name, row in PAPER_ROWS.items()},
    "tiny": {
        "batch_size": 4, "steps": 30, "log_every": 1, "checkpoint_every": 10,
        "motion.hidden_dim": 64, "motion.n_pca": 16,
        "disc.frame_size": 32, "disc.ndf": 8, "disc.ndf_max": 8, "disc.biggan_ch": 8,
        "disc.proj_dim": 32, "disc.queue_size": 64,
        "data.dataset": "shapes:num_videos=32,length=40,resolution=32",
        "data.n_frames": 16, "data.time_step": 2, "data.num_workers": 0,
    },
}

ABLATIONS: dict[str, dict[str, Any]] = {   # command-line switch -> overrides
    "no-residual": {"motion.residual": False},
    "no-image-disc": {"loss.image_disc": False},
    "no-video-disc": {"loss.video_disc": False},
    "no-contrastive": {"loss.contrastive": False},
    "no-mi": {"loss.mi": False},
}


def preset_name(preset: str, dataset: str | None) -> str:
    """The preset actually used: ``paper`` with a data set of a paper row becomes its row."""
    if preset not in PRESETS:
        raise VidbenchError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    head = (dataset or "").split(":", 1)[0]
    if preset == "paper" and f"paper-{head}" in PRESETS:
        return f"paper-{head}"
    return preset


def with_overrides(cfg: MotionTrainConfig, overrides: Mapping[str, Any]) -> MotionTrainConfig:
    """``cfg`` with dotted-key overrides (``{"loss.mi": False, "batch_size": 8}``) applied."""
    data = to_jsonable(cfg)
    for key, value in overrides.items():
        node, parts = data, key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise VidbenchError(f"unknown config key {key!r}")
            node = node[part]
        if parts[-1] not in node:
            raise VidbenchError(f"unknown config key {key!r}")
        node[parts[-1]] = list(value) if isinstance(value, tuple) else value
    return MotionTrainConfig.from_dict(data, "overrides")


def resolve_config(preset: str = "paper", *, ablations: tuple[str, ...] = (),
                   overrides: Mapping[str, Any] | None = None,
                   base: MotionTrainConfig | None = None) -> MotionTrainConfig:
    """preset → ablations → overrides, then the mode-dependent defaults; validated."""
    overrides = dict(overrides or {})
    name = preset_name(preset, overrides.get("data.dataset"))
    cfg = with_overrides(base or MotionTrainConfig(), PRESETS[name])
    for ablation in ablations:
        if ablation not in ABLATIONS:
            raise VidbenchError(f"unknown ablation {ablation!r}; valid: {', '.join(ABLATIONS)}")
        cfg = with_overrides(cfg, ABLATIONS[ablation])
    cfg = with_overrides(cfg, overrides)
    return fill_defaults(cfg)


def uses_biggan_image_disc(cfg: MotionTrainConfig) -> bool:
    """Cross-domain, and the in-domain paper variant, use the contrastive BigGAN image D."""
    return cfg.mode == "cross-domain" or cfg.image_disc_variant == "paper-contrastive"


def fill_defaults(cfg: MotionTrainConfig) -> MotionTrainConfig:
    """Fill the image-D Adam settings that depend on the image D, then validate."""
    optim = cfg.optim
    biggan = uses_biggan_image_disc(cfg)
    if optim.image_betas is None:
        optim = dataclasses.replace(optim, image_betas=(0.0, 0.999) if biggan else (0.5, 0.999))
    if optim.image_eps is None:
        optim = dataclasses.replace(optim, image_eps=1e-6 if biggan else 1e-8)
    cfg = dataclasses.replace(cfg, optim=optim)
    validate(cfg)
    return cfg


def validate(cfg: MotionTrainConfig) -> None:
    """Raise :class:`VidbenchError` for values no run can use."""
    problems = []
    if cfg.mode not in MODES:
        problems.append(f"mode {cfg.mode!r} is not one of {', '.join(MODES)}")
    if cfg.image_disc_variant not in IMAGE_DISC_VARIANTS:
        problems.append(f"image_disc_variant {cfg.image_disc_variant!r} is not one of "
                        f"{', '.join(IMAGE_DISC_VARIANTS)}")
    if cfg.loss.video_response not in VIDEO_RESPONSES:
        problems.append(f"loss.video_response must be one of {', '.join(VIDEO_RESPONSES)}")
    if cfg.loss.memory_bank not in MEMORY_BANKS:
        problems.append(f"loss.memory_bank must be one of {', '.join(MEMORY_BANKS)}")
    if cfg.mode == "cross-domain" and cfg.image_disc_variant != "official":
        problems.append("image_disc_variant applies to in-domain training only")
    if (not cfg.loss.contrastive and cfg.loss.image_disc and not uses_biggan_image_disc(cfg)):
        problems.append("--no-contrastive: the in-domain official image D has no contrastive "
                        "term (use --image-disc-variant paper-contrastive or cross-domain)")
    if not (cfg.loss.video_disc or cfg.loss.image_disc):
        problems.append("at least one discriminator is needed (--no-video-disc and "
                        "--no-image-disc together leave no adversarial loss)")
    if (cfg.steps is None) == (cfg.epochs is None):
        problems.append("give exactly one of steps and epochs")
    for name in ("batch_size", "g_steps", "log_every", "checkpoint_every"):
        if getattr(cfg, name) < 1:
            problems.append(f"{name} must be >= 1")
    for name in ("steps", "epochs", "snapshot_every"):
        value = getattr(cfg, name)
        if value is not None and value < 1:
            problems.append(f"{name} must be >= 1")
    if cfg.data.n_frames < 2 or cfg.data.time_step < 1:
        problems.append("data.n_frames must be >= 2 and data.time_step >= 1")
    if cfg.motion.n_pca < 1 or cfg.motion.hidden_dim < 1:
        problems.append("motion.n_pca and motion.hidden_dim must be >= 1")
    if cfg.disc.frame_size < 8 or cfg.disc.frame_size & (cfg.disc.frame_size - 1):
        problems.append("disc.frame_size must be a power of two >= 8")
    if problems:
        raise VidbenchError("invalid motion-training config: " + "; ".join(problems))


def load_config(path: str | os.PathLike) -> MotionTrainConfig:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(path, f"cannot read a config: {exc}") from None
    if not isinstance(data, dict):
        raise BadInputError(path, "a config file must hold one JSON object")
    return MotionTrainConfig.from_dict(data, str(path))


def config_diff(a: MotionTrainConfig, b: MotionTrainConfig) -> dict[str, tuple[Any, Any]]:
    """Dotted keys whose values differ: ``{key: (a_value, b_value)}``."""
    flat_a, flat_b = flatten_keys(to_jsonable(a)), flatten_keys(to_jsonable(b))
    return {k: (flat_a[k], flat_b[k]) for k in flat_a if flat_a[k] != flat_b[k]}
