"""Registry of real data sets, read as each one ships.

:data:`DATASETS` names ``ucf101``, ``faceforensics``, ``sky``, ``voxceleb`` and ``folder``
(any folder of video files and/or frame folders, walked recursively); each reads its release's
own layout under ``--root`` and takes options such as ``split=`` (and ``fold=`` for UCF-101,
``sky_first32=`` for Sky).

Expected layouts, options and defaults of each: docs/datasets.md, the section of each data
set.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Callable

from vidbench.data.clips import ClipSpec, VideoClipSource
from vidbench.data.naturalsort import natural_sorted
from vidbench.data.readers import FrameReader
from vidbench.data.scan import probe_many, scan_directory
from vidbench.data.video import Scan
from vidbench.utils.errors import VidbenchError


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    layout: str                       # the expected layout, quoted in errors
    options: dict[str, tuple]         # option -> allowed values (first is the default)
    scan: Callable[..., tuple[Scan, dict[str, Any]]]


def _bool(value: Any) -> bool:
    text = str(value).lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise VidbenchError(f"expected a boolean (true/false), got {value!r}")


def _need_dir(path: str, info: "DatasetInfo", what: str) -> str:
    if not os.path.isdir(path):
        raise VidbenchError(f"{info.name}: {what} {path} not found; expected layout: {info.layout}")
    return path


def _scan_subdirs(root: str, subdirs: list[str], **kw) -> Scan:
    """Scan ``root/sub`` for each sub; video names are relative to ``root``."""
    total = Scan()
    for sub in subdirs:
        top = os.path.abspath(os.path.join(root, sub))
        part = scan_directory(top, **kw)
        for v in part.videos:
            own = v.kind == "frames" and os.path.abspath(v.path) == top
            total.videos.append(replace(v, name=sub if own else f"{sub}/{v.name}"))
        total.skipped += part.skipped
        for k, n in part.info.items():
            total.info[k] = total.info.get(k, 0) + n
    return total


_UCF_NAME = re.compile(r"v_(.+?)_g\d+_c\d+", re.IGNORECASE)


def _ucf_lists_dir(root: str) -> str | None:
    for cand in (os.path.join(root, "ucfTrainTestlist"),
                 os.path.join(os.path.dirname(os.path.abspath(root)), "ucfTrainTestlist")):
        if os.path.isdir(cand):
            return cand
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            if d.lower() == "ucftraintestlist":
                return os.path.join(dirpath, d)
    return None


def _scan_ucf101(root: str, opts: dict, skip_bad: bool, convert_rgb: bool, deep: bool):
    info = DATASETS["ucf101"]
    split, fold = opts["split"], int(opts["fold"])
    files: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = natural_sorted(d for d in dirnames if not d.startswith("."))
        for f in filenames:
            if f.lower().endswith(".avi"):
                rel = os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/")
                files[f.lower()] = (os.path.join(dirpath, f), rel)
    if not files:
        raise VidbenchError(f"ucf101: no .avi files under {root}; expected layout: {info.layout}")
    scan = Scan()
    if split == "all":
        chosen = list(files.values())
    else:
        lists = _ucf_lists_dir(root)
        list_file = os.path.join(lists or "", f"{split}list0{fold}.txt")
        if lists is None or not os.path.isfile(list_file):
            raise VidbenchError(f"ucf101: split={split} needs {split}list0{fold}.txt in "
                                f"ucfTrainTestlist/ (under or next to {root}); expected layout: "
                                f"{info.layout}")
        chosen = []
        with open(list_file, encoding="utf-8") as fh:
            for line in fh:
                entry = line.strip().split(" ")[0] if line.strip() else ""
                if not entry:
                    continue
                hit = files.get(entry.replace("\\", "/").rsplit("/", 1)[-1].lower())
                if hit is None:
                    reason = f"listed in {os.path.basename(list_file)} but not found under the root"
                    if not skip_bad:
                        raise VidbenchError(f"ucf101: {entry}: {reason}")
                    scan.skipped.append((entry, reason))
                else:
                    chosen.append(hit)
    items = []
    for path, rel in natural_sorted(chosen, key=lambda pr: pr[1]):
        m = _UCF_NAME.match(os.path.basename(path))
        items.append((path, rel, m.group(1) if m else None))
    probe_many(items, skip_bad=skip_bad, deep=deep, scan=scan)
    return scan, {"split": split, "fold": fold}


def _ff_root(root: str) -> str:
    inner = os.path.join(root, "FaceForensics_compressed")
    return inner if os.path.isdir(inner) and not os.path.isdir(os.path.join(root, "train")) else root


def _scan_faceforensics(root: str, opts: dict, skip_bad: bool, convert_rgb: bool, deep: bool):
    info, root = DATASETS["faceforensics"], _ff_root(root)
    splits = ["train", "val", "test"] if opts["split"] == "all" else [opts["split"]]
    items = []
    for s in splits:
        d = _need_dir(os.path.join(root, s, "original"), info, "folder")
        for f in natural_sorted(os.listdir(d)):
            if f.lower().endswith(".avi") and not f.startswith("."):
                items.append((os.path.join(d, f), f"{s}/original/{f}", None))
    if not items:
        raise VidbenchError(f"faceforensics: no .avi files in {root}/{{{','.join(splits)}}}/original; "
                            f"expected layout: {info.layout}")
    return probe_many(items, skip_bad=skip_bad, deep=deep), {"split": opts["split"]}


def _scan_sky(root: str, opts: dict, skip_bad: bool, convert_rgb: bool, deep: bool):
    info = DATASETS["sky"]
    if not os.path.isdir(os.path.join(root, "sky_train")) and \
            os.path.isdir(os.path.join(root, "sky_timelapse")):
        root = os.path.join(root, "sky_timelapse")
    splits = ["train", "test"] if opts["split"] == "all" else [opts["split"]]
    subs = [f"sky_{s}" for s in splits]
    for sub in subs:
        _need_dir(os.path.join(root, sub), info, "folder")
    scan = _scan_subdirs(root, subs, skip_bad=skip_bad, convert_rgb=convert_rgb, deep=deep)
    return scan, {"split": opts["split"], "sky_first32": _bool(opts["sky_first32"])}


def _scan_voxceleb(root: str, opts: dict, skip_bad: bool, convert_rgb: bool, deep: bool):
    info = DATASETS["voxceleb"]
    has_splits = [s for s in ("train", "test") if os.path.isdir(os.path.join(root, s))]
    if opts["split"] == "all":
        subs = has_splits
    else:
        _need_dir(os.path.join(root, opts["split"]), info, "folder")
        subs = [opts["split"]]
    kw = dict(skip_bad=skip_bad, convert_rgb=convert_rgb, deep=deep)
    scan = _scan_subdirs(root, subs, **kw) if subs else scan_directory(root, **kw)
    return scan, {"split": opts["split"]}


def _scan_folder(root: str, opts: dict, skip_bad: bool, convert_rgb: bool, deep: bool):
    return scan_directory(root, skip_bad=skip_bad, convert_rgb=convert_rgb, deep=deep), {}


DATASETS: "MappingProxyType[str, DatasetInfo]" = MappingProxyType({
    "ucf101": DatasetInfo("ucf101", "ROOT/<Class>/v_<Class>_gNN_cMM.avi (the extracted UCF101.rar) "
                          "plus ROOT/ucfTrainTestlist/{trainlist,testlist}0{1,2,3}.txt",
                          {"split": ("all", "train", "test"), "fold": (1, 2, 3)}, _scan_ucf101),
    "faceforensics": DatasetInfo("faceforensics", "ROOT/{train,val,test}/original/*.avi "
                                 "(FaceForensics v1, compressed)",
                                 {"split": ("train", "val", "test", "all")}, _scan_faceforensics),
    "sky": DatasetInfo("sky", "ROOT/sky_train/<id>/<id>_<k>/<id>_frames_<NNNNNNNN>.jpg and "
                       "ROOT/sky_test/... (Sky Time-lapse, frames nested two levels)",
                       {"split": ("train", "test", "all"), "sky_first32": (False, True)}, _scan_sky),
    "voxceleb": DatasetInfo("voxceleb", "ROOT/[train|test/]<video>.mp4 or "
                            "ROOT/[train|test/]<video>/<frames>.png",
                            {"split": ("all", "train", "test")}, _scan_voxceleb),
    "folder": DatasetInfo("folder", "ROOT/... video files or folders of frames, any depth",
                          {}, _scan_folder),
})

SKY_FIRST32 = ClipSpec(length=32, stride=1, start="first")


def open_dataset(name: str, root: str | None, options: dict[str, Any] | None = None, *,
                 clip: ClipSpec | None = None, skip_bad: bool = False, convert_rgb: bool = False,
                 deep: bool = False) -> VideoClipSource:
    """Open a registered data set laid out as it ships (docs/datasets.md, the section of each
    data set)."""
    if name not in DATASETS:
        raise VidbenchError(f"unknown data set {name!r}; valid: {', '.join(DATASETS)}")
    info = DATASETS[name]
    options = dict(options or {})
    unknown = sorted(set(options) - set(info.options))
    if unknown:
        valid = ", ".join(info.options) or "none"
        raise VidbenchError(f"{name}: unknown option(s) {', '.join(unknown)}; valid: {valid}")
    opts = {}
    for key, allowed in info.options.items():
        value = options.get(key, allowed[0])
        if isinstance(allowed[0], bool):
            value = _bool(value)
        elif isinstance(allowed[0], int):
            value = int(value) if str(value).isdigit() else value
        if value not in allowed:
            raise VidbenchError(f"{name}: {key}={value!r} is not one of "
                                f"{', '.join(map(str, allowed))}")
        opts[key] = value
    if root is None:
        raise VidbenchError(f"data set {name} needs --root; expected layout: {info.layout}")
    root = os.path.abspath(os.path.expanduser(root))
    _need_dir(root, info, "root")
    scan, described = info.scan(root, opts, skip_bad, convert_rgb, deep)
    skip_short = None
    if described.get("sky_first32"):
        if clip is not None and clip != SKY_FIRST32:
            raise VidbenchError("sky: sky_first32 fixes the clips (first 32 frames); do not pass "
                                "another clip spec with it")
        clip, skip_short = SKY_FIRST32, True
    if not scan.videos and not scan.skipped:
        raise VidbenchError(f"{name}: no videos found under {root}; expected layout: {info.layout}")
    meta = {"kind": "dataset", "dataset": name, **described, **scan.info}
    shown = ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                     for k, v in described.items() if v is not False)
    label = f"{name}:{shown}" if shown else name
    return VideoClipSource(scan.videos, name=label, reader=FrameReader(convert_rgb=convert_rgb),
                           clip=clip, skip_bad=skip_bad, skipped=scan.skipped, meta=meta,
                           skip_short=skip_short)
