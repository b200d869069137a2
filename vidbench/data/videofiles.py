"""Video files: cheap validation before decoding, probing, and the decoders.

Decoders may crash or hang on garbage, so before decord sees a file: empty files, wrong magic
bytes (a renamed text file) and truncation visible in the container (an mp4 box or an AVI RIFF
chunk running past the end of the file) are a :class:`~vidbench.errors.BadInputError` naming
the file. Decoder errors are caught and reported the same way.

Decoding is decord's (``VideoReader.get_batch``, frame-accurate, rgb24). Where decord 0.6 fails
on a file that ffmpeg decodes (its row-padding bug at some frame widths, e.g. 48 or 72 pixels)
the imageio-ffmpeg binary is used instead: the same rgb24 frames, but decoded from the start.
GIFs are read with Pillow (decord cannot measure them).
"""
from __future__ import annotations

import os
import struct

import numpy as np

from vidbench.data.video import Video, file_fingerprint
from vidbench.errors import BadInputError

# decord 0.6 fails to copy frames whose rows it padded (some widths, e.g. 48 or 72 pixels).
DECORD_PADDING_BUG = "DECORDArrayCopyFromTo"
_MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot", b"uuid", b"meta"}


def _describe_start(head: bytes) -> str:
    printable = head and all(32 <= c < 127 or c in (9, 10, 13) for c in head)
    return "text" if printable else repr(head[:8])


def _walk_mp4_boxes(fh, size: int) -> str | None:
    """Walk the top-level ISO-BMFF boxes; the reason if one runs past the end of the file."""
    pos = 0
    while pos + 8 <= size:
        fh.seek(pos)
        hdr = fh.read(16)
        box_size, box_type = struct.unpack(">I4s", hdr[:8])
        if box_size == 1 and len(hdr) == 16:
            box_size = struct.unpack(">Q", hdr[8:16])[0]
        elif box_size == 0:  # the box extends to the end of the file
            return None
        if box_size < 8:
            return f"corrupt mp4 box {box_type!r} at byte {pos}"
        if pos + box_size > size:
            return (f"truncated: mp4 box {box_type.decode('latin-1')!r} needs "
                    f"{pos + box_size} bytes, the file has {size}")
        pos += box_size
    return None


def check_video_file(path: str) -> None:
    """Cheap checks before a decoder sees the file: size, magic bytes, visible truncation."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise BadInputError(path, f"cannot read: {exc.strerror or exc}") from None
    if size == 0:
        raise BadInputError(path, "empty file (0 bytes)")
    ext = os.path.splitext(path)[1].lower()
    with open(path, "rb") as fh:
        head = fh.read(16)
        if ext in (".mp4", ".mov"):
            if len(head) < 8 or head[4:8] not in _MP4_BOXES:
                raise BadInputError(path, f"not an mp4/mov file (it starts with {_describe_start(head)})")
            reason = _walk_mp4_boxes(fh, size)
            if reason:
                raise BadInputError(path, reason)
        elif ext == ".avi":
            if head[:4] != b"RIFF" or head[8:12] != b"AVI ":
                raise BadInputError(path, f"not an AVI file (it starts with {_describe_start(head)})")
            riff_size = struct.unpack("<I", head[4:8])[0] + 8
            if riff_size > size:
                raise BadInputError(path, f"truncated: the RIFF header declares {riff_size} "
                                          f"bytes, the file has {size}")
        elif ext in (".webm", ".mkv"):
            if head[:4] != b"\x1a\x45\xdf\xa3":
                raise BadInputError(path, f"not a Matroska/WebM file (it starts with {_describe_start(head)})")
        elif ext == ".gif":
            if head[:6] not in (b"GIF87a", b"GIF89a"):
                raise BadInputError(path, f"not a GIF file (it starts with {_describe_start(head)})")


def open_decord(path: str):
    import decord
    try:
        return decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    except Exception as exc:  # decord raises DECORDError or RuntimeError
        raise BadInputError(path, f"cannot decode: {first_line(exc)}") from None


def first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1][:300] if text else type(exc).__name__


def probe_video_file(path: str, rel_name: str, *, deep: bool = False,
                     label: str | None = None) -> Video:
    """Validate a video file and describe it (frame count, size, fps, fingerprint).

    Decodes the first frame (and every frame when ``deep``) so that undecodable files are
    found here rather than in the middle of a run.
    """
    check_video_file(path)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".gif":
        from PIL import Image
        try:
            with Image.open(path) as im:
                n, (w, h) = getattr(im, "n_frames", 1), im.size
                dur = im.info.get("duration") or 0
                if deep:
                    for i in range(n):
                        im.seek(i)
                        im.convert("RGB")
        except (OSError, ValueError, SyntaxError) as exc:
            raise BadInputError(path, f"cannot decode GIF: {exc}") from None
        return Video(rel_name, path, "gif", n, h, w, (1000.0 / dur) if dur else None,
                     file_fingerprint(path, rel_name), label=label)
    try:
        vr = open_decord(path)
        n = len(vr)
        if n == 0:
            raise BadInputError(path, "no video frames")
        first = vr.get_batch([0]).asnumpy()[0]  # get_batch: the path clips are read by
        fps = float(vr.get_avg_fps())
        if deep:
            for s in range(0, n, 64):
                vr.get_batch(list(range(s, min(n, s + 64))))
    except BadInputError:
        raise
    except Exception as exc:
        reason = f"cannot decode: {first_line(exc)}"
        if DECORD_PADDING_BUG in str(exc):
            return probe_ffmpeg(path, rel_name, reason, label)
        raise BadInputError(path, reason) from None
    finally:
        vr = None
    return Video(rel_name, path, "file", n, int(first.shape[0]), int(first.shape[1]),
                 fps if fps > 0 else None, file_fingerprint(path, rel_name), label=label)


def ffmpeg_frames(path: str, stop: int | None = None):
    """(meta, iterator of uint8 [H, W, 3] frames) decoded by the imageio-ffmpeg binary."""
    import imageio_ffmpeg
    gen = imageio_ffmpeg.read_frames(path, pix_fmt="rgb24")
    meta = next(gen)
    w, h = meta["size"]

    def frames():
        try:
            for i, buf in enumerate(gen):
                if stop is not None and i >= stop:
                    break
                yield np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
        finally:
            gen.close()
    return meta, frames()


def probe_ffmpeg(path: str, rel_name: str, decord_reason: str, label: str | None) -> Video:
    """Second opinion on a file decord rejected: count its frames with ffmpeg."""
    try:
        meta, frames = ffmpeg_frames(path)
        n = sum(1 for _ in frames)
    except Exception:  # ffmpeg cannot read it either: report decord's reason
        raise BadInputError(path, decord_reason) from None
    if n == 0:
        raise BadInputError(path, decord_reason)
    w, h = meta["size"]
    fps = float(meta.get("fps") or 0)
    return Video(rel_name, path, "ffmpeg", n, int(h), int(w), fps if fps > 0 else None,
                 file_fingerprint(path, rel_name), label=label)

