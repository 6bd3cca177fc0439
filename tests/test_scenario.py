"""Scenario files: the shipped library, the documented format, the sweep section, and bad files.

Every malformed file must give exactly one line naming the file, the key path and what is allowed, and
exit code 2, through the real command line (``orgsim validate`` and ``orgsim sweep``).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgsim.cli import main
from orgsim.design import from_coupling
from orgsim.errors import OrgsimError
from orgsim.scenario import load_scenario, reference, reference_markdown, validate_scenario

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "scenarios").glob("*.toml"))
LIBRARY = {"stable-market", "demand-shock", "technology-shift", "regulation-change", "turbulent-market",
           "pace-layers", "crossover", "sensitivity"}

BASE = """description = "base"
[run]
ticks = 100
seeds = 2
members = 20
warmup = 10
[environment]
arrival_rate = 2.0
[[environment.shocks]]
tick = 50
layer = "needs"
[organisations.siloed]
coupling = 1.0
[organisations.responsive]
preset = "responsive"
"""
GRID = BASE + """[sweep.parameters]
"environment.turbulence" = { range = [0.0, 1.0], steps = 3 }
"organisations.siloed.coupling" = { values = [0.5, 1.0] }
"""


def test_the_library_is_complete_and_every_scenario_validates():
    assert {p.stem for p in SHIPPED} >= LIBRARY
    for path in SHIPPED:
        scenario = load_scenario(path)
        assert scenario.description.endswith("?"), f"{path.name}: the description should ask its question"


def test_readme_documents_every_key_as_generated():
    readme = (REPO / "scenarios" / "README.md").read_text(encoding="utf-8")
    assert reference_markdown() in readme, "regenerate the table: python -m orgsim.scenario"
    rows = reference()
    assert all(row["unit"] and row["default"] for row in rows)
    keys = {row["key"] for row in rows}
    assert {"run.ticks", "environment.turbulence", "environment.shocks[].tick", "organisations.<name>.coupling",
            "organisations.<name>.cadence.structure", "sweep.sampling", 'sweep.parameters."<key path>".range'} <= keys
    for path in SHIPPED:  # and the README names every shipped scenario
        assert f"`{path.name}`" in readme


# --- the sweep section --------------------------------------------------------------------------------------
def scenario(text: str = GRID, **sweep):
    import tomllib

    data = tomllib.loads(text)
    data.setdefault("sweep", {}).update(sweep)
    return validate_scenario(data, "s.toml")


def test_grid_is_every_combination_in_file_order():
    s = scenario()
    assert s.parameters == ["environment.turbulence", "organisations.siloed.coupling"]
    assert s.points() == [
        {"environment.turbulence": t, "organisations.siloed.coupling": c} for t in (0.0, 0.5, 1.0) for c in (0.5, 1.0)
    ]
    world = s.at(s.points()[2])
    assert world.environment.turbulence == 0.5 and world.sweep is None
    assert world.design("siloed") == from_coupling(0.5) != s.design("siloed")
    assert world.design("responsive") == s.design("responsive")


def test_integer_parameters_are_rounded_and_star_sets_every_organisation():
    s = scenario(BASE + '[sweep.parameters]\n"organisations.*.handoff_delay" = { range = [0, 5], steps = 4 }\n')
    assert [p["organisations.*.handoff_delay"] for p in s.points()] == [0, 2, 3, 5]
    world = s.at(s.points()[1])
    assert world.design("siloed").handoff_delay == 2 and world.design("responsive").handoff_delay == 2


@pytest.mark.parametrize(("sampling", "samples", "points"), [("lhs", 7, 7), ("sobol", 8, 8 * 4), ("morris", 3, 3 * 3)])
def test_sampled_designs_have_salib_sizes_and_stay_in_range(sampling, samples, points):
    text = BASE + ('[sweep.parameters]\n"environment.turbulence" = { range = [0.2, 0.8] }\n'
                   '"organisations.siloed.sensing_delay" = { range = [0, 20] }\n')
    s = scenario(text, sampling=sampling, samples=samples)
    pts = s.points()
    assert len(pts) == points == len(s.design_matrix())
    assert all(0.2 <= p["environment.turbulence"] <= 0.8 for p in pts)
    assert all(isinstance(p["organisations.siloed.sensing_delay"], int) for p in pts)
    assert scenario(text, sampling=sampling, samples=samples).points() == pts  # seeded design
    assert scenario(text, sampling=sampling, samples=samples, seed=5).points() != pts


def test_reduced_shrinks_runs_points_and_moves_shocks_in_proportion():
    small = scenario().reduced(ticks=40, seeds=1, values=2, members=10)
    assert (small.run.ticks, small.run.members, small.seeds) == (40, 10, [0])
    assert small.environment.shocks[0].tick == 20 and small.run.warmup < 40
    assert len(small.points()) == 4
    sobol = load_scenario(REPO / "scenarios" / "sensitivity.toml").reduced(samples=3)
    assert sobol.sweep.samples == 4


def test_fingerprint_ignores_layout_but_not_values():
    a = scenario()
    b = scenario("# a comment\n" + GRID.replace("seeds = 2", "seeds   =   2"))
    assert a.fingerprint() == b.fingerprint()
    assert scenario(GRID.replace("steps = 3", "steps = 4")).fingerprint() != a.fingerprint()


def test_sweep_seeds_override_run_seeds():
    assert scenario(seeds=3).seeds == [0, 1, 2]
    assert scenario().seeds == [0, 1]


# --- malformed files: one line, the file, the key path, what is allowed; exit 2 -----------------------------
SWEEP_HEAD = BASE + "[sweep]\n"
P = "[sweep.parameters]\n"
BAD: list[tuple[str, str, str]] = [
    # (name, file text, what the one line must contain after "FILE: ")
    ("toml", "[run\nticks = 5\n", "malformed TOML"),
    ("binary", "\udcff", "not a text file"),
    ("unknown-top", "descripton = 'x'\n", "descripton: unknown key (did you mean 'description'?)"),
    ("unknown-run", "[run]\ntick = 5\n", "run.tick: unknown key (did you mean 'ticks'?)"),
    ("unknown-env", "[environment]\nturbulance = 0.3\n",
     "environment.turbulance: unknown key (did you mean 'turbulence'?)"),
    ("unknown-lever", "[organisations.a]\nfluidty = 0.3\n",
     "organisations.a.fluidty: unknown key (did you mean 'fluidity'?)"),
    ("unknown-cadence", "[organisations.a.cadence]\nstrucure = 3\n", "organisations.a.cadence.strucure: unknown key"),
    ("type-ticks", "[run]\nticks = 'many'\n", "run.ticks: input should be a valid integer"),
    ("type-turbulence", "[environment]\nturbulence = 'high'\n",
     "environment.turbulence: input should be a valid number"),
    ("range-seeds", "[run]\nseeds = 0\n", "run.seeds: input should be greater than or equal to 1 (got 0)"),
    ("range-turbulence", "[environment]\nturbulence = 1.5\n",
     "environment.turbulence: input should be less than or equal to 1"),
    ("range-members", "[run]\nmembers = 1\n", "run.members: input should be greater than or equal to 2"),
    ("range-load", "[environment]\nload = 0\n", "environment.load: input should be greater than 0 (got 0)"),
    ("load-and-rate", "[environment]\nload = 0.8\narrival_rate = 3.0\n",
     "environment: give either load or arrival_rate, not both"),
    ("range-coupling", "[organisations.a]\ncoupling = -0.1\n",
     "organisations.a.coupling: input should be greater than or equal to 0"),
    ("regime", "[environment]\nregime = 'calm'\n",
     "environment.regime: input should be 'clear', 'complicated', 'complex' or 'chaotic'"),
    ("preset", "[organisations.a]\npreset = 'matrix'\n",
     "organisations.a: unknown organisation preset 'matrix'; allowed: siloed, responsive"),
    ("preset-and-coupling", "[organisations.a]\npreset = 'siloed'\ncoupling = 0.5\n",
     "give either preset or coupling, not both"),
    ("warmup", "[run]\nticks = 10\nwarmup = 10\n", "warmup (10) must be less than ticks (10)"),
    ("shock-late", "[run]\nticks = 100\n[[environment.shocks]]\ntick = 100\nlayer = 'needs'\n",
     "environment.shocks.0.tick: 100 is after the last tick (99); allowed: 0 to 99"),
    ("shock-layer", "[[environment.shocks]]\ntick = 5\nlayer = 'mood'\n",
     "environment.shocks.0.layer: input should be 'needs'"),
    ("no-organisations", "organisations = {}\n", "organisations: at least one organisation is needed"),
    ("org-name", '[organisations."a b"]\npreset = "siloed"\n', "organisations: organisation name 'a b': use letters"),
    ("sweep-unknown-key", SWEEP_HEAD + "smapling = 'grid'\n", "sweep.smapling: unknown key (did you mean 'sampling'?)"),
    ("sweep-sampling", SWEEP_HEAD + "sampling = 'random'\n" + P + '"environment.turbulence" = { values = [0.1] }\n',
     "sweep.sampling: input should be 'grid', 'lhs', 'sobol' or 'morris'"),
    ("sweep-no-parameters", SWEEP_HEAD + "sampling = 'grid'\n", "sweep.parameters: field required"),
    ("sweep-empty-parameters", SWEEP_HEAD + "parameters = {}\n",
     "sweep.parameters: dictionary should have at least 1 item"),
    ("sweep-missing-parameter", P + '"environment.turbulance" = { values = [0.1] }\n',
     "sweep.parameters.\"environment.turbulance\": no key 'turbulance' in environment (did you mean 'turbulence'?)"),
    ("sweep-missing-section", P + '"enviroment.turbulence" = { values = [0.1] }\n',
     "no key 'enviroment' in the top level (did you mean 'environment'?)"),
    ("sweep-missing-organisation", P + '"organisations.silo.coupling" = { values = [0.1] }\n',
     "no key 'silo' in organisations (did you mean 'siloed'?); allowed: siloed, responsive"),
    ("sweep-table", P + '"environment" = { values = [0.1] }\n', "environment is a table, not a value"),
    ("sweep-seeds", P + '"run.seeds" = { values = [1, 2] }\n', "'run.seeds' cannot be swept"),
    ("sweep-empty-grid", P + '"environment.turbulence" = { values = [] }\n',
     'sweep.parameters."environment.turbulence".values: tuple should have at least 1 item'),
    ("sweep-both", P + '"environment.turbulence" = { values = [0.1], range = [0, 1] }\n',
     "give either values = [...] or range = [low, high]"),
    ("sweep-neither", P + '"environment.turbulence" = { steps = 3 }\n', "give either values = [...] or range"),
    ("sweep-range-order", P + '"environment.turbulence" = { range = [1, 0], steps = 3 }\n', "low < high"),
    ("sweep-no-steps", P + '"environment.turbulence" = { range = [0, 1] }\n', "a grid over a range needs steps"),
    ("sweep-one-step", P + '"environment.turbulence" = { range = [0, 1], steps = 1 }\n', "greater than or equal to 2"),
    ("sweep-value-range", P + '"environment.turbulence" = { values = [0.5, 2.0] }\n',
     'sweep.parameters."environment.turbulence": value 2.0 is not allowed: environment.turbulence: input should be '
     "less than or equal to 1"),
    ("sweep-value-type", P + '"run.ticks" = { values = ["long"] }\n', "value 'long' is not allowed: run.ticks"),
    ("sweep-text-range", P + '"environment.regime" = { range = [0, 1], steps = 2 }\n',
     "give values = [...], not a range"),
    ("sweep-point-conflict", P + '"organisations.responsive.coupling" = { values = [0.5] }\n',
     "give either preset or coupling, not both"),
    ("sweep-shock-index", P + '"environment.shocks.3.tick" = { values = [10] }\n',
     "no item '3' in environment.shocks; allowed: 0"),
    ("sweep-shock-late", P + '"run.ticks" = { values = [100, 40] }\n',
     "value 40 is not allowed: environment.shocks.0.tick"),
    ("sobol-values", SWEEP_HEAD + "sampling = 'sobol'\nsamples = 8\n" + P
     + '"environment.turbulence" = { values = [0.1] }\n',
     "sobol sampling needs range = [low, high], not values"),
    ("sobol-samples", SWEEP_HEAD + "sampling = 'sobol'\nsamples = 10\n" + P
     + '"environment.turbulence" = { range = [0, 1] }\n',
     "sweep.samples: sobol sampling needs a power of 2, got 10; allowed: e.g. 8 or 16"),
    ("lhs-no-samples", SWEEP_HEAD + "sampling = 'lhs'\n" + P + '"environment.turbulence" = { range = [0, 1] }\n',
     "sweep.samples: lhs sampling needs samples"),
    ("grid-samples", SWEEP_HEAD + "samples = 4\n" + P + '"environment.turbulence" = { values = [0.1] }\n',
     "sweep.samples: only for lhs, sobol or morris"),
    ("morris-levels", SWEEP_HEAD + "sampling = 'morris'\nsamples = 4\nlevels = 3\n" + P
     + '"environment.turbulence" = { range = [0, 1] }\n', "sweep.levels: morris needs an even number of levels"),
    ("lhs-steps", SWEEP_HEAD + "sampling = 'lhs'\nsamples = 4\n" + P
     + '"environment.turbulence" = { range = [0, 1], steps = 3 }\n',
     "steps is for grid sampling only"),
]


def _bad_file(tmp_path: Path, name: str, text: str) -> Path:
    """Write case ``name``; a bare [sweep.parameters] section is added to the valid BASE scenario."""
    path = tmp_path / f"{name}.toml"
    if name == "binary":
        path.write_bytes(b"\xff\xfe\x00bad")
    else:
        path.write_text(BASE + text if text.startswith(P) else text, encoding="utf-8")
    return path


def test_at_least_thirty_malformed_files():
    assert len(BAD) >= 30 and len({name for name, _, _ in BAD}) == len(BAD)


@pytest.mark.parametrize(("name", "text", "expected"), BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("command", ["validate", "sweep"])
def test_malformed_file_one_line_exit_2(name, text, expected, command, tmp_path, capsys, monkeypatch):
    path = _bad_file(tmp_path, name, text)
    monkeypatch.chdir(tmp_path)
    argv = ["validate", path.name] if command == "validate" else ["sweep", path.name, "--out", "out", "--workers", "1"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith(f"orgsim: error: {path.name}: "), line
    assert expected in line, line
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "out" / "runs.parquet").exists()


def test_validate_console_script_reports_every_bad_file_on_its_own_line(orgsim_command, tmp_path):
    paths = [_bad_file(tmp_path, name, text) for name, text, _ in BAD]
    good = REPO / "scenarios" / "crossover.toml"
    result = subprocess.run([*orgsim_command, "validate", str(good), *(p.name for p in paths)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout.startswith(f"{good}: ok (63 points x 10 seeds x 2 organisations = 1260 runs of 500 ticks)")
    lines = result.stderr.splitlines()
    assert len(lines) == len(BAD) and "Traceback" not in result.stderr
    for line, (name, _, expected) in zip(lines, BAD, strict=True):
        assert line.startswith(f"orgsim: error: {name}.toml: ") and expected in line, line


# --- fuzzing: any out-of-range or wrongly typed value gives one line naming its key -------------------------
NUMERIC = [row for row in reference() if re.match(r"^[\[(][-\d,. ]+[\])]$", row["range"])
           and row["key"].split(".")[0] in ("run", "environment") and row["key"].count(".") == 1]


def _bounds(text: str) -> tuple[float, float]:
    low, high = (float(v.replace(",", "")) for v in text[1:-1].split(", "))
    return low, high


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.sampled_from(NUMERIC), data=st.data())
def test_fuzzed_values_are_refused_with_their_key(row, data):
    low, high = _bounds(row["range"])
    bad = data.draw(st.one_of(
        st.floats(max_value=low, exclude_max=row["range"].startswith("["), allow_nan=False, allow_infinity=False),
        st.floats(min_value=high, exclude_min=row["range"].endswith("]"), allow_nan=False, allow_infinity=False),
        st.text(alphabet="abcxyz ", max_size=5), st.lists(st.integers(), max_size=2), st.booleans().map(lambda b: [b]),
    ))
    section, key = row["key"].split(".")
    with pytest.raises(OrgsimError) as err:
        validate_scenario({section: {key: bad}}, "fuzz.toml")
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"fuzz.toml: {row['key']}: "), message
