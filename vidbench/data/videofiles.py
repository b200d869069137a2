"""Video files: cheap validation before decoding, probing, and the decoders.

Decoders may crash or hang on garbage, so before decord sees a file: empty files, wrong magic
bytes (a renamed text file) and truncation visible in the container (an mp4 box or an AVI RIFF
chunk running past the end of the file) are a :class:`~vidbench.utils.errors.BadInputError` naming
the file. Decoder errors are caught and reported the same way.

Decoding is decord's (``VideoReader.get_batch``, frame-accurate, rgb24). Where decord 0.6 fails
on a file that ffmpeg decodes (its row-padding bug at some frame widths, e.g. 48 or 72 pixels)
the imageio-ffmpeg binary is used instead: the same rgb24 frames, but decoded from the start.
GIFs are read with Pillow (decord cannot measure them).

Only regular files are read: a FIFO would block the reader for ever, a broken symbolic link is
named as such. ``deep`` probing also runs a strict ffmpeg decode (:func:`ffmpeg_verify`), because
decoders conceal damaged frames instead of failing.
"""
from __future__ import annotations

import os
import re
import stat
import struct
import subprocess

import numpy as np

from vidbench.data.video import Video, file_fingerprint
from vidbench.utils.errors import BadInputError

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


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISDIR, "a directory"))


def check_regular_file(path: str) -> int:
    """The size of ``path``, which must be a regular file: a broken symbolic link, a FIFO (its
    reader would block for ever), a device or a socket is a BadInputError naming it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise BadInputError(path, f"broken symbolic link (its target {os.readlink(path)!r} "
                                      "does not exist)") from None
        raise BadInputError(path, "no such file") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "an unknown kind")
        raise BadInputError(path, f"not a regular file but {kind}")
    return st.st_size


def check_video_file(path: str) -> None:
    """Cheap checks before a decoder sees the file: size, magic bytes, visible truncation."""
    try:
        _check_video_bytes(path, check_regular_file(path))
    except OSError as exc:
        raise BadInputError(path, f"cannot read: {exc.strerror or exc}") from None


def _check_video_bytes(path: str, size: int) -> None:
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
            return probe_ffmpeg(path, rel_name, reason, label, deep=deep)
        raise BadInputError(path, reason) from None
    finally:
        vr = None
    if deep:
        ffmpeg_verify(path)
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


def ffmpeg_verify(path: str) -> None:
    """Decode every frame with ffmpeg, any decoder error fatal (``-xerror -err_detect explode``).

    Decoders conceal damaged data: on an MJPEG AVI with one garbled frame decord returns a
    garbage frame and one frame fewer, without an error. This strict pass is what finds it.
    """
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error",
           "-xerror", "-err_detect", "explode", "-i", path, "-map", "0:v:0", "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        lines = [re.sub(r" @ 0x[0-9a-f]+", "", ln).strip() for ln in proc.stderr.splitlines()]
        detail = next((ln for ln in lines if ln), f"ffmpeg exit status {proc.returncode}")
        raise BadInputError(path, f"corrupt video data: a strict decode fails ({detail[:300]})")


def probe_ffmpeg(path: str, rel_name: str, decord_reason: str, label: str | None,
                 deep: bool = False) -> Video:
    """Second opinion on a file decord rejected: count its frames with ffmpeg."""
    try:
        meta, frames = ffmpeg_frames(path)
        n = sum(1 for _ in frames)
    except Exception:  # ffmpeg cannot read it either: report decord's reason
        raise BadInputError(path, decord_reason) from None
    if n == 0:
        raise BadInputError(path, decord_reason)
    if deep:
        ffmpeg_verify(path)
    w, h = meta["size"]
    fps = float(meta.get("fps") or 0)
    return Video(rel_name, path, "ffmpeg", n, int(h), int(w), fps if fps > 0 else None,
                 file_fingerprint(path, rel_name), label=label)

