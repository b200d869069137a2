"""Weight files checked at the door: before ``vidbench weights import`` installs a file, its
contents are read with the safe loaders and matched, key by key and shape by shape, against
the network that will use it (or, where a sha256 is published, against that hash).

:func:`check_contents` reads a file as its network's loader would (numpy-only unpickler,
``torch.load(weights_only=True)``) and raises :class:`~vidbench.utils.errors.BadInputError`
in vidbench's words (what the file holds, that nothing in it was executed, what to get
instead); :func:`import_checked` installs the file only after that passes
(docs/protocols.md, *Weight files*).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from vidbench.models import weights
from vidbench.utils.errors import BadInputError


def _vggface2(path: Path) -> None:
    from vidbench.models.facenet import build_embedder, face_state_dict

    with _meta_device():
        model = build_embedder()
    face_state_dict(weights.read_torch_state_dict(path), model, str(path))


def _vgg16(path: Path) -> None:
    from vidbench.models.vgg import check_vgg16_state

    check_vgg16_state(weights.read_torch_state_dict(path), path)


def _c3d(path: Path) -> None:
    from vidbench.models.c3d import C3D, c3d_state_dict
    from vidbench.models.safe_pickle import read_npz

    with _meta_device():
        model = C3D()
    c3d_state_dict(read_npz(path), model, str(path))


def _mean(mode: str) -> Callable[[Path], None]:
    def check(path: Path) -> None:
        from vidbench.models.c3d import read_mean_clip

        read_mean_clip(path, mode)
    return check


def _meta_device():
    import torch

    return torch.device("meta")  # shapes only: no memory for the parameters


# Files without a published sha256, by registry name: how their contents are checked.
CONTENT_CHECKS: dict[str, Callable[[Path], None]] = {
    "vggface2": _vggface2,
    "vgg16": _vgg16,
    "c3d": _c3d,
    "c3d-mean": _mean("tganv2"),
    "c3d-mean-tgan-v1": _mean("tgan-v1"),
}


def check_contents(name: str, path: str | os.PathLike) -> str:
    """Check ``path`` as the registered file ``name``; return how it was checked."""
    spec = weights.get_spec(name)
    src = Path(path)
    if not src.is_file():
        raise BadInputError(src, "file not found")
    if spec.sha256 is not None:
        return "sha256"  # import_file compares the published size and hash while copying
    check = CONTENT_CHECKS.get(name)
    if check is None:
        raise BadInputError(src, f"vidbench has no published hash and no layout check for "
                                 f"{name}, so it cannot vouch for this file; nothing was "
                                 "installed")
    try:
        check(src)
    except BadInputError as exc:
        raise BadInputError(src, f"{exc.reason}\nnothing was installed; the published "
                                 f"{name} file is {spec.source}") from None
    return "keys and shapes"


def import_checked(name: str, path: str | os.PathLike) -> tuple[Path, str]:
    """:func:`check_contents`, then install with :func:`weights.import_file`:
    ``(installed path, how it was checked)``."""
    how = check_contents(name, path)
    return weights.import_file(name, path), how
