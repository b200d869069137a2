"""Opening a frozen image generator file for motion training, PCA and sampling.

Reads a rosinality-layout StyleGAN2 checkpoint (``{"g_ema": state_dict}``;
docs/official-code.md, *Image-generator checkpoint layout*) with ``weights_only=True`` and works
out its architecture from the state dict itself: size from the number of ``to_rgbs``,
``style_dim`` and ``n_mlp`` from the mapping layers, channels per resolution from the conv
weights. So official files, converted files and small test files all open with one call, and a
wrong file fails with the list of mismatching keys (docs/official-code.md,
*Strict image-generator loading*). ``lr_mlp`` cannot be read from the weights; rosinality's
default 0.01 is assumed and recorded.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from vidbench.models.generator_api import StyleGAN2Adapter
from vidbench.models.state_io import load_strict, read_state_dict
from vidbench.models.stylegan2 import StyleGAN2Generator
from vidbench.utils.errors import BadInputError
from vidbench.utils.hashing import sha256_file

# What `vidbench train image` leaves in its run folder: the weights and their description.
RUN_GENERATOR, RUN_GENERATOR_JSON = "generator.pt", "generator.json"


def read_run_generator(path: str | os.PathLike) -> tuple[Path, Path, dict[str, Any]]:
    """``(generator.json, generator.pt, description)`` of a `vidbench train image` run.

    ``path`` is the run directory or its ``generator.json``. The weight file's sha256 must
    match the one recorded.
    """
    meta_path = Path(path)
    if meta_path.is_dir():
        meta_path = meta_path / RUN_GENERATOR_JSON
    if not meta_path.is_file():
        raise BadInputError(meta_path, "no generator description (train one with "
                                       "`vidbench train image`)")
    try:
        meta = json.loads(meta_path.read_text())
        meta["kwargs"]                                  # the constructor arguments
        pt = meta_path.parent / meta["file"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BadInputError(meta_path, f"not a generator description ({exc})") from None
    if not pt.is_file():
        raise BadInputError(pt, "generator weights named by generator.json are missing")
    digest = sha256_file(pt)
    if digest != meta.get("sha256"):
        raise BadInputError(pt, f"sha256 {digest} does not match {meta.get('sha256')} recorded "
                                f"in {meta_path.name}")
    return meta_path, pt, meta


@dataclass(frozen=True)
class StyleGAN2Arch:
    """Constructor arguments of :class:`StyleGAN2Generator` read from a state dict."""

    size: int
    style_dim: int
    n_mlp: int
    channels: dict[int, int]
    lr_mlp: float = 0.01

    def build(self) -> StyleGAN2Generator:
        return StyleGAN2Generator(self.size, self.style_dim, self.n_mlp, lr_mlp=self.lr_mlp,
                                  channels=dict(self.channels))

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["channels"] = {str(k): v for k, v in self.channels.items()}
        return d


def infer_stylegan2_arch(state: dict[str, torch.Tensor], path: str | os.PathLike,
                         lr_mlp: float = 0.01) -> StyleGAN2Arch:
    """Architecture of a rosinality ``g_ema`` state dict (raises BadInputError if not one)."""
    try:
        n_rgbs = 1 + max(int(m.group(1)) for k in state
                         if (m := re.match(r"to_rgbs\.(\d+)\.conv\.weight$", k)))
        n_mlp = max(int(m.group(1)) for k in state if (m := re.match(r"style\.(\d+)\.weight$", k)))
        style_dim = state["style.1.weight"].shape[1]
        channels = {4: int(state["input.input"].shape[1])}
        for j in range(n_rgbs):
            channels[2 ** (j + 3)] = int(state[f"to_rgbs.{j}.conv.weight"].shape[2])
    except (KeyError, ValueError, IndexError):
        raise BadInputError(path, "not a StyleGAN2 generator state dict in the rosinality layout "
                                  "(needs style.N.weight, input.input, to_rgbs.N.conv.weight)") \
            from None
    return StyleGAN2Arch(2 ** (n_rgbs + 2), int(style_dim), int(n_mlp), channels, lr_mlp)


@dataclass
class LoadedGenerator:
    """A frozen image generator with what identifies it."""

    adapter: StyleGAN2Adapter
    path: str
    sha256: str
    arch: StyleGAN2Arch

    def describe(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "kind": "stylegan2",
                "arch": self.arch.to_json()}


def load_image_generator(path: str | os.PathLike, *, size: int | None = None,
                         key: str = "g_ema", lr_mlp: float = 0.01,
                         device: str | torch.device = "cpu") -> LoadedGenerator:
    """Open a rosinality StyleGAN2 file strictly, frozen and in eval mode, on ``device``.

    ``path`` is a ``.pt`` file or a ``vidbench train image`` run folder (its ``generator.pt``,
    checked against the sha256 in its ``generator.json`` when there is one).
    ``size`` (optional) is checked against the size found in the file.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, RUN_GENERATOR_JSON)):
        path = str(read_run_generator(path)[1])
    elif os.path.isdir(path) and os.path.isfile(os.path.join(path, RUN_GENERATOR)):
        path = os.path.join(path, RUN_GENERATOR)
    state = read_state_dict(path, key=key)
    arch = infer_stylegan2_arch(state, path, lr_mlp)
    if size is not None and size != arch.size:
        raise BadInputError(path, f"holds a {arch.size}x{arch.size} generator, not {size}x{size}")
    g = arch.build()
    load_strict(g, state, path, f"StyleGAN2 (rosinality layout) size {arch.size}, style_dim "
                                f"{arch.style_dim}, n_mlp {arch.n_mlp}")
    g.eval().requires_grad_(False)
    return LoadedGenerator(StyleGAN2Adapter(g).to(device), path, sha256_file(path), arch)
