"""Seeds depend only on the scenario key and the replication index."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from straits.experiments.seeds import replication_seed

KEY = "0123456789abcdef"


def test_same_key_and_index_give_the_same_seed():
    assert replication_seed(KEY, 7) == replication_seed(KEY, 7)


def test_replications_and_scenarios_get_distinct_seeds():
    seeds = {replication_seed(KEY, i) for i in range(10_000)}
    assert len(seeds) == 10_000
    assert replication_seed(KEY, 0) != replication_seed("fedcba9876543210", 0)


@given(st.text("0123456789abcdef", min_size=1, max_size=16), st.integers(0, 10**9))
def test_seeds_fit_a_signed_64_bit_column(key, index):
    assert 0 <= replication_seed(key, index) < 2**63


def test_negative_replication_is_refused():
    with pytest.raises(ValueError, match="replication"):
        replication_seed(KEY, -1)
