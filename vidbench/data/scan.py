"""Finding videos: directory trees of video files and frame folders, and zip archives of frames.

A video is a video file, or a directory that *directly* contains frame images (.png .jpg
.jpeg). Trees are walked recursively, so flat folders (one folder = one video), folders of
videos and Sky Time-lapse's two-level ``sky_train/<id>/<id>_<k>/<frames>`` all work
(docs/datasets.md, *Loading rules*). Frames are ordered naturally (``img_2`` before
``img_10``); gaps in frame numbers are allowed and counted.

Every frame's header is checked when a source is opened (size, colour mode, readability and a
truncated tail); decoding every pixel happens only with ``deep=True`` (``vidbench data inspect
--verify``). A bad input raises :class:`~vidbench.utils.errors.BadInputError` naming the file, or with
``skip_bad`` is listed in ``skipped`` as ``(path, reason)``: nothing is dropped silently.

Fingerprints (content, never absolute paths or times): a frame folder is the SHA-256 of every
frame's name and size plus the full bytes of its first and last frames (one stat per frame
rather than reading a million JPEGs; an in-place edit of a middle frame that keeps its size
goes unnoticed); a video inside a zip is the SHA-256 of its members' names, sizes and CRC-32s
from the archive's central directory (a content hash the archive already holds).
"""
from __future__ import annotations

import os
import zipfile
from typing import Iterable

from tqdm import tqdm

from vidbench.data.naturalsort import natural_sorted, trailing_number
from vidbench.data.readers import check_image_tail, image_to_rgb, mode_name
from vidbench.data.video import IMAGE_EXTS, VIDEO_EXTS, Scan, Video, sha256_hex
from vidbench.data.videofiles import check_regular_file, probe_video_file
from vidbench.utils.errors import BadInputError


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _ext(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def _check_frame(fh, where: str, size: int, convert_rgb: bool, deep: bool):
    """Header (and with ``deep`` pixel) check of one frame; returns its (width, height)."""
    from PIL import Image
    if size == 0:
        raise BadInputError(where, "empty file (0 bytes)")
    try:
        im = Image.open(fh)
        if im.mode != "RGB" and not convert_rgb:
            raise BadInputError(where, f"frame is {mode_name(im.mode)}, not RGB; pass "
                                       "convert_rgb=True (--convert-rgb) to convert it")
        if deep:
            im.load()
            image_to_rgb(im, where, convert_rgb)
    except BadInputError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadInputError(where, f"not a readable image: {exc}") from None
    fh.seek(max(0, size - 64))
    reason = check_image_tail(fh.read(), _ext(where))
    if reason:
        raise BadInputError(where, reason)
    return im.size


def _count_gaps(members: Iterable[str]) -> bool:
    nums = [trailing_number(m) for m in members]
    if any(n is None for n in nums):
        return False
    return any(b - a != 1 for a, b in zip(nums, nums[1:]))


def frame_dir_video(dirpath: str, rel_name: str, files: list[str], *, convert_rgb: bool = False,
                    deep: bool = False, label: str | None = None) -> Video:
    """Describe one directory of frames (``files`` are names inside ``dirpath``)."""
    files = natural_sorted(files)
    sizes, shape = [], None
    for f in files:
        where = os.path.join(dirpath, f)
        try:
            size = check_regular_file(where)     # a FIFO would block open() for ever
            with open(where, "rb") as fh:
                wh = _check_frame(fh, where, size, convert_rgb, deep)
        except OSError as exc:
            raise BadInputError(where, f"cannot read: {exc.strerror or exc}") from None
        if shape is None:
            shape = wh
        elif wh != shape:
            raise BadInputError(where, f"frame is {wh[0]}x{wh[1]} but the first frame of "
                                       f"{rel_name} is {shape[0]}x{shape[1]} (mixed sizes)")
        sizes.append(size)
    with open(os.path.join(dirpath, files[0]), "rb") as fh:
        first = fh.read()
    with open(os.path.join(dirpath, files[-1]), "rb") as fh:
        last = fh.read()
    listing = "\n".join(f"{f}\t{s}" for f, s in zip(files, sizes))
    fp = sha256_hex("frames-v1", listing, first, last)
    return Video(rel_name, dirpath, "frames", len(files), shape[1], shape[0], None, fp,
                 members=tuple(files), label=label)


def probe_many(items: list[tuple[str, str, str | None]], *, skip_bad: bool, deep: bool = False,
               scan: Scan | None = None, desc: str = "probing videos") -> Scan:
    """Probe video files ``(path, rel_name, label)`` into ``scan`` (a new one when None)."""
    scan = scan if scan is not None else Scan()
    for path, rel, label in tqdm(items, desc=desc, disable=None, leave=False):
        scan.attempt(skip_bad, lambda: probe_video_file(path, rel, deep=deep, label=label))
    return scan


def scan_directory(root: str, *, skip_bad: bool = False, convert_rgb: bool = False,
                   deep: bool = False) -> Scan:
    """All videos under ``root``: video files and directories that directly contain frames."""
    root = os.path.abspath(root)
    if not os.path.isdir(root):
        raise BadInputError(root, "not a directory")
    scan, files, seen = Scan(), [], set()
    frame_dirs: list[tuple[str, str, list[str]]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a symlink loop
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = natural_sorted(d for d in dirnames if not _is_hidden(d))
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel = os.path.basename(root) if rel == "." else rel
        frames = [f for f in filenames if not _is_hidden(f) and _ext(f) in IMAGE_EXTS]
        vids = [f for f in filenames if not _is_hidden(f) and _ext(f) in VIDEO_EXTS]
        scan.info["ignored_files"] += sum(1 for f in filenames if not _is_hidden(f)) \
            - len(frames) - len(vids)
        if frames:
            frame_dirs.append((dirpath, rel, frames))
        for f in natural_sorted(vids):
            name = f if dirpath == root else f"{rel}/{f}"
            files.append((os.path.join(dirpath, f), name, None))
        if not frames and not vids and not dirnames:
            scan.info["dirs_without_media"] += 1
    for dirpath, rel, frames in tqdm(frame_dirs, desc="checking frames", disable=None, leave=False):
        scan.attempt(skip_bad, lambda: frame_dir_video(dirpath, rel, frames,
                                                       convert_rgb=convert_rgb, deep=deep))
    probe_many(files, skip_bad=skip_bad, deep=deep, scan=scan)
    scan.videos = natural_sorted(scan.videos, key=lambda v: v.name)
    scan.info["videos_with_frame_gaps"] = sum(_count_gaps(v.members) for v in scan.videos
                                              if v.kind == "frames")
    return scan


def _zip_video(zf: zipfile.ZipFile, zip_path: str, rel: str, infos: list[zipfile.ZipInfo],
               convert_rgb: bool, deep: bool) -> Video:
    infos = natural_sorted(infos, key=lambda i: i.filename)
    shape = None
    for info in infos:
        where = f"{zip_path}!/{info.filename}"
        try:
            with zf.open(info) as fh:
                wh = _check_frame(fh, where, info.file_size, convert_rgb, deep)
        except (zipfile.BadZipFile, OSError) as exc:
            raise BadInputError(where, f"cannot read zip member: {exc}") from None
        if shape is None:
            shape = wh
        elif wh != shape:
            raise BadInputError(where, f"frame is {wh[0]}x{wh[1]} but the first frame of "
                                       f"{rel} is {shape[0]}x{shape[1]} (mixed sizes)")
    listing = "\n".join(f"{i.filename}\t{i.file_size}\t{i.CRC:08x}" for i in infos)
    return Video(rel, zip_path, "zip", len(infos), shape[1], shape[0], None,
                 sha256_hex("zip-v1", listing), members=tuple(i.filename for i in infos))


def scan_zip(path: str, *, skip_bad: bool = False, convert_rgb: bool = False,
             deep: bool = False) -> Scan:
    """Frame folders inside a zip archive, read in place (members are never extracted)."""
    path = os.path.abspath(path)
    if check_regular_file(path) == 0:
        raise BadInputError(path, "empty file (0 bytes)")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadInputError(path, f"not a readable zip archive: {exc}") from None
    scan = Scan()
    with zf:
        groups: dict[str, list[zipfile.ZipInfo]] = {}
        for info in zf.infolist():
            parts = info.filename.split("/")
            if info.is_dir() or any(_is_hidden(p) for p in parts):
                continue
            if _ext(info.filename) not in IMAGE_EXTS:
                scan.info["ignored_files"] += 1
                continue
            d = "/".join(parts[:-1])
            groups.setdefault(d or os.path.splitext(os.path.basename(path))[0], []).append(info)
        for rel in natural_sorted(groups):
            scan.attempt(skip_bad, lambda: _zip_video(zf, path, rel, groups[rel],
                                                      convert_rgb, deep))
    scan.info["videos_with_frame_gaps"] = sum(_count_gaps(v.members) for v in scan.videos)
    return scan
