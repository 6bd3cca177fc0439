"""orgsim.rows gives numpy's own row reductions bit for bit (the engine relies on it to stay exact)."""

from __future__ import annotations

import numpy as np
import pytest

from orgsim.rows import any_positive, row_bits, row_max, row_sum


@pytest.mark.parametrize("k", [1, 2, 3, 7, 8, 9, 12, 15, 16, 17, 31, 40, 128, 130])
def test_row_sum_is_numpys_sum_bit_for_bit(k):
    rng = np.random.default_rng(k)
    x = rng.normal(size=(3000, k)) * 10.0 ** rng.uniform(-8, 8, (3000, k))
    x[rng.random(x.shape) < 0.4] = 0.0
    expected = x.sum(axis=1)
    assert np.array_equal(row_sum(x), expected)
    assert np.array_equal(row_sum(x[::2]), x[::2].sum(axis=1))  # a strided view too
    # A plain left-to-right sum differs somewhere once rows are 8 wide: the check has teeth.
    if 8 <= k <= 128:
        plain = np.zeros(len(x))
        for j in range(k):
            plain += x[:, j]
        assert not np.array_equal(plain, expected)


def test_row_max_any_positive_and_bits():
    rng = np.random.default_rng(0)
    x = rng.random((500, 9)) * (rng.random((500, 9)) < 0.3)
    assert np.array_equal(row_max(x), x.max(axis=1))
    assert np.array_equal(any_positive(x), x.sum(axis=1) > 0)
    assert not any_positive(x).all() and any_positive(x).any()
    mask = x > 0
    assert np.array_equal(row_bits(mask), (mask.astype(np.int64) << np.arange(9)).sum(axis=1))
    wide = rng.random((50, 60)) < 0.5
    assert np.array_equal(row_bits(wide), (wide.astype(np.int64) << np.arange(60)).sum(axis=1))
    assert row_bits(np.array([[True, False, True]])).tolist() == [0b101]
