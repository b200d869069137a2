"""Opening any source of clips that a metric can score, from one string.

On top of what :func:`vidbench.data.sources.open_source` opens (paths, data set names,
``shapes``), this accepts the two kinds of source that live above the data layer:

* ``baselines:NAME:PATH[:options]``: a baseline's outputs as its code writes them
  (:mod:`vidbench.baselines`);
* ``checkpoint:RUN_DIR[:options]``, or a motion-training run folder given as a path: clips
  sampled on the fly from a trained motion generator (:mod:`vidbench.sample.generate`).
"""
from __future__ import annotations

from vidbench.data.base import ClipSource
from vidbench.data.clips import ClipSpec, apply_clip_spec
from vidbench.data.sources import open_source, parse_spec


def open_any_source(spec: str, *, root: str | None = None, clip: ClipSpec | None = None,
                    skip_bad: bool = False, convert_rgb: bool = False,
                    deep: bool = False) -> ClipSource:
    """A source of clips from a spec string: a baseline's outputs, a generator checkpoint, or
    anything :func:`vidbench.data.sources.open_source` opens (same options)."""
    if spec.startswith("baselines:"):
        from vidbench.baselines import open_baseline_spec

        return open_baseline_spec(spec, root=root, clip=clip, skip_bad=skip_bad)
    head, options = parse_spec(spec)
    from vidbench.sample.generate import is_checkpoint_path, open_checkpoint_source

    if head.startswith("checkpoint:") or is_checkpoint_path(head):
        return apply_clip_spec(open_checkpoint_source(head, **options), clip)
    return open_source(spec, root=root, clip=clip, skip_bad=skip_bad, convert_rgb=convert_rgb,
                       deep=deep)
