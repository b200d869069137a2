"""Strict reading of published torch checkpoints into vidbench networks.

Every reader here loads with ``torch.load(weights_only=True)`` (no pickled code runs) and
``load_state_dict(strict=True)``: a file written for another architecture stops with an error
that names the file and lists the missing, unexpected and wrongly shaped keys, instead of
leaving random weights behind (docs/official-code.md, *Strict image-generator loading*).
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import torch
from torch import nn

from vidbench.models.safe_pickle import torch_load_weights
from vidbench.utils.errors import BadInputError

_MAX_LISTED = 12


def read_state_dict(path: str | os.PathLike, key: str | None = None) -> dict[str, torch.Tensor]:
    """Read a torch file as a flat ``{name: tensor}`` dict.

    ``key`` picks one entry of a dict-of-dicts file (``"g_ema"`` for rosinality StyleGAN2
    checkpoints); without it the file itself must be the state dict. Raises
    :class:`BadInputError` when the file is missing, unreadable or lacks ``key``.
    """
    if not os.path.isfile(path):
        raise BadInputError(path, "no such file")
    obj = torch_load_weights(path, "a checkpoint of tensors (a state dict, or a dict of "
                                   "them), as the network's published release writes it")
    if key is not None:
        if not isinstance(obj, Mapping) or key not in obj:
            found = sorted(obj)[:_MAX_LISTED] if isinstance(obj, Mapping) else type(obj).__name__
            raise BadInputError(path, f"no entry {key!r} in the checkpoint (found: {found})")
        obj = obj[key]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise BadInputError(path, "expected a state dict of tensors")
    return dict(obj)


def strip_prefix(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """Drop ``prefix`` (e.g. DDP's ``"module."``) from every key that has it."""
    return {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state.items()}


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return shown + (f" … (+{more} more)" if more > 0 else "")


def load_strict(module: nn.Module, state: Mapping[str, torch.Tensor],
                path: str | os.PathLike, what: str, hint: str = "") -> None:
    """``module.load_state_dict(state, strict=True)`` with a readable error.

    ``what`` names the architecture expected (it appears in the message), ``hint`` (optional)
    says what to give instead. Raises :class:`BadInputError` listing missing keys, unexpected
    keys and shape mismatches.
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(f"{k} {tuple(state[k].shape)} != {tuple(own[k].shape)}"
                    for k in set(own) & set(state) if state[k].shape != own[k].shape)
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys: {_listing(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys: {_listing(unexpected)}")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches (file != model): {_listing(shapes)}")
        raise BadInputError(path, f"does not match {what}: " + "; ".join(parts)
                            + (f"; {hint}" if hint else ""))
    module.load_state_dict(state, strict=True)
