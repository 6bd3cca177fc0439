"""The condition language of ``orgsim report --where``: what it accepts, computes and refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orgsim.condition import parse_condition

ORGS = ["responsive", "siloed", "tight-silo", "silo"]
TABLE = pd.DataFrame({"responsive": [1.0, 5.0, 3.0, np.nan], "siloed": [2.0, 1.0, 3.0, 1.0],
                      "tight-silo": [0.0, 9.0, 1.0, 2.0], "silo": [4.0, 4.0, 4.0, 4.0]})


@pytest.mark.parametrize(("text", "expected"), [
    ("responsive - siloed > 0", [False, True, False, False]),
    ("responsive-siloed>0", [False, True, False, False]),
    ("responsive > siloed", [False, True, False, False]),
    ("responsive >= siloed", [False, True, True, False]),
    ("siloed < 1.5", [False, True, False, True]),
    ("tight-silo > silo", [False, True, False, False]),  # longest name first: not tight - silo
    ("tight - silo > 0", None),  # 'tight' is no organisation
    ("(responsive - siloed) / siloed > 0.5", [False, True, False, False]),
    ("2 * siloed + 1 == 5", [True, False, False, False]),
    ("2 * siloed + 1 != 5", [False, True, True, True]),
    ("-responsive < -2", [False, True, True, False]),
    ("0 < responsive - siloed < 5 or silo == 4", [True, True, True, True]),
    ("responsive > 2 and siloed < 2", [False, True, False, False]),
    ("responsive / 0 > 1", [True, True, True, False]),
    ("1 / 0 > responsive", [True, True, True, False]),
    ("1e1 > tight-silo", [True, True, True, True]),
])
def test_accepted_conditions_compute_per_row(text, expected):
    if expected is None:
        with pytest.raises(ValueError, match="unknown organisation 'tight'"):
            parse_condition(text, ORGS)
        return
    result = parse_condition(text, ORGS)(TABLE)
    assert result.dtype == bool and result.tolist() == expected


@pytest.mark.parametrize(("text", "why"), [
    ("", "empty condition"),
    ("responsive >", "not a valid expression"),
    ("responsive", "not a comparison (e.g. 'responsive - siloed > 0')"),
    ("responsive - siloed", "not a comparison (e.g. 'responsive - siloed > 0')"),
    ("1 > 0", "names no organisation"),
    ("foo > 1", "unknown organisation 'foo'"),
    ("__import__('os').system('true') > 0", "Call is not allowed"),
    ("responsive.real > 1", "Attribute is not allowed"),
    ("responsive ** 2 > 1", "operator Pow is not allowed"),
    ("responsive % 2 > 1", "operator Mod is not allowed"),
    ("not responsive > 1", "operator Not is not allowed"),
    ("'x' > responsive", "'x' is not a number"),
    ("True > responsive", "True is not a number"),
    ("[responsive][0] > 1", "Subscript is not allowed"),
    ("(x := 1) > responsive", "NamedExpr is not allowed"),
    ("lambda: 1", "Lambda is not allowed"),
    ("responsive if 1 else siloed > 0", "IfExp is not allowed"),
    ("responsive in (1, 2)", "only < <= > >= == != compare"),
    ("(responsive > 1) + 1 > 0", "arithmetic on a comparison"),
    ("(responsive > 1) > (siloed > 1)", "a comparison of comparisons"),
    ("responsive > 1 and siloed", "'and' and 'or' join comparisons"),
])
def test_refused_conditions_say_why_in_one_line(text, why):
    with pytest.raises(ValueError) as caught:
        parse_condition(text, ORGS)
    message = str(caught.value)
    assert message.startswith(f"--where {text!r}: {why}; allowed: organisation names, numbers, + - * /")
    assert message.endswith("organisations: responsive, siloed, tight-silo, silo") and "\n" not in message


def test_a_condition_names_the_organisations_it_uses():
    cond = parse_condition("tight-silo - responsive > siloed", ORGS)
    assert cond.organisations == ("tight-silo", "responsive", "siloed") and cond.text.startswith("tight-silo")
