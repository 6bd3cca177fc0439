"""Scenario files: one TOML file describes an experiment (the world, the organisations, the run, and
optionally a sweep: which parameters vary, over what, sampled how).

``load_scenario(path)`` reads and validates a file before anything runs, every point of its sweep
included; any problem becomes an :class:`~orgsim.errors.OrgsimError` whose one-line message names the
file, the key path and what is allowed. ``Scenario.points()`` lists the sweep's parameter points and
``Scenario.at(point)`` is the scenario at one of them. ``scenarios/README.md`` documents every key;
its table is ``reference_markdown()`` (``python -m orgsim.scenario`` prints it).
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import stat
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from orgsim.design import Cadence, OrgDesign, resolve
from orgsim.environment import EnvironmentConfig
from orgsim.errors import OrgsimError, describe_validation_error
from orgsim.model import OrgModel
from orgsim.story import Story


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunConfig(_Strict):
    """How long, how many seeds, and the size of the organisations."""

    ticks: int = Field(default=500, ge=1, le=1_000_000, description="Ticks per run (1 tick = 1 working day).")
    seeds: int = Field(default=10, ge=1, le=100_000, description="Seeds per organisation (replications).")
    first_seed: int = Field(default=0, ge=0, le=2**31, description="First seed of the run.")
    warmup: int = Field(default=50, ge=0, le=1_000_000, description="Ticks left out of run means.")
    members: int = Field(default=100, ge=2, le=1_000_000, description="Headcount of each organisation.")
    capacity: float = Field(default=1.0, gt=0.0, le=1e6, description="Work units per member per tick.")
    item_rate: float = Field(default=2.0, gt=0.0, le=1e6, description="Team slot: work/capability/demand/tick.")
    wip_limit: float = Field(default=2.0, gt=0.0, le=1e6, description="Most demands in progress per member.")

    @model_validator(mode="after")
    def _warmup_before_end(self) -> RunConfig:
        if self.warmup >= self.ticks:
            raise ValueError(f"warmup ({self.warmup}) must be less than ticks ({self.ticks})")
        return self

    def model_kwargs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("members", "capacity", "item_rate", "wip_limit")}


def _optional_fields(model: type[BaseModel], **replace: Any) -> dict[str, Any]:
    """The fields of ``model``, each optional (default None) but with its constraints kept."""
    fields = {}
    for name, info in model.model_fields.items():
        if name in replace:
            fields[name] = replace[name]
            continue
        copy = info._copy() if hasattr(info, "_copy") else info.__copy__()
        copy.default = None
        fields[name] = (info.annotation | None, copy)
    return fields


CadenceOverride = create_model(
    "CadenceOverride", __config__=ConfigDict(extra="forbid", frozen=True), **_optional_fields(Cadence)
)
_Levers = create_model(
    "_Levers",
    __config__=ConfigDict(extra="forbid", frozen=True),
    **_optional_fields(
        OrgDesign,
        cadence=(CadenceOverride | None, Field(default=None, description=Cadence.__doc__)),
    ),
)


class Organisation(_Levers):
    """One organisation: a preset or a coupling, then any single levers overridden."""

    preset: str | None = Field(default=None, description="siloed or responsive.")
    coupling: float | None = Field(
        default=None, ge=0.0, le=1.0, description="0 = responsive .. 1 = silo'd (instead of a preset)."
    )

    @model_validator(mode="after")
    def _one_base(self) -> Organisation:
        if self.preset is not None and self.coupling is not None:
            raise ValueError("give either preset or coupling, not both")
        if self.preset is not None:
            from orgsim.design import preset

            try:
                preset(self.preset)
            except OrgsimError as err:
                raise ValueError(str(err)) from None
        return self

    def design(self) -> OrgDesign:
        """The design this describes."""
        levers = self.model_dump(exclude={"preset", "coupling"}, exclude_none=True)
        base = self.preset if self.coupling is None else self.coupling
        return resolve(base if base is not None else "siloed", **levers)


def _default_organisations() -> dict[str, Organisation]:
    return {"siloed": Organisation(preset="siloed"), "responsive": Organisation(preset="responsive")}


Value = bool | int | float | str
Sampling = Literal["grid", "lhs", "sobol", "morris"]
#: Key paths a sweep may not vary (seeds are the replication axis, not a parameter).
NOT_SWEPT = frozenset({"description", "run.seeds", "run.first_seed"})
#: Most points a sweep may have.
MAX_POINTS = 1_000_000
#: Largest scenario file read (bytes); larger ones are refused before they are parsed.
MAX_FILE_BYTES = 1_000_000
#: Sweeps with at most this many points have every point validated before anything runs.
VALIDATE_ALL_POINTS = 20_000


class Parameter(_Strict):
    """One swept parameter: the values it takes (grid) or the range it is sampled from."""

    values: tuple[Value, ...] | None = Field(
        default=None, min_length=1, description="The values to run (grid sampling only)."
    )
    range: tuple[float, float] | None = Field(
        default=None, description="[low, high], low < high: spaced by steps (grid) or sampled (lhs, sobol, morris)."
    )
    steps: int | None = Field(
        default=None, ge=2, le=10_000, description="Evenly spaced values over range, both ends included (grid)."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values = [...] or range = [low, high]")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range must be [low, high] with low < high, got {list(self.range)}")
        if self.values is not None and self.steps is not None:
            raise ValueError("steps goes with range, not with values")
        return self


class Sweep(_Strict):
    """Which parameters vary, over what, how they are sampled, and how many seeds run at each point."""

    sampling: Sampling = Field(
        default="grid", description="grid (every combination), lhs (Latin hypercube), sobol (Saltelli design "
        "for Sobol indices) or morris (elementary effects); the last three through SALib.",
    )
    parameters: dict[str, Parameter] = Field(
        min_length=1, description='Swept parameters by key path, e.g. "environment.turbulence" or '
        '"organisations.siloed.coupling" (* for every organisation).',
    )
    samples: int | None = Field(
        default=None, ge=1, le=MAX_POINTS, description="lhs: points; sobol: base sample N, a power of 2 "
        "(N(D+2) points, N(2D+2) with second_order); morris: trajectories (N(D+1) points). D = parameters.",
    )
    seeds: int | None = Field(default=None, ge=1, le=100_000, description="Seeds per point (default: run.seeds).")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Seed of the lhs/sobol/morris design.")
    second_order: bool = Field(default=False, description="sobol: also sample for second-order indices.")
    levels: int = Field(default=4, ge=2, le=100, description="morris: levels of the grid (an even number).")

    @field_validator("parameters")
    @classmethod
    def _known_keys(cls, parameters: dict[str, Parameter]) -> dict[str, Parameter]:
        for key in parameters:
            if key in NOT_SWEPT:
                raise ValueError(f"{key!r} cannot be swept (seeds are set by run.seeds or sweep.seeds)")
        return parameters


class Scenario(_Strict):
    """A whole experiment: the world, the organisations compared in it, the run and an optional sweep."""

    description: str = Field(default="", description="One line: the question this scenario answers.")
    run: RunConfig = Field(default_factory=RunConfig)
    environment: EnvironmentConfig = Field(default_factory=EnvironmentConfig)
    organisations: dict[str, Organisation] = Field(
        default_factory=_default_organisations, description="Organisations to compare, by name."
    )
    sweep: Sweep | None = Field(default=None, description="Parameters varied over runs (none: one point).")
    story: Story | None = Field(default=None, description="A scripted walk for the dashboard's story mode "
                                "(none: no story); not part of the experiment's fingerprint.")

    @field_validator("organisations")
    @classmethod
    def _names(cls, organisations: dict[str, Organisation]) -> dict[str, Organisation]:
        for name in organisations:
            if not name or not all(c.isalnum() or c in "-_" for c in name):
                raise ValueError(f"organisation name {name!r}: use letters, digits, - and _ only")
        return organisations

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if not self.organisations:
            raise ValueError("organisations: at least one organisation is needed")
        for i, shock in enumerate(self.environment.shocks):
            if shock.tick >= self.run.ticks:
                raise ValueError(
                    f"environment.shocks.{i}.tick: {shock.tick} is after the last tick "
                    f"({self.run.ticks - 1}); allowed: 0 to {self.run.ticks - 1}"
                )
        if self.story is not None:
            self.story.check_fits(self.run.ticks)
        if self.sweep is not None:
            _check_sweep(self)
        return self

    @property
    def seeds(self) -> list[int]:
        """Seeds run at each point: ``sweep.seeds`` (or ``run.seeds``) from ``run.first_seed`` on."""
        n = self.sweep.seeds if self.sweep is not None and self.sweep.seeds is not None else self.run.seeds
        return list(range(self.run.first_seed, self.run.first_seed + n))

    @property
    def parameters(self) -> list[str]:
        """Key paths of the swept parameters, in file order (empty without a sweep)."""
        return list(self.sweep.parameters) if self.sweep is not None else []

    def design(self, organisation: str) -> OrgDesign:
        """The design of the organisation called ``organisation``."""
        if organisation not in self.organisations:
            raise OrgsimError(
                f"unknown organisation {organisation!r}; this scenario has: {', '.join(self.organisations)}"
            )
        return self.organisations[organisation].design()

    def model(self, organisation: str, seed: int) -> OrgModel:
        """A fresh model of ``organisation`` in this scenario's world, seeded with ``seed``."""
        return OrgModel(
            self.design(organisation), self.environment, seed=seed, **self.run.model_kwargs()
        )

    def with_run(self, source: str = "scenario", **changes: Any) -> Scenario:
        """A copy with some ``run`` settings changed (None leaves one as it is). A warm-up that no
        longer fits a shorter run shrinks to a tenth of it."""
        run = {**self.run.model_dump(), **{k: v for k, v in changes.items() if v is not None}}
        if changes.get("ticks") is not None and "warmup" not in changes and run["warmup"] >= run["ticks"]:
            run["warmup"] = run["ticks"] // 10
        return validate_scenario({**self.model_dump(), "run": run, "story": self._story_for(run["ticks"])}, source)

    def _story_for(self, ticks: int) -> dict[str, Any] | None:
        """The story, its steps shortened in proportion if the run is cut to ``ticks``."""
        if self.story is None:
            return None
        story = self.story if ticks >= self.run.ticks else self.story.scaled(ticks / self.run.ticks, ticks)
        return story.model_dump()

    def reduced(
        self,
        ticks: int | None = None,
        members: int | None = None,
        seeds: int | None = None,
        values: int | None = None,
        samples: int | None = None,
        source: str = "scenario",
    ) -> Scenario:
        """A smaller copy for smoke tests and quick looks (None keeps a setting).

        ``ticks`` scales the warm-up and scheduled shock ticks in proportion; ``seeds`` sets the seeds
        per point; ``values`` keeps at most that many values of each grid parameter (both ends kept);
        ``samples`` sets the lhs/sobol/morris sample size (rounded up to a power of 2 for sobol).
        """
        data = self.model_dump()
        run, env = data["run"], data["environment"]
        if ticks is not None:
            scale = ticks / run["ticks"]
            run["warmup"] = min(int(run["warmup"] * scale), ticks - 1)
            for shock in env["shocks"]:
                shock["tick"] = min(int(shock["tick"] * scale), ticks - 1)
            run["ticks"] = ticks
            data["story"] = self._story_for(ticks)
        if members is not None:
            run["members"] = members
        if seeds is not None:
            run["seeds"] = seeds
            if data["sweep"] is not None:
                data["sweep"]["seeds"] = None
        sweep = data["sweep"]
        if sweep is not None and values is not None:
            for param in sweep["parameters"].values():
                if param["values"] is not None and len(param["values"]) > values:
                    keep = np.unique(np.linspace(0, len(param["values"]) - 1, values).round().astype(int))
                    param["values"] = [param["values"][i] for i in keep]
                if param["steps"] is not None:
                    param["steps"] = max(2, min(param["steps"], values))
        if sweep is not None and samples is not None and sweep["sampling"] != "grid":
            sweep["samples"] = 2 ** math.ceil(math.log2(samples)) if sweep["sampling"] == "sobol" else samples
        return validate_scenario(data, source)

    def at(self, point: dict[str, Any]) -> Scenario:
        """This scenario, without its sweep, with the parameters of ``point`` (key path -> value) set."""
        data = self.model_dump(exclude={"sweep"})
        for key, value in point.items():
            for path in _concrete_paths(self, key):
                _set(data, path, value)
        return Scenario.model_validate(data)

    def problem(self) -> dict[str, Any]:
        """The SALib problem of a sampled sweep: names and bounds of the parameters."""
        if self.sweep is None:
            raise OrgsimError("this scenario has no sweep")
        params = self.sweep.parameters
        bounds = [list(p.range) if p.range is not None else [0.0, 1.0] for p in params.values()]
        return {"num_vars": len(params), "names": list(params), "bounds": bounds}

    def design_matrix(self) -> np.ndarray:
        """(points, parameters) values of a sampled sweep before rounding, as SALib drew them."""
        sweep = self.sweep
        if sweep is None or sweep.sampling == "grid":
            raise OrgsimError("only lhs, sobol and morris sweeps have a sampled design")
        from SALib.sample import latin, morris, sobol

        problem, n, seed = self.problem(), sweep.samples, sweep.seed
        if sweep.sampling == "lhs":
            return latin.sample(problem, n, seed=seed)
        if sweep.sampling == "sobol":
            return sobol.sample(problem, n, calc_second_order=sweep.second_order, seed=seed)
        return morris.sample(problem, n, num_levels=sweep.levels, seed=seed)

    def points(self) -> list[dict[str, Any]]:
        """Every parameter point of the sweep, in order: a dict of key path -> value ([{}] without one)."""
        if self.sweep is None:
            return [{}]
        keys = self.parameters
        if self.sweep.sampling == "grid":
            axes = [_grid_values(self, key) for key in keys]
            return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes)]
        kinds = [_leaf_kind(self, key) for key in keys]
        return [
            {key: _cast(kind, x) for key, kind, x in zip(keys, kinds, row, strict=True)}
            for row in self.design_matrix()
        ]

    def fingerprint(self) -> str:
        """SHA-256 of the scenario's canonical JSON: equal for equal experiments, whatever the file layout."""
        text = json.dumps(self.model_dump(mode="json", exclude={"story"}), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# --- sweep checks ----------------------------------------------------------------------------------------
def _quote(key: str) -> str:
    return f'"{key}"' if "." in key else key


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _resolve(scenario: Scenario, key: str) -> tuple[Any, list[list[str]]]:
    """The annotation of the value at ``key`` and the concrete paths it stands for (``*`` expanded).

    Raises ValueError naming the first part of the key that does not exist, with the nearest key.
    """
    parts = key.split(".")
    node: Any = Scenario
    data = scenario.model_dump()
    paths: list[list[str]] = [[]]
    for i, part in enumerate(parts):
        node = _unwrap(node)
        here = ".".join(parts[:i]) or "the top level"
        origin = typing.get_origin(node)
        if _is_model(node):
            allowed = [f for f in node.model_fields if ".".join([*parts[:i], f]) not in NOT_SWEPT]
            if part not in allowed:
                raise ValueError(_no_key(part, here, allowed))
            node = node.model_fields[part].annotation
            paths = [[*p, part] for p in paths]
        elif origin is dict:
            key_type, node = typing.get_args(node)
            existing = list(dict.fromkeys(k for p in paths for k in _get(data, p)))
            if part == "*":
                paths = [[*p, k] for p in paths for k in _get(data, p)]
                continue
            allowed = list(typing.get_args(key_type)) if typing.get_origin(key_type) is Literal else existing
            if part not in allowed:
                raise ValueError(_no_key(part, here, allowed))
            paths = [[*p, part] for p in paths]
        elif origin is tuple:
            node = typing.get_args(node)[0]
            n = min(len(_get(data, p)) for p in paths)
            if not part.isdigit() or int(part) >= n:
                allowed = ", ".join(str(j) for j in range(n)) or "none (the list is empty)"
                raise ValueError(f"no item {part!r} in {here}; allowed: {allowed}")
            paths = [[*p, part] for p in paths]
        else:
            raise ValueError(f"{here} is a single value, so it has no key {part!r}")
    node = _unwrap(node)
    if _is_model(node) or typing.get_origin(node) in (dict, tuple):
        inner = list(node.model_fields) if _is_model(node) else []
        raise ValueError(f"{key} is a table, not a value; sweep one of its keys" +
                         (f": {', '.join(inner)}" if inner else ""))
    return node, paths


def _no_key(part: str, here: str, allowed: list[str]) -> str:
    near = difflib.get_close_matches(part, [str(a) for a in allowed], n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return f"no key {part!r} in {here}{hint}; allowed: {', '.join(str(a) for a in allowed)}"


def _get(data: Any, path: list[str]) -> Any:
    for part in path:
        data = data[int(part)] if isinstance(data, list | tuple) else (data.get(part) or {})
    return data


def _set(data: dict, path: list[str], value: Any) -> None:
    for part in path[:-1]:
        if isinstance(data, list | tuple):
            data = data[int(part)]
        else:
            if data.get(part) is None:
                data[part] = {}
            data = data[part]
    data[path[-1]] = value


def _concrete_paths(scenario: Scenario, key: str) -> list[list[str]]:
    try:
        return _resolve(scenario, key)[1]
    except ValueError as err:
        raise OrgsimError(f"sweep.parameters.{_quote(key)}: {err}") from None


def _leaf_kind(scenario: Scenario, key: str) -> type:
    """int, float, bool or str: what kind of value ``key`` holds."""
    node = _resolve(scenario, key)[0]
    if typing.get_origin(node) is Literal:
        return type(typing.get_args(node)[0])
    return node if node in (int, float, bool, str) else float


def _cast(kind: type, x: float) -> int | float:
    if kind is int:
        return int(round(float(x)))
    return float(f"{float(x):.12g}")


def _grid_values(scenario: Scenario, key: str) -> list[Any]:
    param = scenario.sweep.parameters[key]
    kind = _leaf_kind(scenario, key)
    if param.values is not None:
        return [kind(v) if kind in (int, float) and not isinstance(v, bool | str) else v for v in param.values]
    values = [_cast(kind, x) for x in np.linspace(*param.range, param.steps)]
    return list(dict.fromkeys(values))


def _point_count(scenario: Scenario) -> int:
    sweep = scenario.sweep
    d = len(sweep.parameters)
    if sweep.sampling == "grid":
        return math.prod(len(_grid_values(scenario, key)) for key in sweep.parameters)
    if sweep.sampling == "lhs":
        return sweep.samples
    if sweep.sampling == "sobol":
        return sweep.samples * (2 * d + 2 if sweep.second_order else d + 2)
    return sweep.samples * (d + 1)


def _check_sweep(scenario: Scenario) -> None:
    """Every swept key exists, fits the sampling and gives valid scenarios; raises ValueError."""
    sweep = scenario.sweep
    for key, param in sweep.parameters.items():
        where = f"sweep.parameters.{_quote(key)}"
        try:
            kind = _leaf_kind(scenario, key)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        if sweep.sampling == "grid":
            if param.range is not None and param.steps is None:
                raise ValueError(f"{where}: a grid over a range needs steps (2 or more values)")
        elif param.range is None:
            raise ValueError(f"{where}: {sweep.sampling} sampling needs range = [low, high], not values")
        elif param.steps is not None:
            raise ValueError(f"{where}: steps is for grid sampling only; {sweep.sampling} draws its own points")
        if param.range is not None and kind in (bool, str):
            raise ValueError(f"{where}: {key} takes {kind.__name__} values, so give values = [...], not a range")
        for value in param.values if param.values is not None else [_cast(kind, x) for x in param.range]:
            _check_point(scenario, {key: value}, f"{where}: value {value!r}")
    if sweep.sampling == "grid" and sweep.samples is not None:
        raise ValueError("sweep.samples: only for lhs, sobol or morris (a grid runs every combination)")
    if sweep.sampling != "grid" and sweep.samples is None:
        raise ValueError(f"sweep.samples: {sweep.sampling} sampling needs samples (a whole number >= 1)")
    if sweep.sampling == "sobol" and sweep.samples & (sweep.samples - 1):
        raise ValueError(
            f"sweep.samples: sobol sampling needs a power of 2, got {sweep.samples}; "
            f"allowed: e.g. {2 ** int(math.log2(sweep.samples))} or {2 ** math.ceil(math.log2(sweep.samples))}"
        )
    if sweep.sampling == "morris" and sweep.levels % 2:
        raise ValueError(f"sweep.levels: morris needs an even number of levels, got {sweep.levels}")
    n = _point_count(scenario)
    if n > MAX_POINTS:
        raise ValueError(f"sweep: {n:,} points is more than the {MAX_POINTS:,} allowed; use fewer values")
    if n <= VALIDATE_ALL_POINTS:
        for point in scenario.points():
            _check_point(scenario, point, f"sweep: point {point}")


def _check_point(scenario: Scenario, point: dict[str, Any], where: str) -> None:
    try:
        scenario.at(point)
    except ValidationError as err:
        raise ValueError(f"{where} is not allowed: {describe_validation_error(err)}") from None


# --- reading files -----------------------------------------------------------------------------------------
class _QuotedLocations:
    """A ValidationError whose key paths quote keys that contain dots (``sweep.parameters."a.b"``)."""

    def __init__(self, err: ValidationError) -> None:
        self._err = err

    def errors(self) -> list[dict[str, Any]]:
        problems = [
            {**e, "loc": tuple(_quote(p) if isinstance(p, str) else p for p in e["loc"])}
            for e in self._err.errors()
        ]
        # An unknown key first: a typo in a key usually explains a "field required" next to it.
        return sorted(problems, key=lambda e: e["type"] != "extra_forbidden")


def validate_scenario(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a scenario given as a dict (e.g. parsed TOML); raises OrgsimError with one line."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise OrgsimError(describe_validation_error(_QuotedLocations(err), source, root=Scenario)) from None


def read_scenario(path: str | Path) -> tuple[Scenario, str]:
    """Read and validate a scenario file; returns the scenario and the file's text.

    Refused before parsing, each with one line: a path that is not a regular file (a folder, a FIFO,
    a device), a file over ``MAX_FILE_BYTES``, a file that cannot be read, and nesting deeper than
    Python can parse.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise OrgsimError(f"{path}: no such scenario file") from None
    except OSError as err:
        raise OrgsimError(f"{path}: cannot read the scenario file ({err.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise OrgsimError(f"{path}: is a folder; give a scenario file (TOML)")
    if not stat.S_ISREG(info.st_mode):
        raise OrgsimError(f"{path}: is not a regular file (a FIFO or a device?); give a scenario file (TOML)")
    if info.st_size > MAX_FILE_BYTES:
        raise OrgsimError(f"{path}: {info.st_size:,} bytes is more than the {MAX_FILE_BYTES:,} a scenario file "
                          "may have; a scenario describes a sweep, it does not list its points")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise OrgsimError(f"{path}: cannot read the scenario file ({err.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:  # it grew since stat
        raise OrgsimError(f"{path}: more than the {MAX_FILE_BYTES:,} bytes a scenario file may have")
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise OrgsimError(f"{path}: malformed TOML: {err}") from None
    except UnicodeDecodeError:
        raise OrgsimError(f"{path}: not a text file (scenario files are UTF-8 TOML)") from None
    except RecursionError:
        raise OrgsimError(f"{path}: values nested too deeply to read; no scenario key nests more than a few "
                          "levels") from None
    try:
        return validate_scenario(data, str(path)), text
    except RecursionError:
        raise OrgsimError(f"{path}: values nested too deeply to check; no scenario key nests more than a few "
                          "levels") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    return read_scenario(path)[0]


# --- the reference of every key (scenarios/README.md is generated from it) ---------------------------------
#: Unit of every key, by field name (or by key path, where a name means two things). A field without a
#: unit here fails ``reference()`` (and its test).
UNITS: dict[str, str] = {
    "description": "text",
    "run": "table", "environment": "table", "organisations": "table", "sweep": "table",
    "ticks": "ticks", "seeds": "count", "first_seed": "seed", "warmup": "ticks", "members": "people",
    "capacity": "work units / member / tick", "item_rate": "work units / demand / capability / tick",
    "wip_limit": "demands / member",
    "regime": "name", "turbulence": "index 0-1", "signal_noise": "relative s.d.", "capabilities": "names",
    "demand_types": "count", "arrival_rate": "demands / tick", "work_per_demand": "work units",
    "work_min": "work units", "work_max": "work units",
    "size_spread": "s.d. of log size", "regulated_share": "share of types", "deadline": "ticks",
    "wage": "value units / capacity unit / tick",
    "value_decay": "share / tick", "layers": "table", "shocks": "list of tables",
    "frontier_capabilities": "count", "frontier_announcements": "list of ticks", "load": "work offered / capacity",
    "value_spread": "s.d. of log value", "promise": "ticks", "followup_chance": "probability",
    "followup_work": "work units", "layer_coupling": "index (0 = independent)",
    "frontier_fails": "probability", "frontier_uptake": "probability", "patience": "ticks",
    "team_cover": "skill 0-1", "memory": "ticks", "planning_cost": "share of capacity / re-plan",
    "probing": "probability", "knowledge_transfer": "share of gap / tick", "standardisation": "index 0-1",
    "drift": "per tick (see text)", "shock_rate": "1 / tick", "shock_magnitude": "share 0-1",
    "tick": "tick", "layer": "name", "magnitude": "share 0-1",
    "preset": "name", "coupling": "index 0-1", "specialisation": "index 0-1", "fluidity": "share",
    "handoff_delay": "ticks", "handoff_error": "probability", "rework_fraction": "share of a phase's work",
    "sensing_delay": "ticks", "sensing_noise": "relative s.d.", "cadence": "table",
    "operations": "ticks", "process": "ticks", "structure": "ticks", "strategy": "ticks",
    "learning_rate": "share of gap / tick", "forgetting_rate": "share / tick", "exploration": "share of capacity",
    "constraints": "name", "coordination_cost": "efficiency loss / extra team member",
    "restructure_cost": "ticks / full skill gap", "strategy_threshold": "share of demand",
    "story": "table", "title": "text", "caption": "text", "predict": "text",
    "hits": "layer names", "story.steps": "list of tables",
    "sampling": "name", "parameters": "table", "samples": "count", "seed": "seed", "second_order": "true/false",
    "levels": "count", "values": "the parameter's unit", "range": "the parameter's unit", "steps": "count",
}
#: Placeholders for keys the user names: organisations, swept key paths, layers.
_PLACEHOLDERS = {"organisations": "<name>", "parameters": '"<key path>"'}
#: Defaults and ranges that are not a plain value.
_DEFAULTS = {
    "environment.turbulence": "from regime", "environment.signal_noise": "from regime",
    "environment.load": "0.7 (unless arrival_rate)", "environment.arrival_rate": "none (from load)",
    "organisations.<name>.preset": "siloed (if no coupling)", "organisations.<name>.coupling": "none",
    "sweep": "none (one point)", "story": "none", "sweep.seeds": "run.seeds", "sweep.samples": "none (grid)",
}
_RANGES = {"organisations.<name>.preset": "siloed, responsive", "story.title": "1 to 120 characters",
           "story.steps": "1 to 100 steps, ticks adding up to at most run.ticks",
           "story.steps[].caption": "1 to 300 characters", "story.steps[].predict": "at most 300 characters",
           "story.steps[].hits": "needs, technology, rules, volume", "sweep.parameters": "at least 1 parameter",
           "sweep.parameters.\"<key path>\".values": "at least 1 value"}


def reference() -> list[dict[str, str]]:
    """One row per key of the scenario format: key, unit, range, default, description."""
    rows: list[dict[str, str]] = []
    _walk(Scenario, "", rows)
    return rows


def _walk(model: type[BaseModel], prefix: str, rows: list[dict[str, str]]) -> None:
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        unit = UNITS.get(key, UNITS.get(name))
        if unit is None:
            raise KeyError(f"orgsim.scenario.UNITS has no unit for {key!r}; add one")
        node = _unwrap(info.annotation)
        origin = typing.get_origin(node)
        child = None
        if _is_model(node):
            child, sub = node, f"{key}."
        elif origin is dict and _is_model(_unwrap(typing.get_args(node)[1])):
            key_type, child = typing.get_args(node)
            choices = typing.get_args(key_type) if typing.get_origin(key_type) is Literal else ()
            sub = f"{key}.{_PLACEHOLDERS.get(name) or '<' + '|'.join(choices) + '>'}."
        elif origin is tuple and _is_model(typing.get_args(node)[0]):
            child, sub = typing.get_args(node)[0], f"{key}[]."
        rows.append({
            "key": key, "unit": unit, "range": _RANGES.get(key) or _range_text(info, node),
            "default": _DEFAULTS.get(key) or _default_text(model, info),
            "description": info.description or ((child.__doc__ or "").strip().splitlines() or [""])[0],
        })
        if child is not None:
            _walk(child, sub, rows)


def _range_text(info: Any, node: Any) -> str:
    if typing.get_origin(node) is Literal:
        return ", ".join(str(a) for a in typing.get_args(node))
    if node is bool:
        return "true, false"
    attrs = {"Ge": "ge", "Gt": "gt", "Le": "le", "Lt": "lt", "MinLen": "min_length"}
    bounds = {type(m).__name__: getattr(m, attrs[type(m).__name__]) for m in info.metadata if type(m).__name__ in attrs}
    low = f"[{_num(bounds['Ge'])}" if "Ge" in bounds else f"({_num(bounds['Gt'])}" if "Gt" in bounds else ""
    high = f"{_num(bounds['Le'])}]" if "Le" in bounds else f"{_num(bounds['Lt'])})" if "Lt" in bounds else ""
    if low and high:
        return f"{low}, {high}"
    if low:
        return f">= {low[1:]}" if low[0] == "[" else f"> {low[1:]}"
    return "" if not high else f"<= {high[:-1]}"


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _default_text(model: type[BaseModel], info: Any) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "from preset or coupling" if model in (Organisation, CadenceOverride) else "none"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, dict):
        return ", ".join(value) or "none"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else _num(value)


def reference_markdown() -> str:
    """The key reference of ``scenarios/README.md``, as a Markdown table."""
    lines = ["| key | unit | range | default | meaning |", "|---|---|---|---|---|"]
    for row in reference():
        cells = [f"`{row['key']}`", row["unit"], row["range"], row["default"], row["description"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference_markdown())
