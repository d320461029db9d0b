"""Reproducible seeds: replication ``i`` of a scenario always gets the same seed.

The seed depends only on a 64-bit key (a scenario hash) and the replication
index, never on the executor, the number of workers or the order in which
replications finish, so 1 worker, 20 workers and a Dask cluster agree.
"""

from __future__ import annotations

import numpy as np

_SEED_BITS = 63  # fits a signed 64-bit integer column and every CLI ``--seed``


def replication_seed(seed_key: str, replication: int) -> int:
    """The seed of replication ``replication`` (0-based) for ``seed_key`` (hex)."""
    if replication < 0:
        raise ValueError(f"replication must be >= 0, got {replication}")
    sequence = np.random.SeedSequence(int(seed_key, 16), spawn_key=(replication,))
    word = int(sequence.generate_state(1, dtype=np.uint64)[0])
    return word >> (64 - _SEED_BITS)


def fixed_base_seed(base: int, replication: int) -> int:
    """Replication ``replication`` of a study seeded from a fixed integer ``base``
    (the validation table), rather than from a scenario hash."""
    if replication < 0:
        raise ValueError(f"replication must be >= 0, got {replication}")
    return int(np.random.SeedSequence([base, replication]).generate_state(1)[0])
