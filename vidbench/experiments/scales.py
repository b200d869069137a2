"""How big an experiment runs: the ``tiny`` (CPU, ``shapes``) and ``paper`` scales, as data.

A :class:`Scale` fixes the training presets (:data:`vidbench.train.motion_config.PRESETS`,
:data:`vidbench.train.image_config.PRESETS`), the image-generator size of each slot, the PCA
sample count, the data set spec behind a data set name, and the evaluation counts. ``None``
counts mean "the protocol's own" (``paper``); the ``tiny`` counts are small and every one that
differs from its protocol is stored in the result's ``overrides`` and marked in the tables.

:func:`scale_with` applies user overrides: ``motion.KEY`` (a dotted motion-config key),
``image.KEY`` (an image-training key), ``predict.KEY``, ``inversion.KEY`` and the plain fields
below (``num_fake=8``); an unknown key is an error.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Mapping

from vidbench.utils.errors import VidbenchError

MAPPING_FIELDS = ("motion", "image", "predict", "inversion")


def _frozen(d: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class Scale:
    name: str
    motion_preset: str                           # vidbench.train.motion_config preset
    image_preset: str                            # vidbench.train.image_config preset
    image_sizes: Mapping[str, int]               # slot -> G_I resolution
    slot_motion: Mapping[str, Mapping[str, Any]] = field(default_factory=_frozen)
    motion: Mapping[str, Any] = field(default_factory=_frozen)     # motion-config overrides
    image: Mapping[str, Any] = field(default_factory=_frozen)      # image-training overrides
    predict: Mapping[str, Any] = field(default_factory=_frozen)    # PredictConfig fields
    inversion: Mapping[str, Any] = field(default_factory=_frozen)  # InversionSettings fields
    data: Mapping[str, str] = field(default_factory=_frozen)       # name -> source spec
    other_domain: Mapping[str, str] = field(default_factory=_frozen)  # name -> G_I data spec
    test_data: Mapping[str, str] = field(default_factory=_frozen)  # name -> prediction clips
    pca_samples: int = 1_000_000                 # w samples of the PCA (official: 1e6)
    num_fake: int | None = None                  # FVD fake clips (None: the protocol's)
    num_real: int | None = None                  # FVD real clips
    is_samples: int | None = None                # IS clips per run
    is_runs: int | None = None                   # IS runs
    acd_videos: int | None = None                # ACD videos
    diversity_videos: int = 100                  # videos per content code (App. D)
    eval_seed: int = 0                           # seed of samples and clip draws

    def __post_init__(self) -> None:
        for name in ("image_sizes", "motion", "image", "predict", "inversion", "data",
                     "other_domain", "test_data"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "slot_motion", _frozen(
            {k: _frozen(v) for k, v in self.slot_motion.items()}))
        if not {"high", "low"} <= set(self.image_sizes):
            raise VidbenchError(f"scale {self.name}: image_sizes needs slots high and low")

    def data_spec(self, dataset: str) -> str:
        """The source spec behind a data set name (a full spec is returned as is)."""
        return self.data.get(dataset, dataset)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = {k: dict(v) if isinstance(v, Mapping) else v for k, v in value.items()}
            out[f.name] = value
        return out


_TINY_SHAPES = "shapes:num_videos=32,length=40,resolution=32"

SCALES: dict[str, Scale] = {s.name: s for s in (
    Scale(name="tiny", motion_preset="tiny", image_preset="tiny",
          image_sizes={"high": 32, "low": 16},
          slot_motion={"low": {"disc.frame_size": 16}},
          data={"shapes": _TINY_SHAPES},
          other_domain={"shapes": "shapes:num_videos=32,length=8,resolution=32,seed=7,"
                                  "motion=still"},
          test_data={"shapes": "shapes:num_videos=8,length=40,resolution=32,seed=1"},
          predict={"limit": 4, "num_frames": 32, "num_latents": 16, "batch_size": 4},
          inversion={"steps": 50, "perceptual": "none", "mean_samples": 1000},
          pca_samples=5000, num_fake=16, num_real=16, is_samples=16, is_runs=2,
          acd_videos=16, diversity_videos=16),
    Scale(name="paper", motion_preset="paper", image_preset="stylegan2",
          image_sizes={"high": 256, "low": 128},
          data={"shapes": "shapes:num_videos=4096,length=40,resolution=64"},
          test_data={"sky": "sky:split=test,sky_first32=true"}),
)}


def scale_with(name: str, overrides: Mapping[str, Any] | None = None) -> Scale:
    """The scale ``name`` with ``overrides`` (module docstring) applied."""
    if name not in SCALES:
        raise VidbenchError(f"unknown preset {name!r}; valid: {', '.join(SCALES)}")
    scale = SCALES[name]
    plain = {f.name for f in fields(Scale)} - set(MAPPING_FIELDS) - {
        "name", "image_sizes", "slot_motion", "data", "other_domain", "test_data"}
    changes: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        head, dot, rest = key.partition(".")
        if dot and head in MAPPING_FIELDS and rest:
            merged = dict(changes.get(head, getattr(scale, head)))
            merged[rest] = value
            changes[head] = merged
        elif dot and head == "size" and rest in scale.image_sizes:
            changes["image_sizes"] = {**dict(changes.get("image_sizes", scale.image_sizes)),
                                      rest: int(value)}
        elif key in plain:
            changes[key] = value
        else:
            raise VidbenchError(f"unknown experiment setting {key!r}; valid: "
                                f"{', '.join(f'{m}.KEY' for m in MAPPING_FIELDS)}, size.high, "
                                f"size.low, {', '.join(sorted(plain))}")
    return dataclasses.replace(scale, **changes)
