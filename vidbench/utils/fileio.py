"""Atomic file writes: nothing half-written is ever left under the final name."""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Iterator

from vidbench.utils.errors import DiskFullError

# errno values that mean "no space left": a write that raises one becomes a DiskFullError.
NO_SPACE_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if e)


def raise_if_disk_full(exc: OSError, path: str | os.PathLike) -> None:
    """Re-raise ``exc`` as :class:`~vidbench.utils.errors.DiskFullError` naming ``path`` when it
    says the disk (or quota) is full; otherwise return."""
    if exc.errno in NO_SPACE_ERRNOS:
        raise DiskFullError(path, exc.strerror or str(exc)) from exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is fsync'ed and renamed over
    ``path`` (``os.replace``), on error it is removed. Usage::

        with atomic_path("stats.npz") as tmp:
            np.savez(tmp, ...)

    A full disk (``ENOSPC``/``EDQUOT`` while creating, writing, syncing or renaming) raises
    :class:`~vidbench.utils.errors.DiskFullError` naming ``path``; the file that was there before is
    left as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix,
                                        dir=path.parent)
    except OSError as exc:
        raise_if_disk_full(exc, path)
        raise
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        raise_if_disk_full(exc, path)
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def torch_bytes(obj: object) -> bytes:
    """``obj`` serialised by ``torch.save`` in memory (tensors by value)."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def atomic_torch_save(obj: object, path: str | os.PathLike) -> None:
    """``torch.save`` atomically. Serialised in memory first: torch's own file writer turns a
    full disk into an opaque RuntimeError, a plain write gives ENOSPC (a DiskFullError)."""
    atomic_write_bytes(path, torch_bytes(obj))
