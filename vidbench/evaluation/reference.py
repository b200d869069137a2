"""Reference (real-side) statistics: computed through the content-keyed cache for FVD, and as
explicit artifacts (``vidbench ref``): compute them into the cache, export them to a file
others can use, import such a file, list the cache, verify every entry's digest.

An exported file is the cache entry's ``.npz`` (float64 sums, count, the full key JSON) plus
``mu`` and ``sigma`` (covariance with the protocol's divisor, ``sigma_ddof``), so it can be
read without vidbench. Importing verifies the digest of the arrays, that the key JSON hashes
to the key and that the statistics are consistent (docs/protocols.md, *Reference-statistics cache*).
"""
from __future__ import annotations

import os
from typing import Any

from vidbench.data.base import ClipSource
from vidbench.evaluation.draws import draw_seed, open_drawn_source, select_clips
from vidbench.metrics.cache import (KEY_RE, StatsCache, check_key_matches, make_key,
                                    read_stats_file, write_stats_file)
from vidbench.metrics.extractors import Extractor
from vidbench.metrics.registry import build_extractor
from vidbench.metrics.protocols import FVDProtocol, get_protocol
from vidbench.metrics.stats import FeatureStats, compute_feature_stats
from vidbench.utils.distributed import dist_info, tf32_disabled
from vidbench.utils.errors import VidbenchError


def reference_key(source: ClipSource, extractor: Extractor, proto: FVDProtocol,
                  seed: int | None) -> tuple[str, dict[str, Any]]:
    """Cache key of the real-side statistics of ``source`` (already drawn)."""
    return make_key({"kind": "feature-stats", "source_fingerprint": source.fingerprint,
                     "num_items": len(source), "extractor": extractor.contract(),
                     "protocol": proto.stats_fields("real"), "seed": seed})


def stats_from_file(path: str, extractor: Extractor, proto: FVDProtocol,
                    num: int | None) -> tuple[FeatureStats, dict[str, Any]]:
    """Real statistics from an exported file, refused unless made the same way."""
    _, key_obj, stats = read_stats_file(path)
    check_key_matches(path, {k: key_obj.get(k) for k in ("extractor", "protocol")},
                      {"extractor": extractor.contract(), "protocol": proto.stats_fields("real")})
    if num is not None and num != stats.num_items:
        raise VidbenchError(f"{path}: holds statistics of {stats.num_items} clips, {num} asked")
    return stats, key_obj


def reference_stats(real_spec: Any, proto: FVDProtocol, extractor: Extractor, *, num: int | None,
                    seed: int, root: str | None, skip_bad: bool, use_cache: bool,
                    opts: dict[str, Any], source: ClipSource | None = None) -> dict[str, Any]:
    """Real-side statistics (cached): a dict with stats, source, key, key_fields, cached."""
    if source is None:
        source = open_drawn_source(real_spec, proto.real, seed=seed, root=root, skip_bad=skip_bad)
        source = select_clips(source, num, proto.real, seed=seed, role="real")
    key, key_obj = reference_key(source, extractor, proto, draw_seed(proto.real, seed))

    def compute() -> FeatureStats:
        return compute_feature_stats(source, extractor, batch_size=opts["batch_size"],
                                     num_workers=opts["num_workers"], device=opts["device"],
                                     progress=opts["progress"], desc=f"real {source.name}")

    if use_cache:
        stats, cached = StatsCache().get_or_compute(key, key_obj, compute)
    else:
        stats, cached = compute(), False
    return {"stats": stats, "source": source, "key": key, "key_fields": key_obj, "cached": cached}


def real_side(real_spec: Any, real_src: ClipSource | None, proto: FVDProtocol,
              extractor: Extractor, *, num_real: int | None, seed: int, root: str | None,
              skip_bad: bool, use_cache: bool, opts: dict[str, Any]
              ) -> tuple[FeatureStats, dict[str, Any]]:
    """(real statistics, the record's ``real`` entry): from an exported statistics file
    (``real_src`` None) or computed through the cache."""
    if real_src is None:
        real_stats, real_key_obj = stats_from_file(real_spec, extractor, proto, num_real)
        return real_stats, {"spec": real_spec, "stats_file": real_spec,
                            "num_clips": real_stats.num_items,
                            "fingerprint": real_key_obj.get("source_fingerprint"), "cached": True}
    ref = reference_stats(real_spec, proto, extractor, num=num_real, seed=seed, root=root,
                          skip_bad=skip_bad, use_cache=use_cache, opts=opts, source=real_src)
    return ref["stats"], {"spec": str(real_spec), **real_src.describe(), "cached": ref["cached"],
                          "cache_key": ref["key"] if use_cache else None}


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


def verify_references() -> list[dict[str, Any]]:
    """Read and check the digest of every cache entry (``vidbench ref verify``); changes
    nothing. One record per entry: key, path, ok, and ``problem`` for a bad one."""
    return StatsCache().verify()


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
