"""Resume checkpoints and inference exports of motion training.

Two kinds of file, kept apart: the resume checkpoint ``RUN_DIR/checkpoint-latest.pt`` (every
state, optimisers and random generators included, read with ``weights_only=True``, written
atomically) and the export ``modelR_<tag>.pth`` + ``.json`` (the official ``modelR`` layout, so
it also loads in the official code, plus constructor arguments and hashes).
:func:`load_official_weights` starts a run from the official files.

Contents of each file: docs/official-code.md, *Checkpoint files*.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from vidbench.models.motion import MotionGenerator
from vidbench.models.safe_pickle import torch_load_weights
from vidbench.models.state_io import load_strict, read_state_dict, strip_prefix
from vidbench.utils.errors import BadInputError
from vidbench.utils.fileio import atomic_torch_save, atomic_write_text

TRAIN_FORMAT = "vidbench-motion-train/1"
EXPORT_FORMAT = "vidbench-motion-export/1"
LATEST = "checkpoint-latest.pt"
EXPORT_STEM = "modelR_latest"


def state_sha256(state: dict[str, torch.Tensor]) -> str:
    """Content hash of a state dict (sorted keys, shapes, dtypes and raw bytes)."""
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().cpu().contiguous()
        h.update(f"{key}|{tuple(t.shape)}|{t.dtype}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def snapshot_name(step: int) -> str:
    return f"checkpoint-{step:08d}.pt"


def _save_torch(obj: Any, path: Path) -> None:
    atomic_torch_save(obj, path)


def save_training_state(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write a resume checkpoint atomically (``state`` must hold only tensors, primitives,
    lists and dicts, so it reads back with ``weights_only=True``)."""
    path = Path(path)
    _save_torch({"format": TRAIN_FORMAT, **state}, path)
    return path


def load_training_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read a resume checkpoint with ``weights_only=True`` (CPU tensors)."""
    if not os.path.isfile(path):
        raise BadInputError(path, "no such checkpoint")
    state = torch_load_weights(path, "a checkpoint written by `vidbench train motion` (resume "
                                     "from the run that wrote it, or train again)")
    if not isinstance(state, dict) or state.get("format") != TRAIN_FORMAT:
        raise BadInputError(path, f"not a vidbench motion-training checkpoint ({TRAIN_FORMAT})")
    return state


def motion_constructor_args(motion: MotionGenerator) -> dict[str, Any]:
    return {"latent_dim": motion.latent_dim, "hidden_dim": motion.hidden_dim,
            "n_pca": motion.n_pca, "residual_scale": motion.residual_scale,
            "residual": motion.residual}


def export_motion_generator(motion: MotionGenerator, out_path: str | os.PathLike, *,
                            pca: dict[str, Any], image_generator: dict[str, Any],
                            n_frames: int, step: int,
                            config: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``out_path`` (official modelR state dict) and its ``.json`` sidecar."""
    out_path = Path(out_path)
    state = {k: v.detach().cpu().clone() for k, v in motion.state_dict().items()}
    _save_torch(state, out_path)
    meta = {"format": EXPORT_FORMAT, "state_dict": out_path.name,
            "constructor": motion_constructor_args(motion), "n_frames": n_frames, "step": step,
            "pca": pca, "image_generator": image_generator, "config": config}
    sidecar = out_path.with_suffix(".json")
    atomic_write_text(sidecar, json.dumps(meta, indent=2, sort_keys=True))
    return out_path, sidecar


def read_export(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    """A motion-generator state dict and its sidecar JSON (None for an official modelR file)."""
    state = read_state_dict(path)
    sidecar = Path(path).with_suffix(".json")
    if not sidecar.is_file():
        return state, None
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(sidecar, f"cannot read: {exc}") from None
    if meta.get("format") != EXPORT_FORMAT:
        raise BadInputError(sidecar, f"not a vidbench motion export ({EXPORT_FORMAT})")
    return state, meta


OFFICIAL_FILES = {"motion": "modelR_{tag}.pth", "video_disc": "modelD_3d_{tag}.pth",
                  "image_disc": "modelD_img_{tag}.pth"}


def load_official_weights(nets: dict[str, torch.nn.Module], folder: str | os.PathLike,
                          tag: str = "latest") -> list[str]:
    """Load official ``modelR_<tag>.pth``, ``modelD_3d_<tag>.pth``, ``modelD_img_<tag>.pth``
    (DDP ``module.`` prefixes stripped) strictly into ``nets`` (keys ``motion``,
    ``video_disc``, ``image_disc``; absent nets are skipped). Returns the files read."""
    used = []
    for name, net in nets.items():
        path = Path(folder) / OFFICIAL_FILES[name].format(tag=tag)
        state = strip_prefix(read_state_dict(path), "module.")
        load_strict(net, state, path, f"the {name} network of this config")
        used.append(str(path))
    return used


def export_from_checkpoint(checkpoint: str | os.PathLike,
                           out_path: str | os.PathLike) -> tuple[Path, Path]:
    """Export the motion generator of a resume checkpoint (no PCA needed: state dict only)."""
    state = load_training_state(checkpoint)
    meta = state["export_meta"]
    sd = state["models"]["motion"]
    args = meta["constructor"]
    motion = MotionGenerator(args["latent_dim"], args["hidden_dim"], args["n_pca"],
                             residual_scale=args["residual_scale"], residual=args["residual"])
    motion.load_state_dict(sd)
    return export_motion_generator(motion, out_path, pca=meta["pca"],
                                   image_generator=meta["image_generator"],
                                   n_frames=meta["n_frames"], step=int(state["step"]),
                                   config=state.get("config"))
