"""Natural ("human") sort order for frame and video names.

Digit runs compare as integers, so ``img_2`` sorts before ``img_10`` and Sky Time-lapse names
``<id>_frames_00000012.jpg`` order by frame number. Lexicographic order scrambles
``frame1, frame10, frame2`` (universome/stylegan-v#43) and MoCoGAN-HD's ``int(stem)`` sort
fails on names that are not pure integers (docs/datasets.md, *Frame order*).

Ties between names that differ only in zero padding or letter case (``img_2`` / ``img_02``,
``A`` / ``a``) are broken by the plain string, so the order is total and deterministic.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key: text runs case-folded, digit runs as integers, then the name itself."""
    parts = _DIGITS.split(name)
    # re.split with a capturing group alternates text, digits, text, ... starting with text,
    # so position i always holds the same type and tuples compare without type errors.
    key = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return (key, name)


def natural_sorted(items: Iterable[T], key: Callable[[T], str] | None = None) -> list[T]:
    """``items`` in natural order (of ``key(item)`` when given, else of ``str(item)``)."""
    get = key if key is not None else str
    return sorted(items, key=lambda item: natural_key(get(item)))


def trailing_number(name: str) -> int | None:
    """The last digit run of ``name`` without its extension (the frame number), or None."""
    stem = name.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    runs = _DIGITS.findall(stem)
    return int(runs[-1]) if runs else None
