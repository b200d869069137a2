"""Baselines: how each one's outputs are laid out and turned into vidbench clips, and the
numbers the MoCoGAN-HD paper reports (:mod:`vidbench.baselines.reported`).

Each adapter module (:mod:`vidbench.baselines.tganv2`, :mod:`vidbench.baselines.dtvnet`, :mod:`vidbench.baselines.mdgan`)
has ``open_baseline(path, **options) -> ClipSource`` giving uint8 RGB ``[T, H, W, 3]`` clips
with every conversion recorded in ``source.meta["conversions"]`` (and ``meta["caveats"]``).
A source spec ``baselines:NAME:PATH[:key=value,...]`` opens one from the command line, e.g.
``--fake baselines:tganv2:samples.npy`` or ``--fake baselines:mdgan:results:which=s2``.

This layer imports only :mod:`vidbench.data` (the layering that ``tests/test_layers.py``
enforces).
"""
from __future__ import annotations

import inspect
import os
from typing import Any, Callable

from vidbench.baselines import dtvnet, mdgan, tganv2
from vidbench.data.base import ClipSource
from vidbench.utils.errors import VidbenchError

BASELINES: dict[str, Callable[..., ClipSource]] = {
    "tganv2": tganv2.open_baseline,
    "dtvnet": dtvnet.open_baseline,
    "mdgan": mdgan.open_baseline,
}
SPEC_PREFIX = "baselines:"


def is_baseline_spec(spec: Any) -> bool:
    return isinstance(spec, str) and spec.startswith(SPEC_PREFIX)


def baseline_options(name: str) -> list[str]:
    """The options ``open_baseline`` of baseline ``name`` accepts (besides ``skip_bad``)."""
    params = inspect.signature(BASELINES[name]).parameters
    return [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and n != "skip_bad"]


def open_baseline(name: str, path: str, *, skip_bad: bool = False, **options: Any) -> ClipSource:
    """Baseline ``name``'s outputs at ``path`` as a :class:`ClipSource`."""
    if name not in BASELINES:
        raise VidbenchError(f"unknown baseline {name!r}; valid: {', '.join(BASELINES)}")
    valid = baseline_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise VidbenchError(f"baseline {name}: unknown option(s) {', '.join(unknown)}; valid: "
                            f"{', '.join(valid)}")
    return BASELINES[name](path, skip_bad=skip_bad, **options)


def open_baseline_spec(spec: str, *, root: str | None = None, clip: Any = None,
                       skip_bad: bool = False) -> ClipSource:
    """Open ``baselines:NAME:PATH[:key=value,...]`` (module docstring). A relative PATH is
    taken under ``root`` when given; ``clip`` (a ``vidbench.data.clips.ClipSpec``) cuts the
    clips as for any other source."""
    from vidbench.data.clips import apply_clip_spec
    from vidbench.data.sources import parse_spec

    if not is_baseline_spec(spec):
        raise VidbenchError(f"{spec!r} is not a baseline spec ({SPEC_PREFIX}NAME:PATH)")
    name, sep, rest = spec[len(SPEC_PREFIX):].partition(":")
    if not sep or not rest:
        raise VidbenchError(f"baseline spec {spec!r} needs a path: {SPEC_PREFIX}NAME:PATH, "
                            f"NAME one of {', '.join(BASELINES)}")
    if root is not None and not os.path.isabs(rest):
        rest = os.path.join(root, rest)
    path, options = parse_spec(rest)
    source = open_baseline(name, os.path.expanduser(path), skip_bad=skip_bad, **options)
    return apply_clip_spec(source, clip)
