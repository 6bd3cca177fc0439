"""Mesa forward compatibility: the seed keyword follows the installed Mesa, and does not change results."""

from __future__ import annotations

import inspect
import random

import mesa
import numpy as np
import pytest

from orgsim.compat import mesa_seed_kwargs, seed_keyword


def test_the_installed_mesa_gets_the_keyword_it_prefers():
    accepted = set(inspect.signature(mesa.Model.__init__).parameters)
    major, minor = (int(x) for x in mesa.__version__.split(".")[:2])
    expected = "rng" if (major, minor) >= (3, 5) or "seed" not in accepted else "seed"
    assert mesa_seed_kwargs(7) == {expected: 7}
    model = mesa.Model(**mesa_seed_kwargs(7))
    assert model.random.random() == random.Random(7).random()
    assert model.rng.random() == np.random.default_rng(7).random()


def test_both_keywords_give_the_same_streams_on_the_installed_mesa():
    if not {"seed", "rng"} <= set(inspect.signature(mesa.Model.__init__).parameters):
        pytest.skip(f"Mesa {mesa.__version__} takes only one of seed and rng")
    a, b = mesa.Model(seed=12345), mesa.Model(rng=12345)
    assert [a.random.random() for _ in range(5)] == [b.random.random() for _ in range(5)]
    assert np.array_equal(a.rng.random(5), b.rng.random(5))


@pytest.mark.parametrize(("accepted", "version", "keyword"), [
    ({"self", "args", "seed", "rng", "kwargs"}, "3.3.1", "seed"),
    ({"self", "args", "seed", "rng", "kwargs"}, "3.4.2", "seed"),
    ({"self", "args", "seed", "rng", "kwargs"}, "3.5.0", "rng"),
    ({"self", "args", "seed", "rng", "kwargs"}, "3.10.0rc1", "rng"),
    ({"self", "args", "rng", "kwargs"}, "4.0.0", "rng"),
    ({"self", "args", "seed", "kwargs"}, "2.4.0", "seed"),
])
def test_the_keyword_follows_the_signature_and_the_release(accepted, version, keyword):
    assert seed_keyword(accepted, version) == keyword
