"""Every random choice in a run flows from the run's seed through ``SeedSequence``; nothing uses a global RNG.

Streams are keyed by purpose so that, for example, the committee of round 3 and the strategy of round 3 never share
random numbers, and adding a new consumer never shifts an existing one.
"""

from __future__ import annotations

import zlib

import numpy as np

_PURPOSES = ("split", "initial", "committee", "strategy", "bootstrap")


def seed_sequence(seed: int, purpose: str, *keys: int) -> np.random.SeedSequence:
    if purpose not in _PURPOSES:
        raise ValueError(f"unknown random stream {purpose!r}; known: {_PURPOSES}")
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    tag = zlib.crc32(purpose.encode())
    return np.random.SeedSequence([int(seed), tag, *(int(k) for k in keys)])


def rng_for(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(seed, purpose, *keys))


def int_seed_for(seed: int, purpose: str, *keys: int) -> int:
    """A 31-bit integer seed (for APIs that take ``random_state=int``)."""
    return int(seed_sequence(seed, purpose, *keys).generate_state(1, dtype=np.uint32)[0] >> 1)
