"""A corpus of malformed inputs, built on the fly, each with the reason vidbench must give.

A :class:`Bad` makes one bad input inside a folder and returns the path that must be named.
``source`` says what a user would pass: the path itself (``"self"``) or the frame folder that
holds it (``"parent"``). ``in_folder`` inputs can sit in a folder of good videos, where
``--skip-bad`` must list them; ``verify`` ones are found only by decoding every frame
(``--verify``); ``eval`` ones are fine as videos but too short for a protocol's clips.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from _datafiles import rand_clip, truncate, write_frames, write_video

NON_ASCII_DIR = "dir with spaces/vidéo ñ 日本"


def good_video(path: Path, seed: int, frames: int = 10) -> Path:
    return write_video(path, rand_clip(frames, 32, 32, seed), "libx264", "yuv420p")


def unreadable(path: Path) -> tuple:
    """Make ``path`` unreadable: ``chmod 000`` where that stops reads; as root it does not,
    so the driver's ``--unreadable PATH`` makes ``open(PATH)`` raise PermissionError instead.
    Returns the paths to pass to the driver (empty when chmod did the job)."""
    os.chmod(path, 0)
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        return ()
    return (path,)


@dataclass(frozen=True)
class Bad:
    name: str
    make: Callable[[Path], Path]
    reason: str                       # regex the reason must match
    source: str = "self"              # "self" | "parent"
    options: str = ""                 # source-spec options (arrays)
    in_folder: bool = True
    verify: bool = False
    eval: bool = False


def _file(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).write_bytes(data)
        return d / name
    return make


def _truncated_mp4(d: Path) -> Path:
    return truncate(good_video(d / "cut.mp4", 1), 0.6)


def _corrupt_middle_frame(d: Path) -> Path:
    """An MJPEG AVI whose 7th JPEG (of 12) has its entropy-coded data garbled; headers and the
    first frame are intact, and decord decodes it without an error (a garbage frame, one
    frame fewer)."""
    p = write_video(d / "corrupt_middle.avi", rand_clip(12, 32, 32, 2), "mjpeg", "yuvj420p",
                    extra=["-q:v", "2"])
    data = bytearray(p.read_bytes())
    soi = [m.start() for m in re.finditer(b"\xff\xd8\xff", bytes(data))]
    start, end = data.find(b"\xff\xda", soi[6]) + 16, soi[7] - 4
    data[start:end] = np.random.default_rng(0).integers(0, 256, end - start, np.uint8).tobytes()
    p.write_bytes(bytes(data))
    return p


def _frame_dir(kind: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        clip = rand_clip(5, 8, 10, 3)
        frames = write_frames(d / f"frames_{kind}", clip)
        bad = frames[2]
        if kind == "mixed":
            Image.fromarray(rand_clip(1, 9, 10, 4)[0]).save(bad)
        elif kind == "grey":
            Image.fromarray(clip[2, :, :, 0], "L").save(bad)
        elif kind == "rgba":
            Image.fromarray(np.dstack([clip[2], clip[2, :, :, :1]]), "RGBA").save(bad)
        elif kind == "truncated":
            truncate(bad, 0.5)
        elif kind == "zero":
            bad.write_bytes(b"")
        elif kind == "dangling":
            bad.unlink()
            bad.symlink_to(d / "no_such_frame.png")
        elif kind == "fifo":
            bad.unlink()
            os.mkfifo(bad)
        return bad
    return make


def _array(name: str, array: np.ndarray, bad_item: int | None = None) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        np.save(d / name, array)
        return d / name if bad_item is None else Path(f"{d / name}[{bad_item}]")
    return make


def _float_clips(value: float | None = None) -> np.ndarray:
    x = np.random.default_rng(5).uniform(-1, 1, (3, 3, 4, 6, 6)).astype(np.float32)  # NCTHW
    if value is not None:
        x[1, 0, 2, 3, 3] = value
    return x


def _truncated_npy(d: Path) -> Path:
    np.save(d / "cut.npy", np.zeros((2, 4, 6, 6, 3), np.uint8))
    return truncate(d / "cut.npy", 0.7)


def _dangling_video(d: Path) -> Path:
    (d / "moved.mp4").symlink_to(d / "the_video_that_moved.mp4")
    return d / "moved.mp4"


def _fifo_video(d: Path) -> Path:
    os.mkfifo(d / "pipe.mp4")
    return d / "pipe.mp4"


def _non_ascii(d: Path) -> Path:
    (d / NON_ASCII_DIR).mkdir(parents=True)
    return truncate(good_video(d / NON_ASCII_DIR / "clip é 日本.mp4", 6), 0.5)


def _short(frames: int) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        return good_video(d / f"only_{frames}_frames.mp4", 7, frames)
    return make


CORPUS = [
    Bad("zero-byte mp4", _file("zero.mp4", b""), r"empty file \(0 bytes\)"),
    Bad("truncated mp4", _truncated_mp4, r"truncated: mp4 box"),
    Bad("text file renamed .mp4", _file("notes.mp4", b"meeting notes, not a video\n"),
        r"not an mp4/mov file \(it starts with text\)"),
    Bad("text file renamed .avi", _file("notes.avi", b"RIFF? no: text\n"), r"not an AVI file"),
    Bad("corrupt frame in the middle", _corrupt_middle_frame,
        r"corrupt video data: a strict decode fails", verify=True),
    Bad("mixed frame sizes", _frame_dir("mixed"), r"frame is 10x9 .* \(mixed sizes\)", "parent"),
    Bad("greyscale frame", _frame_dir("grey"), r"frame is greyscale \(L\), not RGB", "parent"),
    Bad("RGBA frame", _frame_dir("rgba"), r"frame is RGBA, not RGB", "parent"),
    Bad("truncated png frame", _frame_dir("truncated"), r"not a readable image|truncated PNG",
        "parent"),
    Bad("zero-byte png frame", _frame_dir("zero"), r"empty file \(0 bytes\)", "parent"),
    Bad("dangling symlink frame", _frame_dir("dangling"), r"broken symbolic link", "parent"),
    Bad("FIFO as a frame", _frame_dir("fifo"), r"not a regular file but a named pipe", "parent"),
    Bad("dangling symlink video", _dangling_video, r"broken symbolic link"),
    Bad("FIFO named .mp4", _fifo_video, r"not a regular file but a named pipe"),
    Bad("spaces and non-ASCII in the path", _non_ascii, r"truncated: mp4 box"),
    Bad("corrupt zip", _file("frames.zip", b"PK\x03\x04 not really a zip"),
        r"not a readable zip archive", in_folder=False),
    Bad("npy of the wrong dtype", _array("flags.npy", np.zeros((2, 4, 6, 6, 3), bool)),
        r"only unsigned/signed integer or float arrays", options=":layout=NTHWC",
        in_folder=False),
    Bad("npy of the wrong layout", _array("nc.npy", np.zeros((2, 3, 4, 6, 6), np.uint8)),
        r"is not uint8 \[N, T, H, W, 3\].*layout=NCTHW", in_folder=False),
    Bad("npy of the wrong range", _array("range.npy", _float_clips() * 127.5 + 127.5, 0),
        r"outside the declared range -1:1", options=":layout=NCTHW,range=-1:1",
        in_folder=False),
    Bad("NaN in an array", _array("nan.npy", _float_clips(np.nan), 1), r"contains NaN",
        options=":layout=NCTHW,range=-1:1", in_folder=False),
    Bad("inf in an array", _array("inf.npy", _float_clips(np.inf), 1), r"contains inf",
        options=":layout=NCTHW,range=-1:1", in_folder=False),
    Bad("truncated npy", _truncated_npy, r"not a readable NumPy file", in_folder=False),
    Bad("1-frame video", _short(1), r"too short: 1 frames, the clip spec needs 8",
        in_folder=False, eval=True),
    Bad("video shorter than the clip", _short(5), r"too short: 5 frames, the clip spec needs 8",
        in_folder=False, eval=True),
]
UNREADABLE = [
    Bad("unreadable frame", _frame_dir("unreadable"), r"cannot read: Permission denied",
        "parent"),
    Bad("unreadable video", lambda d: good_video(d / "locked.mp4", 8),
        r"cannot read: Permission denied"),
]
