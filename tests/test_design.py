"""Design levers: the presets, the coupling spectrum between them, and validation at the edge."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgsim.capabilities import Capabilities
from orgsim.design import MANAGEMENT_LAYERS, PRESETS, RESPONSIVE, SILOED, OrgDesign, from_coupling, preset, resolve
from orgsim.errors import OrgsimError
from orgsim.model import SKILL_FLOOR, OrgModel, apportion, skill_profiles

COUPLINGS = np.linspace(0.0, 1.0, 21)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_designs(name):
    design = preset(name)
    assert OrgDesign.model_validate(design.model_dump()) == design


def test_preset_names_and_aliases():
    assert preset("siloed") is SILOED
    assert preset("Machine") is SILOED
    assert preset("silo'd") is SILOED
    assert preset("agile") is RESPONSIVE
    with pytest.raises(OrgsimError, match="unknown organisation preset 'hierarchy'; allowed: siloed, responsive"):
        preset("hierarchy")


def test_archetypes_differ_as_the_issue_describes():
    s, r = SILOED, RESPONSIVE
    assert s.specialisation > r.specialisation
    assert s.fluidity < r.fluidity
    assert s.sensing_delay > r.sensing_delay
    for layer in MANAGEMENT_LAYERS:
        assert getattr(s.cadence, layer) >= getattr(r.cadence, layer)
    assert s.cadence.structure > r.cadence.structure and s.cadence.strategy > r.cadence.strategy
    # Deeper layers re-plan no more often than shallower ones, in both archetypes.
    for design in (s, r):
        cadences = [getattr(design.cadence, layer) for layer in MANAGEMENT_LAYERS]
        assert cadences == sorted(cadences)
    assert (s.constraints, r.constraints) == ("gate", "integrated")
    assert r.exploration > s.exploration


def test_coupling_ends_are_the_presets():
    assert from_coupling(0.0) == RESPONSIVE
    assert from_coupling(1.0) == SILOED
    assert resolve(0.0) == RESPONSIVE
    assert resolve(1) == SILOED


def _lever_table(designs: list[OrgDesign]) -> dict[str, np.ndarray]:
    table: dict[str, list] = {}
    for design in designs:
        for name, value in design.model_dump().items():
            if name == "cadence":
                for layer, ticks in value.items():
                    table.setdefault(f"cadence.{layer}", []).append(ticks)
            elif name != "constraints":
                table.setdefault(name, []).append(value)
    return {k: np.asarray(v, dtype=float) for k, v in table.items()}


def test_every_lever_moves_monotonically_from_responsive_to_siloed():
    table = _lever_table([from_coupling(c) for c in COUPLINGS])
    for name, values in table.items():
        low, high = values[0], values[-1]
        steps = np.diff(values) * np.sign(high - low)
        assert np.all(steps >= 0), f"{name} is not monotone along the coupling: {values}"
        assert min(low, high) <= values.min() and values.max() <= max(low, high), name
    # Numeric levers that differ between the presets are strictly in between at the midpoint.
    for name, value in RESPONSIVE.model_dump().items():
        if isinstance(value, float) and value != getattr(SILOED, name):
            assert min(value, getattr(SILOED, name)) < table[name][10] < max(value, getattr(SILOED, name)), name
    # Cadences move geometrically: the midpoint is the geometric mean of the ends.
    mid = from_coupling(0.5).cadence
    assert mid.strategy == round(np.sqrt(SILOED.cadence.strategy * RESPONSIVE.cadence.strategy))


def test_constraint_handling_switches_once_at_one_half():
    handling = [from_coupling(c).constraints for c in COUPLINGS]
    assert handling == ["integrated" if c < 0.5 else "gate" for c in COUPLINGS]


@pytest.mark.parametrize("coupling", [-0.01, 1.01, float("nan"), float("inf")])
def test_coupling_out_of_range_is_a_one_line_error(coupling):
    with pytest.raises(OrgsimError) as err:
        from_coupling(coupling)
    message = str(err.value)
    assert "coupling must be in [0, 1]" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("levers", "key"),
    [
        ({"fluidity": 1.5}, "fluidity"),
        ({"specialisation": -0.1}, "specialisation"),
        ({"handoff_delay": -1}, "handoff_delay"),
        ({"exploration": 0.95}, "exploration"),
        ({"constraints": "ignore"}, "constraints"),
        ({"cadence": {"strategy": 0}}, "cadence.strategy"),
        ({"fluidty": 0.5}, "fluidty"),
    ],
)
def test_out_of_range_levers_are_one_line_errors(levers, key):
    for make in (lambda: resolve("siloed", **levers), lambda: OrgModel("responsive", members=10, **levers)):
        with pytest.raises(OrgsimError) as err:
            make()
        message = str(err.value)
        assert message.startswith(f"{key}: "), message
        assert "\n" not in message


def test_resolve_applies_overrides_to_any_base():
    design = resolve("responsive", handoff_delay=7, cadence={"strategy": 99})
    assert design.handoff_delay == 7
    assert design.cadence.strategy == 99
    assert design.cadence.structure == RESPONSIVE.cadence.structure
    assert design.fluidity == RESPONSIVE.fluidity
    assert resolve(SILOED, fluidity=0.25).fluidity == 0.25
    assert resolve(None) == SILOED


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_any_coupling_is_a_valid_design_between_the_presets(a, b):
    lo, hi = sorted((a, b))
    table = _lever_table([RESPONSIVE, from_coupling(lo), from_coupling(hi), SILOED])
    for name, (start, x_lo, x_hi, end) in table.items():
        direction = np.sign(end - start)
        assert direction * (x_hi - x_lo) >= 0, name
        assert min(start, end) <= x_lo <= max(start, end), name


def test_specialists_are_deeper_and_generalists_broader():
    caps = Capabilities((*Capabilities().names, "frontier-1"), frontier=1)
    adjacency = caps.adjacency()
    frontier = caps.frontier_indices
    cog, t_shaped = skill_profiles(1.0, adjacency, frontier), skill_profiles(0.0, adjacency, frontier)
    k = len(caps)
    for p in (cog, t_shaped):
        assert p.shape == (k, k)
        assert np.all((p >= SKILL_FLOOR) & (p <= 1.0))
        assert np.all(p[:, frontier] == SKILL_FLOOR)  # nobody is hired with a frontier capability
    established = np.setdiff1d(np.arange(k), frontier)
    assert np.all(np.diag(cog)[established] > np.diag(t_shaped)[established])  # specialists: deeper at home
    assert np.diag(cog)[0] == pytest.approx(0.95) and np.diag(t_shaped)[0] == pytest.approx(0.80)
    assert np.allclose(cog[adjacency > 0], SKILL_FLOOR)  # ... and know nothing else
    near = (adjacency > 0) & ~np.isin(np.arange(k), frontier)[None, :]
    assert np.allclose(t_shaped[near], SKILL_FLOOR + 0.5)  # generalists can work next to home
    far = (adjacency == 0) & ~np.eye(k, dtype=bool)
    assert np.allclose(t_shaped[far], SKILL_FLOOR)


@pytest.mark.parametrize(
    ("total", "shares", "expected"),
    [
        (10, [0.5, 0.5], [5, 5]),
        (10, [1, 1, 1], [4, 3, 3]),
        (7, [0.0, 1.0, 0.0], [0, 7, 0]),
        (5, [3, 1], [4, 1]),  # 3.75 and 1.25: the larger remainder gets the spare unit
        (3, [0, 0], [2, 1]),  # no information: split evenly
    ],
)
def test_apportion_by_largest_remainder(total, shares, expected):
    counts = apportion(total, np.asarray(shares, dtype=float))
    assert counts.tolist() == expected


@given(st.integers(0, 5000), st.lists(st.floats(0.0, 100.0), min_size=1, max_size=12))
def test_apportion_keeps_the_total_and_stays_within_one_of_exact(total, shares):
    shares = np.asarray(shares)
    counts = apportion(total, shares)
    assert counts.sum() == total
    assert np.all(counts >= 0)
    exact = total * shares / shares.sum() if shares.sum() > 0 else np.full(len(shares), total / len(shares))
    assert np.all(np.abs(counts - exact) < 1.0 + 1e-9)
