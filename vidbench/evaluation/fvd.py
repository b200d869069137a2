"""Library functions behind ``vidbench eval`` and ``vidbench ref``: open sources, draw clips
as a protocol says, run the feature engine (with the reference-statistics cache) and return
one self-describing result record (docs/protocols.md, *Result records and provenance*).

Clip drawing (docs/protocols.md, *Clip drawing*): each side's :class:`~vidbench.metrics.protocols.ClipDraw`
gives the clip length, stride and start (a ``random`` start is drawn from the run's seed per
video) and how the clips are chosen: the first N in the source's natural-sorted order, or a
seeded random subset (indices sorted for sequential decoding). Asking for more clips than a
source has is an error. When fake and real are the same source (a ground-truth row,
docs/protocols.md, *Ground-truth rows*) both sides are drawn as real clips from one seeded
permutation, so the two sets are disjoint.

FVD lives here; IS and ACD in :mod:`vidbench.evaluation.jobs`, PSNR/SSIM in
:mod:`vidbench.evaluation.psnr_ssim`, several metrics in one go in :mod:`vidbench.evaluation.suite`
(all importable from this module as well).
"""
from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from vidbench.metrics.cache import StatsCache, check_key_matches, is_stats_file, make_key, read_stats_file
from vidbench.utils.distributed import tf32_disabled
from vidbench.metrics.extractors import Extractor, build_extractor
from vidbench.metrics.fvd import METRIC, compute_fvd
from vidbench.metrics.protocols import ClipDraw, FVDProtocol, get_protocol
from vidbench.metrics.stats import FeatureStats, compute_feature_stats
from vidbench.data.base import ClipSource, SubsetSource, take_first
from vidbench.utils.errors import VidbenchError


def _clip_spec(draw: ClipDraw, seed: int) -> Any:
    from vidbench.data.clips import ClipSpec

    if draw.length is None and draw.start == "first" and draw.stride == 1:
        return None
    return ClipSpec(length=draw.length, stride=draw.stride, start=draw.start, seed=seed)


def open_drawn_source(spec: Any, draw: ClipDraw, *, seed: int, root: str | None = None,
                      skip_bad: bool = False) -> ClipSource:
    """``spec`` (a source string or a :class:`ClipSource`) cut into clips as ``draw`` says."""
    clip = _clip_spec(draw, seed)
    if isinstance(spec, ClipSource):
        from vidbench.data.clips import apply_clip_spec
        return apply_clip_spec(spec, clip)
    from vidbench.data.sources import open_source
    return open_source(spec, root=root, clip=clip, skip_bad=skip_bad)


def _subset_rng(seed: int, role: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), {"real": 0, "fake": 1,
                                                                     "split": 2}[role]]))


def select_clips(source: ClipSource, num: int | None, draw: ClipDraw, *, seed: int,
                 role: str) -> ClipSource:
    """The ``num`` clips of ``source`` chosen as ``draw.selection`` says (all when None)."""
    n = len(source) if num is None else int(num)
    if n > len(source) or n < 2:
        raise VidbenchError(f"{role} source {source.name} has {len(source)} clips; "
                            f"{n} are needed (at least 2; set --num-{role} to use fewer)")
    if draw.selection == "first-n":
        return take_first(source, n)
    return SubsetSource(source, np.sort(_subset_rng(seed, role).permutation(len(source))[:n]))


def _key_seed(draw: ClipDraw, seed: int) -> int | None:
    return seed if (draw.selection == "seeded-random" or draw.start == "random") else None


def reference_key(source: ClipSource, extractor: Extractor, proto: FVDProtocol,
                  seed: int | None) -> tuple[str, dict[str, Any]]:
    """Cache key of the real-side statistics of ``source`` (already drawn)."""
    return make_key({"kind": "feature-stats", "source_fingerprint": source.fingerprint,
                     "num_items": len(source), "extractor": extractor.contract(),
                     "protocol": proto.stats_fields("real"), "seed": seed})


def _stats(source: ClipSource, extractor: Extractor, opts: dict[str, Any], desc: str) -> FeatureStats:
    return compute_feature_stats(source, extractor, batch_size=opts["batch_size"],
                                 num_workers=opts["num_workers"], device=opts["device"],
                                 progress=opts["progress"], desc=desc)


def _stats_from_file(path: str, extractor: Extractor, proto: FVDProtocol,
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
    key, key_obj = reference_key(source, extractor, proto, _key_seed(proto.real, seed))

    def compute() -> FeatureStats:
        return _stats(source, extractor, opts, desc=f"real {source.name}")

    if use_cache:
        stats, cached = StatsCache().get_or_compute(key, key_obj, compute)
    else:
        stats, cached = compute(), False
    return {"stats": stats, "source": source, "key": key, "key_fields": key_obj, "cached": cached}


def draw_sides(fake_spec: Any, real_spec: Any, proto: FVDProtocol, *, num_fake: int | None,
               num_real: int | None, seed: int, root: str | None, skip_bad: bool
               ) -> tuple[ClipSource, ClipSource | None, list[str]]:
    """(fake clips, real clips or None for a stats file, notes), drawn as ``proto`` says."""
    notes: list[str] = []
    if isinstance(real_spec, str) and is_stats_file(real_spec):
        real = None
    elif (isinstance(fake_spec, str) and fake_spec == real_spec) or fake_spec is real_spec:
        notes.append("fake and real are the same source: two disjoint seeded sets of real "
                     "clips (ground-truth row)")
        source = open_drawn_source(real_spec, proto.real, seed=seed, root=root, skip_bad=skip_bad)
        n = len(source)
        nr = n // 2 if num_real is None else num_real
        nf = n - nr if num_fake is None else num_fake
        if nr + nf > n or min(nr, nf) < 2:
            raise VidbenchError(f"{source.name} has {n} clips: two disjoint sets of {nr} and "
                                f"{nf} clips do not fit (set --num-real/--num-fake)")
        perm = _subset_rng(seed, "split").permutation(n)
        real = SubsetSource(source, np.sort(perm[:nr]))
        return SubsetSource(source, np.sort(perm[nr:nr + nf])), real, notes
    else:
        real = open_drawn_source(real_spec, proto.real, seed=seed, root=root, skip_bad=skip_bad)
        real = select_clips(real, num_real, proto.real, seed=seed, role="real")
    fake = open_drawn_source(fake_spec, proto.fake, seed=seed, root=root, skip_bad=skip_bad)
    return select_clips(fake, num_fake, proto.fake, seed=seed, role="fake"), real, notes


def _counts(proto: FVDProtocol, num_fake: int | None, num_real: int | None
            ) -> tuple[int | None, int | None, dict[str, int], list[str]]:
    nf = proto.fake.num if num_fake is None else num_fake
    nr = proto.real.num if num_real is None else num_real
    overrides = {k: v for k, v, d in (("num_fake", nf, proto.fake.num),
                                      ("num_real", nr, proto.real.num)) if d is not None and v != d}
    notes = [f"sample counts differ from the {proto.name} protocol ({overrides}): the value "
             "does not compare with numbers reported under it"] if overrides else []
    return nf, nr, overrides, notes


def plan_fvd(fake_spec: Any, real_spec: Any, protocol: str | FVDProtocol = "mocogan-hd",
             num_fake: int | None = None, num_real: int | None = None, seed: int = 0,
             root: str | None = None, skip_bad: bool = False) -> dict[str, Any]:
    """What :func:`evaluate_fvd` would do (protocol, drawn sources, cache key), computing nothing."""
    proto = get_protocol(protocol)
    nf, nr, overrides, notes = _counts(proto, num_fake, num_real)
    fake, real, more = draw_sides(fake_spec, real_spec, proto, num_fake=nf, num_real=nr,
                                  seed=seed, root=root, skip_bad=skip_bad)
    extractor = build_extractor(proto.extractor, **proto.extractor_kwargs())
    plan = {"metric": METRIC, "protocol": proto.name, "protocol_fields": proto.to_dict(),
            "seed": seed, "overrides": overrides, "notes": notes + more,
            "fake": {"spec": str(fake_spec), **fake.describe()},
            "extractor": extractor.contract()}
    if real is None:
        plan["real"] = {"spec": real_spec, "stats_file": real_spec}
    else:
        key, key_obj = reference_key(real, extractor, proto, _key_seed(proto.real, seed))
        plan["real"] = {"spec": str(real_spec), **real.describe(), "cache_key": key,
                        "cached": StatsCache().path(key).is_file(), "key_fields": key_obj}
    return plan


def evaluate_fvd(
    fake_spec: Any,                    # source string (vidbench data) or a ClipSource
    real_spec: Any,                    # source string, ClipSource, or an exported stats .npz
    protocol: str | FVDProtocol = "mocogan-hd",
    num_fake: int | None = None,       # clips; None: the protocol's count (or all)
    num_real: int | None = None,
    seed: int = 0,                     # random clip starts and seeded subsets
    batch_size: int = 16,              # clips per I3D call; does not change the value
    num_workers: int = 0,              # DataLoader decoding workers
    device: str = "cpu",
    use_cache: bool = True,            # reuse/store real statistics in the cache
    root: str | None = None,           # base folder for relative source paths
    skip_bad: bool = False,            # list and skip unreadable or too-short videos
    progress: bool = True,
) -> dict[str, Any]:
    """FVD between fake and real clips under a named protocol: one result record.

    Fewer clips than feature dimensions (N <= 400 for I3D) still give a value, with a
    warning in the record's ``warnings`` (and a :class:`~vidbench.metrics.frechet.FewSamplesWarning`).
    """
    from vidbench.metrics.frechet import FewSamplesWarning

    t0 = time.time()
    proto = get_protocol(protocol)
    opts = {"batch_size": batch_size, "num_workers": num_workers, "device": device,
            "progress": progress}
    nf, nr, overrides, notes = _counts(proto, num_fake, num_real)
    fake_src, real_src, more = draw_sides(fake_spec, real_spec, proto, num_fake=nf, num_real=nr,
                                          seed=seed, root=root, skip_bad=skip_bad)
    notes += more
    extractor = build_extractor(proto.extractor, **proto.extractor_kwargs())
    with tf32_disabled(not proto.allow_tf32), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        real_stats, real = fvd_real_side(real_spec, real_src, proto, extractor, num_real=nr,
                                         seed=seed, root=root, skip_bad=skip_bad,
                                         use_cache=use_cache, opts=opts)
        fake_stats = _stats(fake_src, extractor, opts, desc=f"fake {fake_src.name}")
        value = compute_fvd(fake_stats, real_stats, proto)
    few = [str(w.message) for w in caught if issubclass(w.category, FewSamplesWarning)]
    for w in caught:  # re-emit outside the recording block
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return fvd_record(proto, value, fake_stats, real_stats, fake_spec=fake_spec,
                      fake_src=fake_src, real=real, extractor=extractor, seed=seed,
                      overrides=overrides, batch_size=batch_size, device=device, t0=t0,
                      notes=notes + list(dict.fromkeys(few)))


def fvd_real_side(real_spec: Any, real_src: ClipSource | None, proto: FVDProtocol,
                  extractor: Extractor, *, num_real: int | None, seed: int, root: str | None,
                  skip_bad: bool, use_cache: bool, opts: dict[str, Any]
                  ) -> tuple[FeatureStats, dict[str, Any]]:
    """(real statistics, the record's ``real`` entry): from an exported statistics file
    (``real_src`` None) or computed through the cache."""
    if real_src is None:
        real_stats, real_key_obj = _stats_from_file(real_spec, extractor, proto, num_real)
        return real_stats, {"spec": real_spec, "stats_file": real_spec,
                            "num_clips": real_stats.num_items,
                            "fingerprint": real_key_obj.get("source_fingerprint"), "cached": True}
    ref = reference_stats(real_spec, proto, extractor, num=num_real, seed=seed, root=root,
                          skip_bad=skip_bad, use_cache=use_cache, opts=opts, source=real_src)
    return ref["stats"], {"spec": str(real_spec), **real_src.describe(), "cached": ref["cached"],
                          "cache_key": ref["key"] if use_cache else None}


def fvd_record(proto: FVDProtocol, value: float, fake_stats: FeatureStats,
               real_stats: FeatureStats, *, fake_spec: Any, fake_src: ClipSource,
               real: dict[str, Any], extractor: Extractor, seed: int,
               overrides: dict[str, int], batch_size: int, device: str, t0: float,
               notes: list[str]) -> dict[str, Any]:
    """The FVD result record (the shape every ``vidbench eval`` metric follows)."""
    from vidbench.utils.provenance import provenance

    return {
        "metric": METRIC, "protocol": proto.name, "value": value,
        "num_fake": fake_stats.num_items, "num_real": real_stats.num_items, "seed": seed,
        "overrides": overrides, "protocol_fields": proto.to_dict(),
        "fake": {"spec": str(fake_spec), **fake_src.describe()}, "real": real,
        "extractor": extractor.contract(), "weights_sha256": extractor.weights_sha256(),
        "batch_size": batch_size, **provenance(device),
        "seconds": round(time.time() - t0, 3), "warnings": notes,
    }


# The other metrics live in their own modules; importable from here too.
_MORE = {"evaluate_is": "vidbench.evaluation.jobs", "evaluate_acd": "vidbench.evaluation.jobs",
         "evaluate_psnr_ssim": "vidbench.evaluation.psnr_ssim",
         "evaluate_all": "vidbench.evaluation.suite"}


def __getattr__(name: str) -> Any:
    if name in _MORE:
        import importlib
        return getattr(importlib.import_module(_MORE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
