"""docs/ODD.md stays true to the code: its parameter tables are checked against the code's values.

Every number in the ODD's tables (design levers of both presets, environment defaults, regimes, pace
constants, derived layer dynamics, hire profiles, model constants, run defaults, adaptation-speed
settings) is compared with the value the code uses; every measure, every configuration field and every
named constant of the model's modules must be in the document; every ``Class.method`` or
``module.function`` it cites must exist; the tick order of its section 3 must be the order of
``OrgModel.step``; each mechanism's neutral value must be a valid setting of a real lever, and every
ablation case of ``orgsim.ablation`` must be in its mechanisms table.

When the code changes, refresh the numbers (only the checked cells change, the prose stays):

    .venv/bin/python tests/test_odd.py --write
"""

from __future__ import annotations

import inspect
import re
import sys
import typing
from pathlib import Path
from typing import Any

import annotated_types as at
import pytest
from pydantic import BaseModel

from orgsim import design as design_mod
from orgsim import environment as env_mod
from orgsim import failure_demand as failure_mod
from orgsim import intake as intake_mod
from orgsim import learning as learning_mod
from orgsim import metrics as metrics_mod
from orgsim import model as model_mod
from orgsim import planning as planning_mod
from orgsim import teams as teams_mod
from orgsim import work as work_mod
from orgsim.design import Cadence, OrgDesign
from orgsim.environment import DemandEnvironment, EnvironmentConfig, LayerDynamics, Shock
from orgsim.metrics import MEASURES
from orgsim.scenario import RunConfig

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
CONSTANT_MODULES = {m.__name__.removeprefix("orgsim."): m for m in (
    env_mod, model_mod, metrics_mod, design_mod, intake_mod, work_mod, learning_mod, planning_mod, teams_mod,
    failure_mod)}
#: Named constants the ODD need not list: tables of their own (PACE, DRIFT_SCALE, REGIMES) and state codes.
NOT_PARAMETERS = {"PACE", "DRIFT_SCALE", "REGIMES", "HIDDEN", "ANNOUNCED", "ARRIVED", "NO_TEAM", "FIXED", "TEAM"}
#: What the ODD writes for an optional environment field left unset.
UNSET = {"turbulence": "from regime", "signal_noise": "from regime",
         "load": f"DEFAULT_LOAD ({env_mod.DEFAULT_LOAD:g})", "arrival_rate": "from load"}


# --- formatting code values the way the document writes them -------------------------------------
def fmt(value: Any) -> str:
    """A code value as the ODD writes it in a table cell."""
    if value is None:
        return "from regime"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {fmt(v)}" for k, v in value.items()) if value else "none"
    if isinstance(value, tuple | list):
        return ", ".join(fmt(v) for v in value) if value else "none"
    raise TypeError(f"cannot format {value!r}")


def fmt_derived(value: float) -> str:
    return format(value, ".4g")


def fmt_range(info) -> str | None:
    """A field's allowed values from its pydantic constraints, e.g. ``[0, 1]`` or ``(0, 100000]``."""
    args = typing.get_args(info.annotation)
    if typing.get_origin(info.annotation) is typing.Literal:
        return ", ".join(args)
    low = high = None
    for m in info.metadata:
        if isinstance(m, at.Ge):
            low = "[" + fmt(m.ge)
        elif isinstance(m, at.Gt):
            low = "(" + fmt(m.gt)
        elif isinstance(m, at.Le):
            high = fmt(m.le) + "]"
        elif isinstance(m, at.Lt):
            high = fmt(m.lt) + ")"
    if low is None and high is None:
        return None
    return f"{low or '(-inf'}, {high or 'inf)'}"


# --- what the tables must say: {table: {row: {column: text}}} -------------------------------------
def _lever_rows() -> dict[str, dict[str, str]]:
    rows = {}
    siloed, responsive = design_mod.PRESETS["siloed"], design_mod.PRESETS["responsive"]
    for name, info in OrgDesign.model_fields.items():
        if name == "cadence":
            for layer, linfo in Cadence.model_fields.items():
                rows[f"cadence.{layer}"] = {
                    "siloed": fmt(getattr(siloed.cadence, layer)),
                    "responsive": fmt(getattr(responsive.cadence, layer)),
                    "range": fmt_range(linfo),
                }
            continue
        rows[name] = {
            "siloed": fmt(getattr(siloed, name)),
            "responsive": fmt(getattr(responsive, name)),
            "range": fmt_range(info),
        }
    return rows


def _default(name: str, info) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    return UNSET[name] if value is None else fmt(value)


def _field_rows(model: type[BaseModel]) -> dict[str, dict[str, str]]:
    """Default and allowed range of every field of a pydantic model."""
    return {name: {"default": _default(name, info), "range": fmt_range(info)}
            for name, info in model.model_fields.items()}


def _run_rows() -> dict[str, dict[str, str]]:
    model_defaults = {
        k: p.default for k, p in inspect.signature(model_mod.OrgModel.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    rows = {}
    for name, info in RunConfig.model_fields.items():
        if name in model_defaults:
            # The scenario's run defaults and the model's own defaults must agree for the table to hold.
            assert model_defaults[name] == info.default, f"OrgModel({name}=...) and RunConfig.{name} differ"
        rows[name] = {"default": fmt(info.default), "range": fmt_range(info)}
    return rows


def _derived_rows() -> dict[str, dict[str, str]]:
    rows = {}
    for regime in env_mod.REGIMES:
        dyn = EnvironmentConfig(regime=regime).dynamics()
        row = {}
        for layer in ("needs", "technology", "rules"):
            row[f"{layer} drift"] = fmt_derived(dyn[layer].drift)
            row[f"{layer} shocks/tick"] = fmt_derived(dyn[layer].shock_rate)
        row["shock magnitude"] = fmt_derived(dyn["needs"].shock_magnitude)
        rows[regime] = row
    return rows


def _profile_rows() -> dict[str, dict[str, str]]:
    caps = EnvironmentConfig().all_capabilities
    adjacency, frontier = caps.adjacency(), caps.frontier_indices
    home = int(caps.established[0])
    neighbour = next(k for k in range(len(caps)) if adjacency[home, k] and k not in frontier)
    other = next(k for k in caps.established if not adjacency[home, k] and k != home)
    rows: dict[str, dict[str, str]] = {"home": {}, "neighbour": {}, "other": {}, "frontier": {}}
    for preset, design in design_mod.PRESETS.items():
        profile = model_mod.skill_profiles(design.specialisation, adjacency, frontier)
        for row, k in (("home", home), ("neighbour", neighbour), ("other", other), ("frontier", frontier[0])):
            rows[row][preset] = fmt_derived(profile[home, k])
    return rows


def _constant_rows(doc: str) -> dict[str, dict[str, str]]:
    """Named constants: each row names the module that defines it (column ``module``)."""
    rows = {}
    for name, cells in parse_table(doc, "constant").items():
        module = CONSTANT_MODULES[cells["module"].removeprefix("orgsim.")]
        rows[name] = {"module": cells["module"], "value": fmt(getattr(module, name))}
    return rows


def expected(doc: str) -> dict[str, dict[str, dict[str, str]]]:
    """Every checked table of the ODD: first header cell -> row -> column -> text the code implies."""
    adaptation = inspect.signature(metrics_mod.adaptation).parameters
    return {
        "lever": _lever_rows(),
        "environment parameter": _field_rows(EnvironmentConfig),
        "shock field": _field_rows(Shock),
        "regime": {r: {k: fmt(v) for k, v in values.items()} for r, values in env_mod.REGIMES.items()},
        "layer": {
            layer: {"PACE": fmt(env_mod.PACE[layer]), "DRIFT_SCALE": fmt(env_mod.DRIFT_SCALE[layer])}
            for layer in env_mod.LAYERS
        },
        "derived for regime": _derived_rows(),
        "hire profile": _profile_rows(),
        "run parameter": _run_rows(),
        "adaptation argument": {
            name: {"default": fmt(p.default)} for name, p in adaptation.items()
            if p.default is not inspect.Parameter.empty
        },
        "constant": _constant_rows(doc),
    }


# --- reading and rewriting Markdown tables --------------------------------------------------------
def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(doc: str) -> list[tuple[int, list[str]]]:
    """(line index of the header, header cells) of every table."""
    lines = doc.splitlines()
    out = []
    for i, line in enumerate(lines[:-1]):
        if line.startswith("|") and re.fullmatch(r"\|[\s:|-]+\|", lines[i + 1].strip()) and (
            i == 0 or not lines[i - 1].startswith("|")
        ):
            out.append((i, _cells(line)))
    return out


def _plain(cell: str) -> str:
    return cell.replace("`", "").strip()


def _find(doc: str, key: str) -> tuple[int, list[str]]:
    found = [(i, h) for i, h in _tables(doc) if _plain(h[0]) == key]
    assert len(found) == 1, f"docs/ODD.md needs exactly one table whose first header is {key!r}, has {len(found)}"
    return found[0]


def parse_table(doc: str, key: str, plain: bool = True) -> dict[str, dict[str, str]]:
    """Rows of the table whose first header cell is ``key``: first cell -> {header: cell} (with
    backticks removed from the cells unless ``plain`` is False)."""
    start, header = _find(doc, key)
    rows = {}
    for line in doc.splitlines()[start + 2:]:
        if not line.startswith("|"):
            break
        cells = _cells(line)
        rows[_plain(cells[0])] = {_plain(h): _plain(c) if plain else c
                                  for h, c in zip(header[1:], cells[1:], strict=False)}
    return rows


def same(doc_cell: str, code_text: str) -> bool:
    try:
        return float(doc_cell) == float(code_text)
    except ValueError:
        return doc_cell == code_text


def write(doc: str) -> str:
    """The document with every checked cell set to what the code says (rows and prose untouched)."""
    lines = doc.splitlines()
    for key, rows in expected(doc).items():
        start, header = _find(doc, key)
        names = [_plain(h) for h in header]
        i = start + 2
        while i < len(lines) and lines[i].startswith("|"):
            cells = _cells(lines[i])
            for column, text in rows.get(_plain(cells[0]), {}).items():
                if text is not None and column in names:
                    cells[names.index(column)] = text
            lines[i] = "| " + " | ".join(cells) + " |"
            i += 1
    return "\n".join(lines) + "\n"


# --- the tests ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def doc() -> str:
    return ODD.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "key",
    ["lever", "environment parameter", "shock field", "regime", "layer", "derived for regime", "hire profile",
     "run parameter", "adaptation argument", "constant"],
)
def test_table_values_equal_the_code(doc, key):
    want = expected(doc)[key]
    have = parse_table(doc, key)
    if key != "constant":
        assert set(have) == set(want), f"table {key!r}: rows {sorted(have)} but the code has {sorted(want)}"
    wrong = [
        f"{row}.{column}: ODD says {have[row].get(column)!r}, code says {text!r}"
        for row, columns in want.items() for column, text in columns.items()
        if text is not None and not same(have[row].get(column, ""), text)
    ]
    assert not wrong, f"table {key!r} disagrees with the code ({sys.argv[0]} --write fixes):\n" + "\n".join(wrong)


def _is_parameter(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(_is_parameter(v) for v in value.values())
    if isinstance(value, tuple):
        return bool(value) and all(_is_parameter(v) for v in value)
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def test_constants_table_lists_every_named_constant_of_the_model(doc):
    """Every module-level constant (a NAME in capitals holding numbers or a name) of the model's modules
    is in the constants table, under the module that defines it."""
    rows = parse_table(doc, "constant")
    missing = [
        f"{module}.{name}" for module, mod in CONSTANT_MODULES.items() for name, value in vars(mod).items()
        if name.isupper() and not name.startswith("_") and name not in NOT_PARAMETERS and _is_parameter(value)
        and name not in {"MEASURES", "MANAGEMENT_LAYERS", "LAYERS"} and not _imported(mod, name)
        and rows.get(name, {}).get("module") != f"orgsim.{module}"
    ]
    assert len(rows) >= 15
    assert not missing, f"docs/ODD.md's constants table lacks (or files under another module): {missing}"


def _imported(module, name: str) -> bool:
    """Whether ``name`` reached ``module`` by an import rather than being defined there."""
    return re.search(rf"^{name}\s*(:[^=]*)?=", inspect.getsource(module), re.M) is None


def test_measures_table_is_exactly_MEASURES_in_order(doc):
    assert list(parse_table(doc, "measure")) == list(MEASURES)


@pytest.mark.parametrize("model", [OrgDesign, Cadence, EnvironmentConfig, LayerDynamics, Shock, RunConfig])
def test_every_configuration_field_is_named(doc, model: type[BaseModel]):
    missing = [name for name in model.model_fields if f"`{name}`" not in doc and f"`cadence.{name}`" not in doc]
    assert not missing, f"docs/ODD.md does not name these {model.__name__} fields: {missing}"


def test_summary_keys_are_named(doc):
    for key in ("mean_<measure>", "total_value_delivered", "recovery_<measure>_<layer>",
                "loss_<measure>_<layer>", "censored_<layer>"):
        assert f"`{key}`" in doc, key


def test_cited_code_exists(doc):
    """Every `Class.attribute` and `module.function` the ODD cites is in the code."""
    from orgsim import agents, capabilities, demands, experiment, reference, scenario, sensing

    modules = {m.__name__.split(".")[-1]: m for m in
               (agents, capabilities, demands, experiment, reference, scenario, sensing,
                *CONSTANT_MODULES.values())}
    classes = {name: obj for m in modules.values() for name, obj in vars(m).items() if inspect.isclass(obj)}
    # Instances, so that attributes set in __init__ count; `model.x` means an OrgModel's attribute.
    org = model_mod.OrgModel(members=10, seed=0).run(1)
    instances = {"OrgModel": org, "model": org, "DemandEnvironment": org.environment, "DemandBook": org.demands,
                 "Sensor": org.sensor, "Member": org.members[0], "FollowUps": org.followups}
    cited = re.findall(r"`([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\(\))?`", doc)
    assert len(cited) > 20
    missing = []
    for owner, attr in cited:
        target = instances.get(owner) or classes.get(owner) or modules.get(owner)
        if target is None:
            continue  # e.g. `model.rng`, a field path, or a file name
        if not (hasattr(target, attr) or attr in getattr(target, "model_fields", {})):
            missing.append(f"{owner}.{attr}")
    assert not missing, f"docs/ODD.md cites code that does not exist: {missing}"


def test_cited_files_exist(doc):
    root = ODD.parents[1]
    cited = set(re.findall(r"((?:docs|tests|scenarios|orgsim|benchmarks)/[\w./-]+\.(?:py|md|toml))", doc))
    assert cited, "the ODD cites no files"
    missing = sorted(path for path in cited if not (root / path).is_file() and path not in PENDING)
    assert not missing, f"docs/ODD.md cites files that do not exist: {missing}"


#: Test files written alongside model v2 that the ODD cites: checked as soon as they exist.
PENDING = {"tests/test_mechanisms.py", "tests/test_environment_v2.py", "tests/test_failure_demand.py",
           "tests/test_intake.py", "tests/test_planning.py"}


def test_cited_tests_exist(doc):
    """Every ``tests/FILE.py::test_name`` the ODD cites is a test function in that file."""
    cited = re.findall(r"(tests/[\w/]+\.py)::(\w+)", doc)
    assert cited
    missing = []
    for path, name in cited:
        file = ROOT / path
        if not file.is_file() and path in PENDING:
            continue
        if not re.search(rf"^def {name}\(", file.read_text(encoding="utf-8"), re.M):
            missing.append(f"{path}::{name}")
    assert not missing, f"docs/ODD.md cites tests that do not exist: {missing}"


def test_mechanisms_are_switched_off_by_real_levers_at_valid_values(doc):
    """Each ``lever`` = value in the mechanisms table's "switched off by" column names a design lever or an
    environment setting, and the value is one it accepts."""
    rows = parse_table(doc, "mechanism", plain=False)
    assert len(rows) >= 15
    settings = []
    for mechanism, cells in rows.items():
        for name in re.findall(r"`(\w+)`", cells["switched off by"]):
            assert name in OrgDesign.model_fields or name in EnvironmentConfig.model_fields, (mechanism, name)
        settings += re.findall(r"`(\w+)` = ([\d.]+)", cells["switched off by"])
    assert len(settings) >= 12
    for name, value in settings:
        number = float(value) if "." in value else int(value)
        if name in OrgDesign.model_fields:
            design_mod.resolve("siloed", **{name: number})
        else:
            EnvironmentConfig(**{name: number})


def test_every_ablation_case_is_in_the_mechanisms_table(doc):
    """``orgsim.ablation.CASES`` (what tests/test_mechanisms.py checks) are all named in the table."""
    ablation = pytest.importorskip("orgsim.ablation")
    rows = [cells["ablation (world: expected effect of the mechanism)"]
            for cells in parse_table(doc, "mechanism", plain=False).values()]
    column = " ".join(rows)
    missing = sorted({case.mechanism for case in ablation.CASES if f"`{case.mechanism}`" not in column})
    assert not missing, f"docs/ODD.md's mechanisms table does not name these ablations: {missing}"
    worlds = {case.world for case in ablation.CASES}
    assert worlds <= set(ablation.WORLDS)
    for case in ablation.CASES:
        row = next(row for row in rows if f"`{case.mechanism}`" in row)
        assert case.world in row, f"the {case.mechanism!r} row does not name its world {case.world!r}"


def _section(doc: str, heading: str) -> str:
    start = doc.index(heading)
    end = doc.find("\n## ", start + 1)
    return doc[start:end if end > 0 else None]


def _in_order(text: str, needles: list[str]) -> list[int]:
    return [text.index(n) for n in needles]


#: (what the code calls, what the ODD cites) for each step of a tick, in the order OrgModel.step runs them.
TICK = [("env.step()", "`DemandEnvironment.step`"), ("planning.replan(", "`planning.replan`"),
        ("intake(self", "`intake.intake`"), ("self._assemble(", "`OrgModel._assemble`"),
        ("self._scouts(", "`OrgModel._scouts`"), ("self._engine_work(", "`OrgModel._engine_work`"),
        ("deliver(self", "`work.deliver`"), ("self._learn(", "`OrgModel._learn`"),
        ("self._record(", "`OrgModel._record`")]


def _same_order(code: str, text: str, pairs: list[tuple[str, str]]) -> None:
    at_code = [code.index(c) for c, _ in pairs]
    assert at_code == sorted(at_code), f"the code no longer runs {[c for c, _ in pairs]} in this order"
    at_doc = [text.index(d) for _, d in pairs]
    assert at_doc == sorted(at_doc), f"the ODD's section 3 does not name {[d for _, d in pairs]} in the code's order"


def test_schedule_in_the_odd_is_the_order_of_the_code(doc):
    """Section 3 names the steps of a tick, of the environment's step, of its random change, of team
    assembly and of the work in the order the code runs them, and the management layers in the order
    ``planning.replan`` takes them."""
    schedule = " ".join(_section(doc, "## 3. Process overview and scheduling").split())
    _same_order(inspect.getsource(model_mod.OrgModel.step), schedule, TICK)
    env = DemandEnvironment
    _same_order(inspect.getsource(env.step), schedule, [
        ("self._scheduled", "scheduled shocks"), ("self._random_change(", "`DemandEnvironment._random_change`"),
        ("self._draw_arrivals(", "`DemandEnvironment._draw_arrivals`")])
    _same_order(inspect.getsource(env._random_change), schedule, [
        ("self._bear(", "`DemandEnvironment._bear`"),
        ("self._frontier_change(", "`DemandEnvironment._frontier_change`"),
        ("self._move_template(", "`DemandEnvironment._move_template`"),
        ("self._flip_rules(", "`DemandEnvironment._flip_rules`")])
    _same_order(inspect.getsource(model_mod.OrgModel._assemble), schedule, [
        ("teams.leavers(", "`teams.leavers`"), ("hand_over(", "`work.hand_over`"),
        ("teams.recruit(", "`teams.recruit`"), ("teams.start_alone(", "`teams.start_alone`"),
        ("teams.waiting(", "`teams.waiting`")])
    _same_order(inspect.getsource(work_mod.finish_work), schedule, [
        ("_discover(", "`work._discover`"), ("_hand_off(", "`work._hand_off`")])
    assert "for layer in MANAGEMENT_LAYERS" in inspect.getsource(planning_mod.due_layers)
    assert ", then ".join(design_mod.MANAGEMENT_LAYERS) in schedule, "management layers out of order"


def _load_script(name: str) -> Any:
    """The module docs/scripts/NAME.py (scripts are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_results_are_the_scripts_tables():
    """README's results sit between the markers docs/scripts/results.py writes to, with the rows and the
    settings the script has now (a script changed without a rerun fails here)."""
    results = _load_script("results")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(results.START) == 1 and readme.count(results.END) == 1
    block = readme[readme.index(results.START):readme.index(results.END)]
    assert f"{results.SEEDS} paired seeds x {results.TICKS} ticks x {results.MEMBERS} members" in block
    assert f"means after tick {results.WARMUP}" in block
    rows = re.findall(r"^\| (\w+) \| ([\d.]+) \|", block, re.M)
    expected = [(r, f"{load:g}") for r in results.REGIMES for load in results.LOADS]
    assert rows == expected * 2, "regenerate: .venv/bin/python docs/scripts/results.py"


def test_writer_is_idempotent_on_the_committed_document(doc):
    """The document is what ``--write`` would make of it, so a refresh changes nothing."""
    assert write(doc) == doc


def test_breadth_block_is_generated_across_load_and_by_channel(doc):
    """docs/scripts/breadth.py writes the breadth ablation across load (every regime x load) and by channel."""
    from orgsim.docblocks import read_block

    block = read_block(doc, "breadth")
    assert "generated by `docs/scripts/breadth.py`" in block
    script = _load_script("breadth")
    rows = [line for line in block.splitlines() if line.startswith("| ") and "[" in line]
    assert len(rows) == len(script.REGIMES) * len(script.LOADS) + len(script.CHANNELS)
    assert f"{script.SEEDS} seeds x {script.TICKS} ticks x {script.MEMBERS} members" in block


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {sys.argv[0]} --write   (refreshes the numbers in {ODD})")
    text = ODD.read_text(encoding="utf-8")
    new = write(text)
    ODD.write_text(new, encoding="utf-8")
    print("docs/ODD.md: " + ("numbers refreshed" if new != text else "already true to the code"))

