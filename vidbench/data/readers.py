"""Reading frames: :class:`FrameReader` turns any :class:`~vidbench.data.video.Video` into uint8
RGB ``[T, H, W, 3]``, decoding only the frames asked for.

A video is a video file (.mp4 .avi .webm .mkv .mov via decord, .gif via Pillow; see
:mod:`vidbench.data.videofiles`), a directory of frame images, a directory of frames inside a
zip archive (read in place), or one item of a NumPy array file (:mod:`vidbench.data.arrays`).
Frames that are not RGB (greyscale, RGBA, palette) are an error unless ``convert_rgb``; frames
of another size than the video's first frame are an error. :class:`FrameReader` is picklable,
so sources holding one can be decoded in DataLoader workers.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from vidbench.data.arrays import open_array
from vidbench.data.video import Video
from vidbench.data.videofiles import DECORD_PADDING_BUG, ffmpeg_frames, first_line, open_decord
from vidbench.utils.errors import BadInputError

__all__ = ["FrameReader", "check_image_tail", "image_to_rgb", "mode_name"]


def check_image_tail(data_tail: bytes, ext: str) -> str | None:
    """The reason an image is truncated (PNG without IEND, JPEG without EOI), else None."""
    if ext == ".png" and b"IEND" not in data_tail[-16:]:
        return "truncated PNG (no IEND chunk at the end)"
    if ext in (".jpg", ".jpeg") and b"\xff\xd9" not in data_tail[-64:]:
        return "truncated JPEG (no end-of-image marker)"
    return None


def image_to_rgb(im, where: str, convert_rgb: bool) -> np.ndarray:
    """A decoded PIL image as uint8 ``[H, W, 3]``; non-RGB modes need ``convert_rgb``."""
    if im.mode != "RGB":
        if not convert_rgb:
            raise BadInputError(where, f"frame is {mode_name(im.mode)}, not RGB; pass "
                                       "convert_rgb=True (--convert-rgb) to convert it")
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.uint8)


def mode_name(mode: str) -> str:
    names = {"L": "greyscale (L)", "LA": "greyscale with alpha (LA)", "RGBA": "RGBA",
             "P": "palette (P)", "I;16": "16-bit greyscale (I;16)", "CMYK": "CMYK", "1": "1-bit"}
    return names.get(mode, f"mode {mode}")


@dataclass
class FrameReader:
    """Reads frames of :class:`Video` s as uint8 RGB ``[T, H, W, 3]``.

    Keeps the last opened zip archive or array per process (never across a fork, never
    pickled), so a source holding a reader can be sent to DataLoader workers; video decoders
    are opened per read.
    """

    convert_rgb: bool = False
    array_spec: Any = None            # vidbench.data.arrays.ArraySpec for array sources
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict:
        return {"convert_rgb": self.convert_rgb, "array_spec": self.array_spec, "_cache": {}}

    def describe(self) -> dict[str, Any]:
        spec = self.array_spec.describe() if self.array_spec is not None else None
        return {"convert_rgb": self.convert_rgb, "array": spec}

    def _cached(self, key: tuple, opener):
        if self._cache.get("pid") != os.getpid():
            # a forked worker inherits the parent's decoders, whose threads did not survive
            # the fork: forget them (never close them here, they belong to the parent)
            self._cache = {"pid": os.getpid()}
        if key not in self._cache:
            self.close()
            self._cache[key] = opener()
        return self._cache[key]

    def close(self) -> None:
        if self._cache.get("pid") == os.getpid():
            for obj in self._cache.values():
                if hasattr(obj, "close"):
                    obj.close()
        self._cache = {"pid": os.getpid()}

    def read(self, video: Video, indices: Sequence[int]) -> np.ndarray:
        idx = [int(i) for i in indices]
        if any(not 0 <= i < video.num_frames for i in idx):
            raise IndexError(f"{video.name}: frame index out of range 0..{video.num_frames - 1}")
        reader = getattr(self, f"_read_{video.kind}")
        out = reader(video, idx)
        if out.shape[1:] != (video.height, video.width, 3) or out.shape[0] != len(idx):
            raise BadInputError(video.where(), f"decoded frames of shape {list(out.shape[1:])}, "
                                               f"expected [{video.height}, {video.width}, 3]")
        return np.ascontiguousarray(out, dtype=np.uint8)

    def _read_file(self, video: Video, idx: list[int]) -> np.ndarray:
        # A decord reader is opened per read and released before returning: a live reader's
        # threads make a later fork (DataLoader workers) deadlock in the child.
        vr = open_decord(video.path)
        try:
            return vr.get_batch(idx).asnumpy()
        except Exception as exc:
            if DECORD_PADDING_BUG in str(exc):
                vr = None
                return self._read_ffmpeg(video, idx)
            raise BadInputError(video.path, f"cannot decode frames {idx[0]}..{idx[-1]}: "
                                            f"{first_line(exc)}") from None
        finally:
            vr = None

    def _read_ffmpeg(self, video: Video, idx: list[int]) -> np.ndarray:
        wanted = set(idx)
        got: dict[int, np.ndarray] = {}
        try:
            _, frames = ffmpeg_frames(video.path, stop=max(idx) + 1)
            for i, frame in enumerate(frames):
                if i in wanted:
                    got[i] = frame
        except Exception as exc:
            raise BadInputError(video.path, f"cannot decode: {first_line(exc)}") from None
        missing = sorted(wanted - set(got))
        if missing:
            raise BadInputError(video.path, f"ffmpeg decoded no frame {missing[0]}")
        return np.stack([got[i] for i in idx])

    def _read_gif(self, video: Video, idx: list[int]) -> np.ndarray:
        from PIL import Image
        frames = []
        try:
            with Image.open(video.path) as im:
                for i in idx:
                    im.seek(i)
                    frames.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
        except (OSError, ValueError, EOFError) as exc:
            raise BadInputError(video.path, f"cannot decode GIF frame: {exc}") from None
        return np.stack(frames)

    def _decode_image(self, data: bytes, where: str, video: Video) -> np.ndarray:
        from PIL import Image
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                arr = image_to_rgb(im, where, self.convert_rgb)
        except BadInputError:
            raise
        except (OSError, ValueError, SyntaxError) as exc:
            raise BadInputError(where, f"cannot decode image: {exc}") from None
        if arr.shape[:2] != (video.height, video.width):
            raise BadInputError(where, f"frame is {arr.shape[1]}x{arr.shape[0]}, the video's first "
                                       f"frame is {video.width}x{video.height}")
        return arr

    def _read_frames(self, video: Video, idx: list[int]) -> np.ndarray:
        out = []
        for i in idx:
            where = video.where(i)
            try:
                with open(where, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                raise BadInputError(where, f"cannot read: {exc.strerror or exc}") from None
            out.append(self._decode_image(data, where, video))
        return np.stack(out)

    def _read_zip(self, video: Video, idx: list[int]) -> np.ndarray:
        import zipfile
        zf = self._cached(("zip", video.path), lambda: zipfile.ZipFile(video.path))
        out = []
        for i in idx:
            where = video.where(i)
            try:
                data = zf.read(video.members[i])
            except (zipfile.BadZipFile, OSError, KeyError) as exc:
                raise BadInputError(where, f"cannot read zip member: {exc}") from None
            out.append(self._decode_image(data, where, video))
        return np.stack(out)

    def _read_array(self, video: Video, idx: list[int]) -> np.ndarray:
        spec = self.array_spec
        arr = self._cached(("array", video.path, spec), lambda: open_array(video.path, spec))
        return spec.video_frames(arr, video.item, idx, video.where(), self.convert_rgb)
