"""Cache of reference feature statistics, keyed by content.

See docs/protocols.md, *Reference-statistics cache*.

A key is the SHA-256 of the canonical JSON of everything that fixes the statistics: the
source fingerprint (after clip selection), the extractor contract (name, weights sha256,
preprocessing), the protocol's statistics fields, the sample count, the draw seed where it
matters and :data:`CACHE_FORMAT`. Unlike ``stylegan2-ada-pytorch`` (a key from a path and a
``repr``), a renamed folder hits and a changed resize misses.

An entry is ``<cache_dir>/stats/<key>.npz`` (float64 sums, count, the key JSON and
``arrays_sha256``, a digest of every other array) plus a sidecar ``<key>.json`` for people.
The digest is checked on every read: an entry that cannot be read, has no digest or whose
arrays do not hash to it is a :class:`DamagedEntryError`; the cache warns
(:class:`DamagedEntryWarning`, naming the file) and computes the entry again, and an imported
file is refused. Files are written to a temporary name and renamed
(``os.replace``); computing an entry holds ``<key>.lock`` (``fcntl.flock``) so two
processes asking for the same key compute it once and leave one valid entry. The same file
layout, plus ``mu`` and ``sigma``, is the export format shared with ``vidbench ref``.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import json
import os
import re
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from vidbench.utils.distributed import broadcast_decision, dist_info
from vidbench.metrics.stats import FeatureStats
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.utils.fileio import atomic_path, atomic_write_text

CACHE_FORMAT = 1  # bump when the key layout or the entry layout changes
KEY_RE = re.compile(r"^[0-9a-f]{64}$")


DIGEST_FIELD = "arrays_sha256"


class DamagedEntryError(BadInputError):
    """A statistics file that cannot be read or whose arrays do not match their digest."""


class DamagedEntryWarning(UserWarning):
    """A damaged cache entry was set aside and is being computed again."""


def arrays_digest(arrays: dict[str, Any]) -> str:
    """SHA-256 over every array but the digest itself: name, dtype, shape and bytes, in name
    order, so any changed value, shape or type changes it."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        if name == DIGEST_FIELD:
            continue
        a = np.ascontiguousarray(np.asarray(arrays[name]))
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes() if a.dtype.kind != "U" else str(a).encode("utf-8"))
    return h.hexdigest()


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, ASCII: the same object always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def make_key(fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(sha256 hex, key object)`` for the statistics described by ``fields``."""
    key_obj = {"cache_format": CACHE_FORMAT, **fields}
    key_obj = json.loads(canonical_json(key_obj))  # normalise tuples -> lists etc.
    return hashlib.sha256(canonical_json(key_obj).encode()).hexdigest(), key_obj


def _diff(expected: dict[str, Any], found: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(expected) | set(found)):
        a, b = expected.get(k), found.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _diff(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}: expected {a!r}, file has {b!r}")
    return out


def write_stats_file(path: str | os.PathLike, stats: FeatureStats, key_obj: dict[str, Any],
                     ddof: int | None = None) -> None:
    """Write statistics with their key (and ``mu``, ``sigma`` when ``ddof`` is given)."""
    if key_obj.get("num_items") not in (None, stats.num_items):
        raise ValueError(f"key says {key_obj['num_items']} items, statistics hold {stats.num_items}")
    arrays = stats.to_arrays()
    arrays["key_json"] = np.array(canonical_json(key_obj))
    if ddof is not None:
        arrays["mu"], arrays["sigma"] = stats.mean(), stats.cov(ddof)
        arrays["sigma_ddof"] = np.array(ddof)
    arrays[DIGEST_FIELD] = np.array(arrays_digest(arrays))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


def read_stats_file(path: str | os.PathLike) -> tuple[str, dict[str, Any], FeatureStats]:
    """``(key, key object, statistics)`` of a cache entry or an exported file, verified: a file
    that cannot be read, has no digest or whose arrays do not match it raises
    :class:`DamagedEntryError`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = dict(data)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise DamagedEntryError(path, f"damaged: cannot read its arrays ({exc}); nothing in it "
                                      "was used") from None
    if "key_json" not in arrays:
        raise BadInputError(path, "not a vidbench statistics file (no key_json)")
    if DIGEST_FIELD not in arrays:
        raise DamagedEntryError(path, "has no digest of its arrays (written by an older "
                                      "vidbench, or rewritten by hand), so its values cannot "
                                      "be trusted; nothing in it was used")
    if str(arrays[DIGEST_FIELD]) != arrays_digest(arrays):
        raise DamagedEntryError(path, "damaged or altered: its arrays do not match the digest "
                                      "written with them; nothing in it was used")
    key_json = str(arrays["key_json"])
    try:
        key_obj = json.loads(key_json)
    except json.JSONDecodeError as exc:
        raise BadInputError(path, f"corrupt key JSON: {exc}") from None
    key = hashlib.sha256(canonical_json(key_obj).encode()).hexdigest()
    stats = FeatureStats.from_arrays(arrays, where=str(path))
    if key_obj.get("num_items") not in (None, stats.num_items):
        raise DamagedEntryError(path, f"key says {key_obj['num_items']} items, statistics hold "
                                      f"{stats.num_items}")
    return key, key_obj, stats


def is_stats_file(path: str | os.PathLike) -> bool:
    """True for an ``.npz`` holding vidbench statistics (a cache entry or an export)."""
    p = Path(path)
    if p.suffix != ".npz" or not p.is_file():
        return False
    try:
        with np.load(p, allow_pickle=False) as data:
            return "key_json" in data.files
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False


def check_key_matches(path: str | os.PathLike, key_obj: dict[str, Any],
                      expected: dict[str, Any], ignore: tuple[str, ...] = ()) -> None:
    """Raise naming every field where a statistics file was made differently."""
    diffs = _diff({k: v for k, v in expected.items() if k not in ignore},
                  {k: v for k, v in key_obj.items() if k not in ignore})
    if diffs:
        raise BadInputError(path, "statistics were made under a different key:\n  "
                                  + "\n  ".join(diffs))


def _short(reason: str) -> str:
    """A read error's reason as it reads after "statistics X are"."""
    return reason if reason.startswith("damaged") else f"damaged ({reason})"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock: atomic renames still keep one entry
            yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class StatsCache:
    """Reference statistics under ``root`` (default ``vidbench.utils.paths.cache_dir()/stats``)."""

    def __init__(self, root: str | os.PathLike | None = None):
        if root is None:
            from vidbench.utils.paths import cache_dir
            root = cache_dir() / "stats"
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not KEY_RE.match(key):
            raise VidbenchError(f"not a cache key (64 hex digits): {key!r}")
        return self.root / f"{key}.npz"

    def load(self, key: str, key_obj: dict[str, Any] | None = None) -> FeatureStats | None:
        """The entry ``key`` or None; an entry whose stored key differs is an error."""
        path = self.path(key)
        if not path.is_file():
            return None
        found_key, found_obj, stats = read_stats_file(path)
        if found_key != key:
            raise BadInputError(path, f"cache entry holds key {found_key}, not {key}: "
                                      "remove the file or run with --no-cache")
        if key_obj is not None:
            check_key_matches(path, found_obj, key_obj)
        return stats

    def _load_or_set_aside(self, key: str, key_obj: dict[str, Any]) -> FeatureStats | None:
        """:meth:`load`, except that a damaged entry is reported (a
        :class:`DamagedEntryWarning` naming it) and treated as missing, so it is computed again
        and overwritten; it is never used."""
        try:
            return self.load(key, key_obj)
        except DamagedEntryError as exc:
            warnings.warn(f"reference statistics {exc.path} are {_short(exc.reason)}; "
                          "computing them again", DamagedEntryWarning, stacklevel=3)
            return None

    def verify(self) -> list[dict[str, Any]]:
        """Check every entry: one record per ``.npz`` with ``key``, ``path``, ``ok`` and, for a
        bad entry, ``problem``. Reads and hashes every entry; changes nothing."""
        out = []
        for entry in sorted(self.root.glob("*.npz")) if self.root.is_dir() else []:
            if not KEY_RE.match(entry.stem):
                continue
            rec: dict[str, Any] = {"key": entry.stem, "path": str(entry), "ok": True}
            try:
                found_key, _, stats = read_stats_file(entry)
                rec["num_items"] = stats.num_items
                if found_key != entry.stem:
                    rec.update(ok=False, problem=f"holds key {found_key}, not its file name")
            except BadInputError as exc:
                rec.update(ok=False, problem=exc.reason)
            out.append(rec)
        return out

    def store(self, key: str, key_obj: dict[str, Any], stats: FeatureStats) -> Path:
        path = self.path(key)
        write_stats_file(path, stats, key_obj)
        sidecar = {"key": key, "key_fields": key_obj, "num_items": stats.num_items,
                   "dim": stats.dim,
                   "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        atomic_write_text(path.with_suffix(".json"), json.dumps(sidecar, indent=2) + "\n")
        return path

    def get_or_compute(self, key: str, key_obj: dict[str, Any],
                       compute: Callable[[], FeatureStats]) -> tuple[FeatureStats, bool]:
        """``(statistics, was_cached)``; computes and stores on a miss, once per key.

        Under DDP rank 0 decides hit or miss for every rank (``compute`` is collective) and
        only rank 0 writes.
        """
        rank, world = dist_info()
        if world > 1:
            hit = broadcast_decision(self._load_or_set_aside(key, key_obj) is not None
                                     if rank == 0 else None)
            if hit:
                return self.load(key, key_obj), True
            stats = compute()
            if rank == 0:
                self.store(key, key_obj, stats)
            return stats, False
        found = self._load_or_set_aside(key, key_obj)
        if found is not None:
            return found, True
        with _file_lock(self.root / f"{key}.lock"):
            # another process may have finished meanwhile
            found = self._load_or_set_aside(key, key_obj)
            if found is not None:
                return found, True
            stats = compute()
            self.store(key, key_obj, stats)
            return stats, False

    def import_file(self, path: str | os.PathLike) -> tuple[str, bool]:
        """Copy a shared statistics file into the cache: ``(key, was_new)``."""
        key, key_obj, stats = read_stats_file(path)
        with _file_lock(self.root / f"{key}.lock"):
            existing = self._load_or_set_aside(key, key_obj)  # a damaged one is replaced
            if existing is not None:
                if existing.num_items == stats.num_items and np.allclose(
                        existing.sum, stats.sum, rtol=1e-9, atol=0):
                    return key, False
                raise VidbenchError(f"{path}: the cache already holds key {key} with different "
                                    "statistics; remove it first")
            self.store(key, key_obj, stats)
        return key, True

    def entries(self) -> list[dict[str, Any]]:
        """The sidecar records of every entry, newest first. An entry whose sidecar is missing
        (a writer killed between the two renames) is described from its ``.npz``; temporary
        files of killed writers are never entries."""
        out = []
        for entry in self.root.glob("*.npz") if self.root.is_dir() else []:
            if not KEY_RE.match(entry.stem):
                continue
            try:
                out.append(json.loads(entry.with_suffix(".json").read_text()))
                continue
            except (OSError, json.JSONDecodeError):
                pass
            try:
                key, key_obj, stats = read_stats_file(entry)
            except BadInputError:
                continue
            created = _dt.datetime.fromtimestamp(entry.stat().st_mtime, _dt.timezone.utc)
            out.append({"key": key, "key_fields": key_obj, "num_items": stats.num_items,
                        "dim": stats.dim, "created": created.isoformat(timespec="seconds")})
        return sorted(out, key=lambda e: e.get("created", ""), reverse=True)
