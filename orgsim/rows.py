"""Row reductions of narrow matrices (one column per capability), bit for bit as numpy's own.

``x.sum(axis=1)`` on an (n, k) array with small k spends most of its time on per-row overhead. These
functions work column by column instead and give the same floating-point result: numpy sums each row
pairwise (eight partial sums for k >= 8, a plain running sum below; ``tests/test_rows.py`` checks
the identity), and a maximum or a bit mask does not depend on the order.
"""

from __future__ import annotations

import numpy as np

#: Widest row summed column by column (numpy's pairwise block); wider rows use numpy directly.
_BLOCK = 128
#: Most capabilities a bit mask can hold exactly in a float64 product.
_MAX_BITS = 53


def row_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=1)`` of a 2-D float64 array, the same bits, faster for narrow rows."""
    n, k = x.shape
    if k > _BLOCK or x.dtype != np.float64:
        return x.sum(axis=1)
    if k < 8:
        out = np.zeros(n)
        for j in range(k):
            out += x[:, j]
        return out
    top = k - k % 8
    acc = x[:, :8]
    if top > 8:
        acc = acc.copy()
        for i in range(8, top, 8):
            acc += x[:, i : i + 8]
    pairs = acc[:, 0::2] + acc[:, 1::2]  # (r0+r1), (r2+r3), (r4+r5), (r6+r7)
    quads = pairs[:, 0::2] + pairs[:, 1::2]
    out = quads[:, 0] + quads[:, 1]
    for j in range(top, k):
        out += x[:, j]
    return out + 0.0


def row_max(x: np.ndarray) -> np.ndarray:
    """``x.max(axis=1)`` of a 2-D array with at least one column (no NaN)."""
    return np.ascontiguousarray(x.T).max(axis=0)


def any_positive(x: np.ndarray) -> np.ndarray:
    """(n,) True where a row of the non-negative (n, k) float array ``x`` has an entry > 0."""
    return x @ np.ones(x.shape[1]) > 0.0


def row_bits(mask: np.ndarray) -> np.ndarray:
    """(n,) int64 bit mask of each row of the boolean (n, k) ``mask``: bit j set where column j is True."""
    k = mask.shape[1]
    if k > _MAX_BITS:
        return (mask.astype(np.int64) << np.arange(k, dtype=np.int64)).sum(axis=1)
    return (mask.astype(np.float64) @ np.exp2(np.arange(k))).astype(np.int64)
