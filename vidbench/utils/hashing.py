"""SHA-256 of files."""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from vidbench.utils.errors import BadInputError

_CHUNK = 1 << 20


@functools.lru_cache(maxsize=64)
def _sha256_cached(path: str, size: int, mtime_ns: int, inode: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks; cached per (path, size, mtime, inode)
    in-process. A file that cannot be read is a :class:`BadInputError`."""
    try:
        resolved = Path(path).resolve()
        st = resolved.stat()
        return _sha256_cached(str(resolved), st.st_size, st.st_mtime_ns, st.st_ino)
    except OSError as exc:
        raise BadInputError(path, f"cannot read: {exc}") from None


__all__ = ["sha256_file"]
