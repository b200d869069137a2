"""Seeds of independent random streams, derived from a run's seed.

Every stream gets a 63-bit seed from a list of integer words (the run seed first) through
numpy's ``SeedSequence``: :func:`derive_seed`. A stream named by a string uses the string's
first 8 UTF-8 bytes as one little-endian word (:func:`stream_seed`).
"""
from __future__ import annotations

import numpy as np


def derive_seed(*words: int) -> int:
    """A 63-bit seed derived from integer words (numpy ``SeedSequence``): one per RNG stream."""
    state = np.random.SeedSequence([int(w) for w in words]).generate_state(1, np.uint64)
    return int(state[0] >> 1)


def name_word(name: str) -> int:
    """The integer word of a stream name: its first 8 UTF-8 bytes, little-endian."""
    return int.from_bytes(name.encode("utf-8")[:8].ljust(8, b"\0"), "little")


def stream_seed(seed: int, name: str, rank: int = 0) -> int:
    """A 63-bit seed for the generator ``name`` of ``rank``, from the run seed."""
    return derive_seed(seed, name_word(name), rank)


__all__ = ["derive_seed", "name_word", "stream_seed"]
