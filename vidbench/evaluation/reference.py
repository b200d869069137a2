"""Reference statistics as explicit artifacts (``vidbench ref``): compute them into the cache,
export them to a file others can use, import such a file, list the cache.

An exported file is the cache entry's ``.npz`` (float64 sums, count, the full key JSON) plus
``mu`` and ``sigma`` (covariance with the protocol's divisor, ``sigma_ddof``), so it can be
read without vidbench. Importing verifies that the key JSON hashes to the key and that the
statistics are consistent (docs/protocols.md, *Reference-statistics cache*).
"""
from __future__ import annotations

import os
from typing import Any

from vidbench.metrics.cache import KEY_RE, StatsCache, read_stats_file, write_stats_file
from vidbench.utils.distributed import dist_info, tf32_disabled
from vidbench.metrics.extractors import build_extractor
from vidbench.metrics.protocols import FVDProtocol, get_protocol
from vidbench.utils.errors import VidbenchError
from vidbench.evaluation.fvd import reference_stats


def compute_reference(
    real_spec: Any,                    # source string or ClipSource
    protocol: str | FVDProtocol = "mocogan-hd",
    num_real: int | None = None,       # clips; None: the protocol's count (or all)
    seed: int = 0,
    batch_size: int = 16,
    num_workers: int = 0,
    device: str = "cpu",
    use_cache: bool = True,
    root: str | None = None,
    skip_bad: bool = False,
    progress: bool = True,
    out: str | os.PathLike | None = None,  # also export to this file
) -> dict[str, Any]:
    """Real-side statistics of ``real_spec`` under ``protocol``, cached (and exported)."""
    proto = get_protocol(protocol)
    extractor = build_extractor(proto.extractor, **proto.extractor_kwargs())
    num = proto.real.num if num_real is None else num_real
    opts = {"batch_size": batch_size, "num_workers": num_workers, "device": device,
            "progress": progress}
    with tf32_disabled(not proto.allow_tf32):
        ref = reference_stats(real_spec, proto, extractor, num=num, seed=seed, root=root,
                              skip_bad=skip_bad, use_cache=use_cache, opts=opts)
    if out is not None and dist_info()[0] == 0:
        write_stats_file(out, ref["stats"], ref["key_fields"], ddof=proto.ddof)
    return {"key": ref["key"], "cached": ref["cached"], "num_items": ref["stats"].num_items,
            "protocol": proto.name, "seed": seed,
            "cache_file": str(StatsCache().path(ref["key"])) if use_cache else None,
            "out": None if out is None else str(out), "source": ref["source"].describe()}


def _ddof_of(key_obj: dict[str, Any]) -> int:
    try:
        return get_protocol(key_obj["protocol"]["protocol"]).ddof
    except (KeyError, TypeError, VidbenchError):
        return 1


def export_reference(key_or_spec: str, path: str | os.PathLike, **compute_kwargs: Any
                     ) -> dict[str, Any]:
    """Write the cache entry ``key_or_spec`` (a key) or the statistics of a source to ``path``."""
    if KEY_RE.match(key_or_spec):
        entry = StatsCache().path(key_or_spec)
        if not entry.is_file():
            raise VidbenchError(f"no cache entry {key_or_spec} in {entry.parent} "
                                "(`vidbench ref list` shows the entries)")
        _, key_obj, stats = read_stats_file(entry)
        write_stats_file(path, stats, key_obj, ddof=_ddof_of(key_obj))
        return {"key": key_or_spec, "out": str(path), "num_items": stats.num_items}
    return compute_reference(key_or_spec, out=path, **compute_kwargs)


def import_reference(path: str | os.PathLike) -> dict[str, Any]:
    """Verify an exported file and add it to the cache."""
    key, new = StatsCache().import_file(path)
    return {"key": key, "imported": new, "cache_file": str(StatsCache().path(key))}


def list_references() -> list[dict[str, Any]]:
    """One short record per cache entry, newest first."""
    out = []
    for e in StatsCache().entries():
        fields = e.get("key_fields", {})
        out.append({"key": e.get("key"), "num_items": e.get("num_items"),
                    "protocol": (fields.get("protocol") or {}).get("protocol"),
                    "source_fingerprint": fields.get("source_fingerprint"),
                    "created": e.get("created")})
    return out
