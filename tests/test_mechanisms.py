"""Every mechanism, switched off by its neutral lever, changes the result where it should and not where it
should not (orgsim.ablation.CASES). Paired seeds; the 95 % interval of the paired difference must exclude 0
in the expected direction, the difference must be exactly 0 where the mechanism is not at work, or show no
material effect where it is at work but should not matter.

These tests check mechanisms, never the argument's conclusion: a case says what switching one rule off does
to one design, not which design wins.
"""

from __future__ import annotations

import pytest

from orgsim.ablation import CASES, Case, ablate, agrees

pytestmark = pytest.mark.slow

SEEDS = range(20)
#: Cases the model does not yet show robustly (issue 9 stays open on them): run, reported, not required.
OPEN = {
    ("breadth in a fluid organisation", "complex"): "with patience, waiting for a specialist costs about what a "
    "generalist's lower home proficiency does: +0.01 [-1.04, 1.07] value/tick at 20 seeds (+2.0 [0.8, 3.2] with "
    "patience 0, 10 seeds)",
}


def _param(c: Case):
    reason = OPEN.get((c.mechanism, c.world))
    marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
    return pytest.param(c, marks=marks, id=f"{c.mechanism} | {c.design} | {c.world} | {c.expect}")


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_ablation(case: Case):
    result = ablate(case.design, case.on, case.off, case.world, case.measure, SEEDS, case.ticks, 60,
                    case.warmup, workers=2)
    assert agrees(case.expect, result), (
        f"{case.mechanism} on {case.design} in {case.world}: {case.measure} on - off = {result['effect']:.4f} "
        f"[{result['ci_low']:.4f}, {result['ci_high']:.4f}], expected {case.expect}"
    )


def test_agrees_reads_the_interval():
    assert agrees("+", {"effect": 1.0, "ci_low": 0.1, "ci_high": 2.0})
    assert not agrees("+", {"effect": 1.0, "ci_low": -0.1, "ci_high": 2.0})
    assert agrees("-", {"effect": -1.0, "ci_low": -2.0, "ci_high": -0.1})
    assert agrees("0", {"effect": 0.0, "ci_low": 0.0, "ci_high": 0.0})
    assert not agrees("0", {"effect": 1e-6, "ci_low": 0.0, "ci_high": 2e-6})
    assert agrees("~", {"effect": 0.4, "ci_low": -0.5, "ci_high": 1.3, "off": 10.0})
    assert not agrees("~", {"effect": 0.6, "ci_low": -0.5, "ci_high": 1.7, "off": 10.0})
    assert not agrees("~", {"effect": 0.4, "ci_low": 0.1, "ci_high": 0.7, "off": 10.0})
