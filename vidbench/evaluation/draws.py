"""Which clips a metric sees: open a source, cut it into clips and choose N of them, as a
protocol's :class:`~vidbench.metrics.protocols.ClipDraw` says.

A draw fixes the clip length, stride and start (a ``random`` start is drawn from the run's seed
per video) and how the clips are chosen: the first N in the source's natural-sorted order, or a
seeded random subset (indices sorted for sequential decoding). Asking for more clips than a
source has is an error that names the option to change. When fake and real are the same source
(a ground-truth row) both sides are drawn as real clips from one seeded permutation, so the two
sets are disjoint. See docs/protocols.md, *Clip drawing* and *Ground-truth rows*.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from vidbench.data.base import ClipSource, SubsetSource, take_first
from vidbench.data.clips import ClipSpec, apply_clip_spec
from vidbench.metrics.cache import is_stats_file
from vidbench.metrics.protocols import ClipDraw, FVDProtocol
from vidbench.utils.errors import VidbenchError


def clip_spec_of(draw: ClipDraw, seed: int) -> ClipSpec | None:
    """The clip cut a draw asks for (None: whole videos)."""
    if draw.length is None and draw.start == "first" and draw.stride == 1:
        return None
    return ClipSpec(length=draw.length, stride=draw.stride, start=draw.start, seed=seed)


def open_drawn_source(spec: Any, draw: ClipDraw, *, seed: int, root: str | None = None,
                      skip_bad: bool = False) -> ClipSource:
    """``spec`` (a source string or a :class:`ClipSource`) cut into clips as ``draw`` says."""
    from vidbench.evaluation.sources import open_any_source

    clip = clip_spec_of(draw, seed)
    if isinstance(spec, ClipSource):
        return apply_clip_spec(spec, clip)
    return open_any_source(spec, root=root, clip=clip, skip_bad=skip_bad)


def subset_rng(seed: int, role: str) -> np.random.Generator:
    """The generator of a seeded subset (``role``: real, fake, or the ground-truth split)."""
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
    return SubsetSource(source, np.sort(subset_rng(seed, role).permutation(len(source))[:n]))


def draw_seed(draw: ClipDraw, seed: int) -> int | None:
    """The seed that a draw's clips depend on (None when they do not depend on one): part of
    the reference-statistics cache key."""
    return seed if (draw.selection == "seeded-random" or draw.start == "random") else None


def draw_sides(fake_spec: Any, real_spec: Any, proto: FVDProtocol, *, num_fake: int | None,
               num_real: int | None, seed: int, root: str | None, skip_bad: bool
               ) -> tuple[ClipSource, ClipSource | None, list[str]]:
    """(fake clips, real clips or None for an exported statistics file, notes)."""
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
        perm = subset_rng(seed, "split").permutation(n)
        real = SubsetSource(source, np.sort(perm[:nr]))
        return SubsetSource(source, np.sort(perm[nr:nr + nf])), real, notes
    else:
        real = open_drawn_source(real_spec, proto.real, seed=seed, root=root, skip_bad=skip_bad)
        real = select_clips(real, num_real, proto.real, seed=seed, role="real")
    fake = open_drawn_source(fake_spec, proto.fake, seed=seed, root=root, skip_bad=skip_bad)
    return select_clips(fake, num_fake, proto.fake, seed=seed, role="fake"), real, notes
