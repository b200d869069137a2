"""The results store: append-only JSON lines, one line per measured number, with provenance.

Follows the run-record idea of NVlabs/stylegan2-ada-pytorch (one JSONL line per metric
evaluation). A line holds at least :data:`REQUIRED_KEYS` (metric, protocol, value) and
:data:`PROVENANCE_KEYS`, plus whatever the producer knows; :data:`CELL_KEYS` place the number
in a table. :func:`append_result` is safe with several writers on one file, and
:func:`read_results` never takes a damaged line as data.

Contents of a line: docs/protocols.md, *Result records and provenance*.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from vidbench.utils.errors import VidbenchError
from vidbench.utils.fileio import raise_if_disk_full

KEY_METRIC = "metric"               # "fvd", "isv", "acd", "psnr", "ssim", "fid"
KEY_PROTOCOL = "protocol"           # named protocol, e.g. "mocogan-hd"
KEY_VALUE = "value"                 # the number (mean over runs where the protocol repeats)
KEY_STD = "std"                     # std over runs (with KEY_NUM_RUNS > 1)
KEY_RUNS = "runs"                   # per-run values
KEY_NUM_RUNS = "num_runs"
KEY_STD_DDOF = "std_ddof"           # delta degrees of freedom of KEY_STD
KEY_NUM_FAKE = "num_fake"
KEY_NUM_REAL = "num_real"
KEY_SEED = "seed"
KEY_OVERRIDES = "overrides"         # settings that differ from the protocol (e.g. counts)
KEY_FAKE = "fake"                   # fake source description (spec, fingerprint, meta)
KEY_REAL = "real"                   # real source description
KEY_WEIGHTS_SHA256 = "weights_sha256"
KEY_TIMESTAMP = "timestamp"         # ISO 8601, UTC
KEY_GIT_COMMIT = "git_commit"
KEY_GIT_DIRTY = "git_dirty"
KEY_VERSIONS = "versions"
KEY_DEVICE = "device"
KEY_SECONDS = "seconds"             # wall time
KEY_CELL = "cell"
KEY_EXPERIMENT = "experiment"
KEY_VARIANT = "variant"
KEY_DATASET = "dataset"
KEY_METHOD = "method"
KEY_ROW_LABEL = "row_label"         # optional: how tables name a row the paper does not have

REQUIRED_KEYS = (KEY_METRIC, KEY_PROTOCOL, KEY_VALUE)
PROVENANCE_KEYS = (KEY_TIMESTAMP, KEY_GIT_COMMIT, KEY_GIT_DIRTY, KEY_VERSIONS, KEY_DEVICE)
CELL_KEYS = (KEY_CELL, KEY_EXPERIMENT, KEY_VARIANT, KEY_DATASET, KEY_METHOD)
LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class Problem:
    """A line of a results file that was not read as data."""

    path: str
    line: int          # 1-based
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _is_number(x: Any) -> bool:
    numeric = isinstance(x, (int, float, np.integer, np.floating))
    return numeric and not isinstance(x, (bool, np.bool_))


def validate_record(record: Any) -> list[str]:
    """Why ``record`` cannot be a result line (an empty list when it can)."""
    if not isinstance(record, dict):
        return [f"not a JSON object but {type(record).__name__}"]
    reasons = []
    missing = [k for k in REQUIRED_KEYS + PROVENANCE_KEYS if k not in record]
    if missing:
        reasons.append(f"missing required key(s) {', '.join(missing)}")
    for key in (KEY_METRIC, KEY_PROTOCOL):
        if key in record and not (isinstance(record[key], str) and record[key]):
            reasons.append(f"{key!r} must be a non-empty string, got {record[key]!r}")
    for key in (KEY_VALUE, KEY_STD):
        if key in record and not (_is_number(record[key]) and math.isfinite(record[key])):
            if key == KEY_STD and record[key] is None:
                continue
            reasons.append(f"{key!r} must be a finite number, got {record[key]!r}")
    runs = record.get(KEY_RUNS)
    if runs is not None:
        if not (isinstance(runs, (list, tuple)) and all(_is_number(r) for r in runs)):
            reasons.append(f"{KEY_RUNS!r} must be a list of numbers")
        elif KEY_NUM_RUNS in record and record[KEY_NUM_RUNS] != len(runs):
            reasons.append(f"{KEY_NUM_RUNS!r} is {record[KEY_NUM_RUNS]} but {len(runs)} runs "
                           "are given")
    return reasons


def complete_record(record: dict[str, Any], device: Any = "cpu") -> dict[str, Any]:
    """``record`` with any missing provenance keys filled in for this process (a new dict)."""
    from vidbench.utils.provenance import provenance

    missing = [k for k in PROVENANCE_KEYS if k not in record]
    if not missing:
        return dict(record)
    prov = provenance(device)
    return {**record, **{k: prov[k] for k in missing}}


def run_summary(values: Sequence[float], ddof: int = 0) -> dict[str, Any]:
    """Value (mean), std, per-run values and count of a protocol that repeats ``len(values)``
    times; ``ddof`` 0 is the population std (``numpy.std``, as StyleGAN-V's ``num_runs``)."""
    runs = [float(v) for v in values]
    if not runs:
        raise VidbenchError("run_summary needs at least one run")
    std = float(np.std(runs, ddof=ddof)) if len(runs) > ddof else None
    return {KEY_VALUE: float(np.mean(runs)), KEY_STD: std, KEY_RUNS: runs,
            KEY_NUM_RUNS: len(runs), KEY_STD_DDOF: ddof}


def split_psnr_ssim(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``psnr_ssim`` record (two numbers) as two result records, metrics ``psnr`` and
    ``ssim``; the per-frame arrays are left out (the per-video means stay) and a ``cell`` key
    gets the metric appended."""
    if record.get(KEY_METRIC) != "psnr_ssim":
        raise VidbenchError(f"split_psnr_ssim expects a psnr_ssim record, got "
                            f"{record.get(KEY_METRIC)!r}")
    dropped = ("psnr", "ssim", "per_frame", "per_video")
    shared = {k: v for k, v in record.items() if k not in dropped}
    per_video = record.get("per_video") or {}
    out = []
    for metric in ("psnr", "ssim"):
        out.append({**shared, KEY_METRIC: metric, KEY_VALUE: record[metric],
                    "per_video": per_video.get(metric),
                    **({KEY_CELL: f"{shared[KEY_CELL]}/{metric}"} if KEY_CELL in shared else {})})
    return out


def encode_record(record: dict[str, Any]) -> bytes:
    """The line written for ``record`` (validated; strict JSON: no NaN/inf), with newline."""
    reasons = validate_record(record)
    if reasons:
        raise VidbenchError("result record refused: " + "; ".join(reasons))
    try:
        text = json.dumps(record, default=_json_default, allow_nan=False, ensure_ascii=False,
                          separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise VidbenchError(f"result record refused: not JSON serialisable ({exc})") from None
    return (text + "\n").encode("utf-8")


def append_result(path: str | os.PathLike, record: dict[str, Any]) -> Path:
    """Append ``record`` as one line to the JSONL file ``path`` (created if absent), atomically
    with respect to other writers. Refuses invalid records.

    Safe with several processes or cluster jobs appending to one file: the whole line goes out
    in one ``write`` on an ``O_APPEND`` descriptor, under an exclusive ``fcntl.flock`` on a
    sidecar ``<file>.lock``, and is fsync'ed; a write that fails (a full disk:
    :class:`~vidbench.utils.errors.DiskFullError`) is truncated away, leaving the file as it was.
    """
    path = Path(path)
    line = encode_record(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(str(path) + LOCK_SUFFIX, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                # A crashed writer left a line without its newline: end it, so that the damage
                # stays on its own line (reported by read_results) and this line is whole.
                line = b"\n" + line
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError as exc:
                # Take back whatever part of the line went out (the lock is held), so a
                # failed append leaves the file exactly as it was.
                try:
                    os.ftruncate(fd, size)
                except OSError:
                    raise VidbenchError(f"cannot append to {path} ({exc.strerror or exc}) and "
                                        "cannot take the partial line back") from exc
                raise_if_disk_full(exc, path)
                raise VidbenchError(f"cannot append to {path} ({exc.strerror or exc}); the "
                                    "file is unchanged") from exc
        finally:
            os.close(fd)
    finally:
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        os.close(lock_fd)
    return path


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def read_results(path: str | os.PathLike) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Records of one JSONL results file, in file order, and the lines not read. A missing file
    is an error.

    A damaged line is never taken as data: a last line without its newline (a crash
    mid-write), a line that is not a JSON object, or one missing required keys is reported in
    ``problems`` with its line number and the reason; an exact repeat of an earlier line (same
    ``cell`` and same everything else) is reported and read once.
    """
    numbered, problems = _read_numbered(Path(path))
    return [r for _, r in numbered], problems


def _read_numbered(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VidbenchError(f"{path}: cannot read results file ({exc.strerror or exc})") from None
    records: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    lines = data.split(b"\n")
    complete = len(lines) - 1          # the piece after the last newline is not a whole line
    for number, raw in enumerate(lines, start=1):
        if number > complete:
            if raw.strip():
                problems.append(Problem(str(path), number, "incomplete last line (no trailing "
                                                           "newline; an interrupted write?)"))
            break
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(Problem(str(path), number, f"invalid JSON ({exc})"))
            continue
        reasons = validate_record(record)
        if reasons:
            problems.append(Problem(str(path), number, "; ".join(reasons)))
            continue
        key = _canonical(record)
        if key in seen:
            problems.append(Problem(str(path), number, f"duplicate of line {seen[key]} (same "
                                                       f"cell {record.get(KEY_CELL)!r} and same "
                                                       "everything else); read once"))
            continue
        seen[key] = number
        records.append((number, record))
    return records, problems


def results_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files named by ``paths``: a file as is, a folder as every ``*.jsonl`` below it (sorted)."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(p.rglob("*.jsonl")))
        elif p.exists():
            out.append(p)
        else:
            raise VidbenchError(f"{p}: no such results file or folder")
    return out


def read_many(paths: Iterable[str | os.PathLike]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Records and problems of every file in ``paths`` (folders walked for ``*.jsonl``); an
    exact repeat across files is reported like one within a file."""
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for f in results_files(paths):
        numbered, probs = _read_numbered(f)
        problems.extend(probs)
        for number, r in numbered:
            key = _canonical(r)
            if key in seen:
                problems.append(Problem(str(f), number, f"duplicate of {seen[key]}; read once"))
                continue
            seen[key] = f"{f}:{number}"
            records.append(r)
    return records, problems


def results_frame(paths: str | os.PathLike | Iterable[str | os.PathLike]):
    """A ``pandas.DataFrame`` with one row per record of ``paths`` (files or folders).

    Nested objects are flattened into dotted columns (``fake.fingerprint``,
    ``versions.torch``); lists (per-run values) stay as lists.
    """
    import pandas as pd

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    records, _ = read_many(paths)
    if not records:
        return pd.DataFrame(columns=list(REQUIRED_KEYS + PROVENANCE_KEYS + CELL_KEYS))
    return pd.json_normalize(records, sep=".")
