"""Opening a frozen image generator file for motion training, PCA and sampling.

:func:`load_image_generator` is the one door for every command: it reads the file once with
``weights_only=True``, recognises its kind (:func:`generator_file_kind`) and returns the
network behind the :class:`~vidbench.models.generator_api.ImageGenerator` interface.

* **BigGAN** (``kind "biggan"``): a ``G.pth`` / ``G_ema.pth`` as ajbrock/BigGAN-PyTorch's
  ``train.py`` writes it (``torch.save(G.state_dict())``). Its architecture cannot all be read
  from the weights (epsilons, attention, hier), so it comes with its config: a JSON object of
  BigGAN-PyTorch option names (:class:`~vidbench.models.biggan.BigGANConfig`), given
  explicitly (``--generator-config``) or as ``biggan.json`` beside the weights
  (docs/biggan.md). Every key and shape is checked against the network that config builds.
* **StyleGAN2** (``kind "stylegan2"``): reads a rosinality-layout StyleGAN2 checkpoint (``{"g_ema": state_dict}``;
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
from typing import Any, Mapping

import torch

from vidbench.models.biggan import BigGANConfig, load_biggan_pytorch
from vidbench.models.generator_api import BigGANAdapter, ImageGenerator, StyleGAN2Adapter
from vidbench.models.safe_pickle import torch_load_weights
from vidbench.models.state_io import load_strict
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


GENERATOR_KINDS = ("stylegan2", "biggan")
BIGGAN_CONFIG_FILE = "biggan.json"
EXPECTED_GENERATOR = ("an image generator: stylegan2-shapes64 (shipped), a StyleGAN2 "
                      "checkpoint in rosinality's layout "
                      "({'g_ema': state dict}), a `vidbench train image` run folder, or a "
                      "BigGAN-PyTorch G.pth / G_ema.pth with its config (docs/biggan.md)")


def _is_state_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def generator_file_kind(obj: Any, path: str | os.PathLike, key: str = "g_ema") -> str:
    """``"stylegan2"`` or ``"biggan"`` for what a generator file holds (read with
    ``weights_only=True``); anything else is a :class:`BadInputError` saying what the file
    looks like and which file to give instead."""
    if isinstance(obj, Mapping) and key in obj:
        return "stylegan2"
    if _is_state_dict(obj):
        keys = set(obj)
        if {"style.1.weight", "input.input"} <= keys:
            raise BadInputError(path, f"holds a bare StyleGAN2 state dict; vidbench reads "
                                      f"rosinality's checkpoint layout: save it as "
                                      f"torch.save({{'{key}': state_dict}}, ...)")
        has_blocks = any(k.startswith("blocks.") for k in keys)
        if "linear.weight" in keys and has_blocks and any(k.startswith("output_layer.")
                                                          for k in keys):
            return "biggan"
        if "linear.weight" in keys and has_blocks:
            raise BadInputError(path, "looks like a BigGAN-PyTorch discriminator (D.pth / "
                                      "D_ema.pth: blocks and linear, no output_layer); give "
                                      "the generator G_ema.pth or G.pth from the same folder")
    if isinstance(obj, Mapping) and {"state", "param_groups"} <= set(obj):
        raise BadInputError(path, "holds an optimiser state (BigGAN-PyTorch's G_optim.pth / "
                                  "D_optim.pth); give the generator G_ema.pth or G.pth from "
                                  "the same folder")
    found = sorted(map(str, obj))[:8] if isinstance(obj, Mapping) else type(obj).__name__
    raise BadInputError(path, f"is not a generator vidbench knows (found: {found}); give "
                              f"{EXPECTED_GENERATOR}")


def read_biggan_config(source: BigGANConfig | Mapping[str, Any] | str | os.PathLike
                       ) -> tuple[BigGANConfig, str | None]:
    """``(config, file it came from or None)`` from a config, a mapping or a JSON file."""
    if isinstance(source, BigGANConfig):
        return source, None
    if isinstance(source, Mapping):
        return BigGANConfig.from_mapping(source, "BigGAN config"), None
    path = os.path.abspath(os.fspath(source))
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(path, f"cannot read a BigGAN config ({exc}); write a JSON object "
                                  "of BigGAN-PyTorch option names (docs/biggan.md)") from None
    return BigGANConfig.from_mapping(data, path), path


def _biggan_config_for(path: str, config) -> tuple[BigGANConfig, str | None]:
    if config is not None:
        return read_biggan_config(config)
    beside = os.path.join(os.path.dirname(path), BIGGAN_CONFIG_FILE)
    if os.path.isfile(beside):
        return read_biggan_config(beside)
    raise BadInputError(path, f"is a BigGAN-PyTorch generator, and its settings cannot all be "
                              f"read from the weights: write them to {BIGGAN_CONFIG_FILE} beside "
                              f"it, or pass --generator-config FILE.json (docs/biggan.md; "
                              f"BigGAN-PyTorch's state_dict.pth holds them but also pickled "
                              f"Python objects, so vidbench does not read it)")


@dataclass
class LoadedGenerator:
    """A frozen image generator with what identifies it."""

    adapter: ImageGenerator
    path: str
    sha256: str
    arch: StyleGAN2Arch | BigGANConfig
    kind: str = "stylegan2"
    config_file: str | None = None      # BigGAN: the JSON its config was read from

    def describe(self) -> dict[str, Any]:
        if isinstance(self.arch, BigGANConfig):
            return {"path": self.path, "sha256": self.sha256, "kind": "biggan",
                    "config": self.arch.to_json(), "config_file": self.config_file}
        return {"path": self.path, "sha256": self.sha256, "kind": "stylegan2",
                "arch": self.arch.to_json()}


def _shipped_name(name: str) -> str | None:
    """The checked path of a generator vidbench ships (``stylegan2-shapes64``) given by name,
    when no file or folder of that name is here; else None."""
    from vidbench.models.weights import REGISTRY, weight_path

    spec = REGISTRY.get(name)
    if spec is None or not spec.shipped or os.path.exists(name):
        return None
    return str(weight_path(name))


def generator_argument(value: str) -> str:
    """A command line's generator as an absolute path: a shipped generator's name becomes its
    checked file in the package."""
    return _shipped_name(value) or os.path.abspath(os.path.expanduser(value))


def load_image_generator(path: str | os.PathLike, *, size: int | None = None,
                         config: BigGANConfig | Mapping[str, Any] | str | os.PathLike | None = None,
                         key: str = "g_ema", lr_mlp: float = 0.01,
                         device: str | torch.device = "cpu") -> LoadedGenerator:
    """Open an image generator file strictly, frozen and in eval mode, on ``device``.

    ``path`` is the name of a generator vidbench ships (``stylegan2-shapes64``, checked against
    its sha256), a rosinality StyleGAN2 ``.pt`` file, a ``vidbench train image`` run folder (its
    ``generator.pt``, checked against the sha256 in its ``generator.json`` when there is one),
    or a BigGAN-PyTorch ``G.pth`` / ``G_ema.pth``; :func:`generator_file_kind` tells them
    apart. ``config`` (BigGAN only: a :class:`BigGANConfig`, a mapping or a JSON path) gives
    the BigGAN settings; without it ``biggan.json`` beside the file is read.
    ``size`` (optional) is checked against the size found in the file or config.
    """
    path = _shipped_name(os.fspath(path)) or os.path.abspath(os.fspath(path))
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, RUN_GENERATOR_JSON)):
        path = str(read_run_generator(path)[1])
    elif os.path.isdir(path) and os.path.isfile(os.path.join(path, RUN_GENERATOR)):
        path = os.path.join(path, RUN_GENERATOR)
    if not os.path.isfile(path):
        raise BadInputError(path, f"no such file; give {EXPECTED_GENERATOR}")
    obj = torch_load_weights(path, EXPECTED_GENERATOR)
    kind = generator_file_kind(obj, path, key)
    if kind == "biggan":
        cfg, cfg_file = _biggan_config_for(path, config)
        if size is not None and size != cfg.resolution:
            raise BadInputError(path, f"holds a {cfg.resolution}x{cfg.resolution} generator, "
                                      f"not {size}x{size}")
        g = load_biggan_pytorch(path, cfg, state=obj)
        return LoadedGenerator(BigGANAdapter(g, cfg.class_index).to(device), path,
                               sha256_file(path), cfg, "biggan", cfg_file)
    if config is not None:
        raise BadInputError(path, "holds a StyleGAN2 checkpoint; a BigGAN config "
                                  "(--generator-config) applies to BigGAN-PyTorch files only")
    state = obj[key]
    if not _is_state_dict(state):
        raise BadInputError(path, f"entry {key!r} is not a state dict of tensors; give "
                                  f"{EXPECTED_GENERATOR}")
    arch = infer_stylegan2_arch(state, path, lr_mlp)
    if size is not None and size != arch.size:
        raise BadInputError(path, f"holds a {arch.size}x{arch.size} generator, not {size}x{size}")
    g = arch.build()
    load_strict(g, state, path, f"StyleGAN2 (rosinality layout) size {arch.size}, style_dim "
                                f"{arch.style_dim}, n_mlp {arch.n_mlp}")
    g.eval().requires_grad_(False)
    return LoadedGenerator(StyleGAN2Adapter(g).to(device), path, sha256_file(path), arch)
