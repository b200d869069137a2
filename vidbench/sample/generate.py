"""Sampling videos from a trained motion generator.

Reference: snap-research/MoCoGAN-HD ``evaluate.py`` (``--n_frames_G`` unrolling,
``--interpolation``), reimplemented: full G_I resolution, no truncation, noise maps once per
video (or none). Every sample has its own seed derived from ``(seed, index)`` and is computed
on its own, so it does not depend on the batch size or the other samples, and the noise and
no-noise variants share their motion. Floats become uint8 through
:func:`vidbench.data.convert.to_uint8` (``round`` by default).

Long videos: ``long="unroll"`` or ``"interpolate"``. What is kept and what is fixed:
docs/official-code.md, *Sampling and long videos*.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from vidbench.models.generator_api import ImageGenerator
from vidbench.models.motion import MotionGenerator
from vidbench.models.rng import randn
from vidbench.models.state_io import load_strict
from vidbench.train.checkpoint import (EXPORT_STEM, LATEST, load_training_state, read_export,
                                       state_sha256)
from vidbench.data.base import ClipSource, fingerprint_of
from vidbench.data.convert import to_uint8
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.utils.seeding import derive_seed
from vidbench.train.image_generator import load_image_generator
from vidbench.train.pca import load_pca

LONG_MODES = ("unroll", "interpolate")
NOISE_MODES = ("per_video", "none")
PCA_CHECKED = ("pca_comp.npy", "pca_stdev.npy", "style_mean.npy")


@dataclass
class VideoModel:
    """A frozen image generator plus a motion generator, ready to sample."""

    image: ImageGenerator
    motion: MotionGenerator
    n_frames: int                   # training clip length (default video length)
    info: dict[str, Any]            # what identifies the model (hashes, paths, step)

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.info)


def strip_scheme(path: str | os.PathLike) -> str:
    text = os.fspath(path)
    return text[len("checkpoint:"):] if text.startswith("checkpoint:") else text


def is_checkpoint_path(path: str | os.PathLike) -> bool:
    """A motion run folder, a training checkpoint, or an export with its vidbench sidecar."""
    p = Path(strip_scheme(path))
    if p.is_dir():
        return (p / "config.json").is_file() and ((p / LATEST).is_file()
                                                  or (p / f"{EXPORT_STEM}.pth").is_file())
    return p.suffix in (".pt", ".pth") and (p.name.startswith("checkpoint-")
                                            or p.with_suffix(".json").is_file())


def _motion_state(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None, str]:
    """(state dict, export metadata or None, file used) for a folder, checkpoint or export."""
    if path.is_dir():
        if (path / f"{EXPORT_STEM}.pth").is_file():
            path = path / f"{EXPORT_STEM}.pth"
        elif (path / LATEST).is_file():
            path = path / LATEST
        else:
            raise BadInputError(path, f"no {EXPORT_STEM}.pth or {LATEST} in the run folder")
    if not path.is_file():
        raise BadInputError(path, "no such file")
    if path.suffix == ".pt":
        state = load_training_state(path)
        meta = dict(state["export_meta"], step=int(state["step"]))
        return state["models"]["motion"], meta, str(path)
    sd, meta = read_export(path)
    return sd, meta, str(path)


def load_video_model(path: str | os.PathLike, *, generator: str | None = None,
                     pca: str | None = None, residual_scale: float = 0.2,
                     generator_config: str | os.PathLike | None = None,
                     device: str | torch.device = "cpu") -> VideoModel:
    """Open a run folder, a ``checkpoint-*.pt``, a vidbench export or an official
    ``modelR_*.pth`` (the last needs ``generator`` and ``pca``). ``generator``/``pca`` override
    the recorded paths; the files must have the recorded sha256 when one is recorded.

    A BigGAN image generator is rebuilt from the config recorded with the motion generator
    (``generator_config``, a JSON file, may restate it but not change it; without a recorded
    config, e.g. for an official modelR file, it is ``generator_config`` or ``biggan.json``
    beside the generator)."""
    state, meta, used = _motion_state(Path(strip_scheme(path)))
    if meta is None:
        if generator is None or pca is None:
            raise BadInputError(used, "an official modelR file carries no PCA or generator: pass "
                                      "the generator and the PCA folder it was trained with")
        hidden, n_pca = state["w"].shape
        meta = {"constructor": {"latent_dim": state["fc2.weight"].shape[0], "hidden_dim": hidden,
                                "n_pca": n_pca, "residual_scale": residual_scale,
                                "residual": True},
                "n_frames": 16, "pca": {"files": {}}, "image_generator": {}}
    recorded = meta["image_generator"]
    config = generator_config
    if config is None and recorded.get("kind") == "biggan":
        config = recorded["config"]
    loaded = load_image_generator(generator or recorded["path"], config=config, device=device)
    want = recorded.get("sha256")
    if want and loaded.sha256 != want:
        raise BadInputError(loaded.path, f"sha256 {loaded.sha256} differs from {want}, the image "
                                         "generator the motion generator was trained with")
    if recorded.get("kind") == "biggan" and loaded.describe().get("config") != recorded["config"]:
        changed = sorted(k for k, v in recorded["config"].items()
                         if loaded.describe().get("config", {}).get(k) != v)
        raise BadInputError(str(generator_config or loaded.path),
                            f"BigGAN settings {', '.join(changed) or '(kind)'} differ from the "
                            f"ones the motion generator was trained with "
                            f"({ {k: recorded['config'][k] for k in changed} })")
    files = meta["pca"].get("files", {})
    basis = load_pca(pca or meta["pca"]["dir"],
                     expected_hashes={k: v for k, v in files.items() if k in PCA_CHECKED})
    args = meta["constructor"]
    if args["latent_dim"] != loaded.adapter.latent_dim:
        raise BadInputError(loaded.path, f"latent size {loaded.adapter.latent_dim} does not fit "
                                         f"the motion generator's {args['latent_dim']}: give the "
                                         "image generator it was trained with")
    motion = MotionGenerator(args["latent_dim"], args["hidden_dim"], args["n_pca"],
                             residual_scale=args["residual_scale"], residual=args["residual"])
    load_strict(motion, state, used, "MoCoGAN-HD motion generator")
    if not args["residual"] and basis.mean is None:
        raise BadInputError(basis.directory, "a residual=False motion generator needs "
                                             "style_mean.npy")
    motion.set_pca(basis.components, basis.stdev, mean=basis.mean)
    motion.eval().to(device)
    info = {"motion": {"file": used, "sha256": state_sha256(state), "step": meta.get("step")},
            "pca": basis.describe(), "image_generator": loaded.describe(),
            "constructor": args}
    return VideoModel(loaded.adapter, motion, int(meta.get("n_frames", 16)), info)


def draw_inputs(model: VideoModel, seed: int, index: int, n_codes: int):
    """(w_1 [1, D], ε [1, n_codes − 1, D], noise maps [[1, 1, h, w], ...]) of one sample."""
    g = torch.Generator().manual_seed(derive_seed(seed, index))
    w1 = model.image.sample_latents(1, g)
    eps = randn((1, n_codes - 1, model.motion.latent_dim), g, w1.device)
    return w1, eps, model.image.sample_noise(1, g)


def interpolate_midpoints(latents: torch.Tensor) -> torch.Tensor:
    """[B, n, D] → [B, 2n − 1, D]: the codes with their consecutive midpoints between."""
    if latents.ndim != 3:
        raise ValueError(f"latents must be [B, n, D], got {tuple(latents.shape)}")
    b, n, d = latents.shape
    out = latents.new_empty(b, 2 * n - 1, d)
    out[:, 0::2] = latents
    out[:, 1::2] = (latents[:, :-1] + latents[:, 1:]) / 2
    return out


def render_frames(image: ImageGenerator, latents: torch.Tensor,
                  maps: Sequence[torch.Tensor] | None, chunk: int = 64) -> torch.Tensor:
    """Render [B, T, D] with per-video noise maps [B, 1, h, w] (repeated over T) or none."""
    b, t, d = latents.shape
    flat = latents.reshape(b * t, d)
    rep = [m.repeat_interleave(t, dim=0) for m in maps] if maps else []
    out = [image.render(flat[s:s + chunk], noise=[m[s:s + chunk] for m in rep] if rep else "none")
           for s in range(0, b * t, chunk)]
    frames = torch.cat(out)
    return frames.view(b, t, *frames.shape[1:])


@torch.no_grad()
def generate_videos(model: VideoModel, contents: Sequence[int], motions: Sequence[int] | None = None,
                    *, seed: int = 0, n_frames: int | None = None, noise: str = "per_video",
                    long: str = "unroll", chunk: int = 64,
                    return_latents: bool = False):
    """Videos float [N, T, 3, S, S] (about [−1, 1]); video k uses w_1 and noise maps of sample
    ``contents[k]`` and ε of sample ``motions[k]`` (default: the same indices). Each video is
    computed on its own (its frames in chunks of ``chunk``), so a video is bit-identical
    whatever else is generated with it."""
    motions = list(contents) if motions is None else list(motions)
    if len(motions) != len(contents):
        raise ValueError("contents and motions must have the same length")
    if noise not in NOISE_MODES or long not in LONG_MODES:
        raise VidbenchError(f"noise must be one of {NOISE_MODES} and long one of {LONG_MODES}")
    n = n_frames or model.n_frames
    if n < 1:
        raise VidbenchError(f"frames must be >= 1, got {n}")
    drawn = {i: draw_inputs(model, seed, i, n) for i in set(contents) | set(motions)}
    frames, trajectories = [], []
    for c, m in zip(contents, motions):       # one video per call: bit-identical for any batch
        latents = model.motion(drawn[c][0], n, eps=drawn[m][1]).latents
        if long == "interpolate":
            latents = interpolate_midpoints(latents)
        maps = drawn[c][2] if noise == "per_video" else None
        frames.append(render_frames(model.image, latents, maps, chunk))
        trajectories.append(latents)
    frames = torch.cat(frames)
    return (frames, torch.cat(trajectories)) if return_latents else frames


def to_clips(frames: torch.Tensor, convention: str = "round", *, where: str | None = None,
             indices: Sequence[int] | None = None) -> np.ndarray:
    """float [N, T, 3, H, W] → uint8 [N, T, H, W, 3] with the named convention. NaN or inf
    (a diverged or damaged model) is a BadInputError naming ``where`` (the model file) and the
    samples (``indices``: the sample numbers of the N videos)."""
    bad = ~torch.isfinite(frames)
    if bad.any():
        rows = bad.flatten(1).any(dim=1).nonzero().flatten().tolist()
        which = [indices[r] for r in rows] if indices is not None else rows
        raise BadInputError(where or "generated frames",
                            f"the generated frames of sample(s) {which} contain "
                            f"{int(torch.isnan(frames).sum())} NaN and "
                            f"{int(torch.isinf(frames).sum())} inf values (a diverged or "
                            "damaged model)")
    return to_uint8(frames.permute(0, 1, 3, 4, 2).contiguous(), convention).cpu().numpy()


class GeneratorSource(ClipSource):
    """A trained model as a clip source: clip ``i`` is sample ``i`` of ``seed``, generated
    when read (uint8 [T, S, S, 3])."""

    def __init__(self, model: VideoModel, num_videos: int = 2048, *, seed: int = 0,
                 noise: str = "per_video", frames: int | None = None, long: str = "unroll",
                 convention: str = "round", name: str = "checkpoint"):
        super().__init__()
        if num_videos < 1:
            raise VidbenchError(f"num_videos must be >= 1, got {num_videos}")
        self.model, self.num_videos = model, num_videos
        self.options = {"seed": seed, "noise": noise, "frames": frames or model.n_frames,
                        "long": long, "convention": convention}
        self.name = name
        self.fingerprint = fingerprint_of({"format": "generator-source-v1", "model": model.info,
                                           "num_videos": num_videos, **self.options})
        self.meta = {"kind": "generator", **model.info, **self.options}

    def __len__(self) -> int:
        return self.num_videos

    def get_clip(self, index: int) -> np.ndarray:
        o = self.options
        frames = generate_videos(self.model, [index], seed=o["seed"], n_frames=o["frames"],
                                 noise=o["noise"], long=o["long"])
        return to_clips(frames, o["convention"], where=self.model.info["motion"]["file"],
                        indices=[index])[0]


SOURCE_OPTIONS = ("num_videos", "seed", "noise", "frames", "long", "convention", "device",
                  "generator", "pca")


def open_checkpoint_source(path: str | os.PathLike, **options: Any) -> GeneratorSource:
    """``checkpoint:RUN_DIR`` (or a run folder / checkpoint / export path) as a clip source.
    Options: num_videos (2048), seed (0), noise, frames, long, convention, device, generator,
    pca."""
    unknown = sorted(set(options) - set(SOURCE_OPTIONS))
    if unknown:
        raise VidbenchError(f"checkpoint source: unknown option(s) {', '.join(unknown)}; "
                            f"valid: {', '.join(SOURCE_OPTIONS)}")
    model = load_video_model(strip_scheme(path), generator=options.pop("generator", None),
                             pca=options.pop("pca", None), device=options.pop("device", "cpu"))
    name = "checkpoint:" + os.path.basename(os.path.normpath(strip_scheme(path)))
    return GeneratorSource(model, **options, name=name)


__all__ = ["VideoModel", "load_video_model", "is_checkpoint_path", "draw_inputs",
           "interpolate_midpoints", "render_frames", "generate_videos", "to_clips",
           "GeneratorSource", "open_checkpoint_source"]
