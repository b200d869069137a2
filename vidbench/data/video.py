"""What a video is: :class:`Video` (a description, no pixels) and content fingerprints.

Fingerprints (content, never the absolute path nor mtime): a file up to
:data:`FULL_HASH_LIMIT` bytes is the SHA-256 of its bytes; a larger file is the SHA-256 of its
path relative to the source root, its size, and its first and last :data:`EDGE_BYTES` bytes
(a full hash of a 6.5 GB data set on every open would be too slow; an edit in the middle of a
large file that keeps its size goes unnoticed). Frame folders and zip members are fingerprinted
in :mod:`vidbench.data.scan`, array items in :mod:`vidbench.data.arrays`.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Callable

from vidbench.utils.errors import BadInputError

VIDEO_EXTS = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".gif")
IMAGE_EXTS = (".png", ".jpg", ".jpeg")
ARRAY_EXTS = (".npy", ".npz")

FULL_HASH_LIMIT = 4 << 20   # bytes; files up to this size are hashed whole
EDGE_BYTES = 1 << 20        # bytes hashed at each end of a larger file


@dataclass(frozen=True)
class Video:
    """One video, described (no pixels).

    ``kind`` is ``"file"`` (decord), ``"ffmpeg"`` (imageio-ffmpeg), ``"gif"`` (Pillow),
    ``"frames"`` (``path`` is a directory, ``members`` its frame files in natural order), ``"zip"`` (``path`` is the archive,
    ``members`` the frame entries) or ``"array"`` (``path`` is the array file, ``item`` the
    index along N). ``name`` is the path relative to the source root (posix separators).
    """

    name: str
    path: str
    kind: str
    num_frames: int
    height: int
    width: int
    fps: float | None
    fingerprint: str
    members: tuple[str, ...] = ()
    item: int = -1
    label: str | None = None

    def where(self, index: int | None = None) -> str:
        """The file a frame (or the whole video) comes from, for error messages."""
        if self.kind == "frames" and index is not None:
            return os.path.join(self.path, self.members[index])
        if self.kind == "zip":
            return f"{self.path}!/{self.members[index] if index is not None else self.name}"
        if self.kind == "array":
            return f"{self.path}[{self.item}]"
        return self.path


def sha256_hex(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def file_fingerprint(path: str, rel_name: str) -> str:
    """Content fingerprint of a file (see the module docstring for the rule)."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        if size <= FULL_HASH_LIMIT:
            return hashlib.sha256(fh.read()).hexdigest()
        head = fh.read(EDGE_BYTES)
        fh.seek(size - EDGE_BYTES)
        tail = fh.read(EDGE_BYTES)
    return sha256_hex("edges-v1", rel_name, str(size), head, tail)


@dataclass
class Scan:
    """Videos found under a root, what was skipped (with reasons) and counts for reports."""

    videos: list[Video] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    info: dict = field(default_factory=lambda: {"dirs_without_media": 0, "ignored_files": 0,
                                                "videos_with_frame_gaps": 0})

    def attempt(self, skip_bad: bool, fn: Callable[[], Video]) -> None:
        """Run ``fn``; keep its video, or record its BadInputError when ``skip_bad``."""
        try:
            self.videos.append(fn())
        except BadInputError as exc:
            if not skip_bad:
                raise
            self.skipped.append((exc.path, exc.reason))
