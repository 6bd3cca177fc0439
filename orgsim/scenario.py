"""Scenario files: one TOML file describes an experiment (the world, the organisations, the run).

``load_scenario(path)`` reads and validates a file before anything runs; any problem becomes an
:class:`~orgsim.errors.OrgsimError` whose one-line message names the file, the key path and what is
allowed. ``scenarios/README.md`` documents every key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from orgsim.design import Cadence, OrgDesign, resolve
from orgsim.environment import EnvironmentConfig
from orgsim.errors import OrgsimError, describe_validation_error
from orgsim.model import OrgModel


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
    **_optional_fields(OrgDesign, cadence=(CadenceOverride | None, None)),
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


class Scenario(_Strict):
    """A whole experiment: the world, the organisations compared in it, and the run."""

    description: str = Field(default="", description="One line: the question this scenario answers.")
    run: RunConfig = Field(default_factory=RunConfig)
    environment: EnvironmentConfig = Field(default_factory=EnvironmentConfig)
    organisations: dict[str, Organisation] = Field(
        default_factory=_default_organisations, description="Organisations to compare, by name."
    )

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
        return self

    @property
    def seeds(self) -> list[int]:
        return list(range(self.run.first_seed, self.run.first_seed + self.run.seeds))

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
        return validate_scenario({**self.model_dump(), "run": run}, source)


def validate_scenario(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a scenario given as a dict (e.g. parsed TOML); raises OrgsimError with one line."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise OrgsimError(describe_validation_error(err, source, root=Scenario)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    path = Path(path)
    if not path.is_file():
        raise OrgsimError(f"{path}: no such scenario file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise OrgsimError(f"{path}: malformed TOML: {err}") from None
    except UnicodeDecodeError:
        raise OrgsimError(f"{path}: not a text file (scenario files are UTF-8 TOML)") from None
    return validate_scenario(data, str(path))
