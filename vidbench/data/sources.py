"""Opening any source of videos from one string: a path, a data set name, or ``shapes``.

``open_source(spec)`` accepts the sources of the data layer (baselines' outputs and generator
checkpoints are opened one layer up, by :func:`vidbench.evaluation.sources.open_any_source`):

* a path: a video file (.mp4 .avi .webm .mkv .mov .gif), a folder (video files and/or frame
  folders, walked recursively), a zip of frame folders, or an array file (.npy/.npz) with its
  options, e.g. ``samples.npy:layout=NCTHW,range=-1:1,conv=tgan`` (see :mod:`vidbench.data.arrays`);
* a data set name with ``root`` (and options), e.g. ``ucf101:split=train,fold=1``
  (see :mod:`vidbench.data.datasets`);
* ``shapes`` or ``shapes:motion=circle,seed=2,num_videos=64``: the built-in synthetic set.

Options follow the first ``:`` that is followed by ``key=``; values that read as integers or
floats become numbers, ``true``/``false`` booleans. A path that exists as written is never
split, so names containing ``:`` still work. Everything returned is a
:class:`~vidbench.data.base.ClipSource` (uint8 ``[T, H, W, 3]`` clips).
"""
from __future__ import annotations

import inspect
import os
import re
from typing import Any

from vidbench.data.arrays import ARRAY_OPTIONS, ArraySpec, scan_array
from vidbench.data.base import ClipSource
from vidbench.data.clips import ClipSpec, VideoClipSource, apply_clip_spec
from vidbench.data.datasets import DATASETS, open_dataset
from vidbench.data.readers import FrameReader
from vidbench.data.video import ARRAY_EXTS, IMAGE_EXTS, VIDEO_EXTS
from vidbench.data.videofiles import probe_video_file
from vidbench.data.scan import scan_directory, scan_zip
from vidbench.data.video import Scan
from vidbench.utils.errors import BadInputError, VidbenchError

_OPTIONS_AT = re.compile(r":(?=[A-Za-z_][A-Za-z0-9_-]*=)")


def parse_value(text: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True; anything else stays a string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``head:key=val,key=val`` into ``(head, {key: value})`` (module docstring)."""
    if os.path.exists(spec):
        return spec, {}
    m = _OPTIONS_AT.search(spec)
    if m is None:
        head, rest = (spec[:-1], "") if spec.endswith(":") else (spec, "")
    else:
        head, rest = spec[:m.start()], spec[m.end():]
    options: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise VidbenchError(f"source spec {spec!r}: option {item!r} is not key=value")
        if key in options:
            raise VidbenchError(f"source spec {spec!r}: option {key!r} given twice")
        options[key] = parse_value(value.strip())
    return head, options


def format_spec(head: str, options: dict[str, Any]) -> str:
    """The inverse of :func:`parse_spec`: ``head:key=val,...`` (booleans as ``true``/``false``),
    ``head`` alone without options."""
    if not options:
        return head
    return head + ":" + ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                                 for k, v in options.items())


def _open_shapes(options: dict[str, Any]) -> ClipSource:
    try:
        from vidbench.data.shapes import make_shapes
    except ImportError as exc:
        raise VidbenchError(f"the shapes data set is not available: {exc}") from None
    params = inspect.signature(make_shapes).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    valid = [n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(options) - set(valid))
    if unknown and not takes_any:
        raise VidbenchError(f"shapes: unknown option(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    return make_shapes(**options)


def _scan_path(path: str, options: dict[str, Any], skip_bad: bool, convert_rgb: bool,
               deep: bool) -> tuple[Scan, FrameReader, str]:
    ext = os.path.splitext(path)[1].lower()
    if options and ext not in ARRAY_EXTS:
        raise VidbenchError(f"{path}: options ({', '.join(options)}) apply only to array files "
                            f"(.npy/.npz: {', '.join(ARRAY_OPTIONS)})")
    if os.path.isdir(path):
        return scan_directory(path, skip_bad=skip_bad, convert_rgb=convert_rgb, deep=deep), \
            FrameReader(convert_rgb=convert_rgb), "directory"
    if ext == ".zip":
        return scan_zip(path, skip_bad=skip_bad, convert_rgb=convert_rgb, deep=deep), \
            FrameReader(convert_rgb=convert_rgb), "zip"
    if ext in ARRAY_EXTS:
        spec = ArraySpec.from_options(options)
        return scan_array(path, spec, skip_bad=skip_bad, convert_rgb=convert_rgb), \
            FrameReader(convert_rgb=convert_rgb, array_spec=spec), "array"
    if ext in VIDEO_EXTS:
        scan = Scan()
        scan.attempt(skip_bad, lambda: probe_video_file(path, os.path.basename(path), deep=deep))
        return scan, FrameReader(convert_rgb=convert_rgb), "video_file"
    if ext in IMAGE_EXTS:
        raise BadInputError(path, "a single image is not a video; give the folder that holds "
                                  "the frames")
    raise BadInputError(path, f"unsupported file type {ext or '(no extension)'!r}; expected a "
                              f"video ({' '.join(VIDEO_EXTS)}), a folder, a .zip of frame folders "
                              f"or an array ({' '.join(ARRAY_EXTS)})")


def open_source(spec: str, *, root: str | None = None, clip: ClipSpec | None = None,
                skip_bad: bool = False, convert_rgb: bool = False,
                deep: bool = False) -> ClipSource:
    """Open a source of clips from a spec string (module docstring).

    ``clip`` cuts clips from the videos (default: whole videos); ``skip_bad`` lists bad inputs
    in ``source.skipped`` instead of raising; ``convert_rgb`` converts greyscale/RGBA/palette
    frames instead of rejecting them; ``deep`` decodes every frame while opening (slow; finds
    damage that headers do not show).
    """
    head, options = parse_spec(spec)
    if head == "shapes" and not os.path.exists(head):
        return apply_clip_spec(_open_shapes(options), clip)
    if head in DATASETS and not os.path.exists(head):
        return open_dataset(head, root, options, clip=clip, skip_bad=skip_bad,
                            convert_rgb=convert_rgb, deep=deep)
    path = os.path.expanduser(head)
    if not os.path.exists(path) and os.path.islink(path):
        raise BadInputError(path, f"broken symbolic link (its target {os.readlink(path)!r} "
                                  "does not exist)")
    if not os.path.exists(path):
        raise VidbenchError(
            f"{head!r} is neither an existing path nor a known source; a source is a path (video "
            f"file, folder of videos or frames, .zip, .npy/.npz), a data set name with --root "
            f"(valid: {', '.join(DATASETS)}), or shapes[:key=value,...]")
    if root is not None:
        raise VidbenchError(f"--root is only for data set names ({', '.join(DATASETS)}); "
                            f"{head!r} is a path")
    path = os.path.abspath(path)
    scan, reader, kind = _scan_path(path, options, skip_bad, convert_rgb, deep)
    if not scan.videos and not scan.skipped:
        raise VidbenchError(f"{path}: no videos found; expected video files "
                            f"({' '.join(VIDEO_EXTS)}) or folders that directly hold frames "
                            f"({' '.join(IMAGE_EXTS)}), at any depth")
    meta = {"kind": kind, **scan.info}
    return VideoClipSource(scan.videos, name=os.path.basename(path.rstrip(os.sep)) or path,
                           reader=reader, clip=clip, skip_bad=skip_bad, skipped=scan.skipped,
                           meta=meta)
