"""The model benchmark still runs (at a tiny size; timings are not checked: the machine is shared)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_model.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scaling_exponent_is_the_log_log_slope(bench):
    assert bench.scaling_exponent([10, 100, 1000], [1.0, 10.0, 100.0]) == pytest.approx(1.0)
    assert bench.scaling_exponent([10, 1000], [2.0, 2.0]) == pytest.approx(0.0)
    assert bench.scaling_exponent([100, 400], [1.0, 2.0]) == pytest.approx(0.5)


def test_json_report_at_a_tiny_size(bench, capsys):
    assert bench.main(["--json", "--sizes", "20", "40", "--ticks", "3", "--warmup", "2", "--repeats", "1",
                       "--mesa-agents", "40", "--mesa-steps", "3"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["mesa_agent_steps_per_s"] > 0
    assert set(figures["agent_steps_per_s"]) == {"20", "40"}
    assert all(v > 0 for v in figures["agent_steps_per_s"].values())
    by_case = figures["agent_steps_per_s_by_case"]
    assert set(by_case) == {"complex", "clear"}  # the default world first, and a clear one
    assert all(set(by_case[w]) == {"siloed", "responsive"} for w in by_case)
    assert figures["agent_steps_per_s"]["40"] == min(by_case[w][d]["40"] for w in by_case for d in by_case[w])
    assert figures["ratio_40"] == pytest.approx(figures["agent_steps_per_s"]["40"] / figures["mesa_agent_steps_per_s"])
    exponents = figures["scaling_exponent_by_case"]
    assert figures["scaling_exponent"] == max(e for w in exponents for e in exponents[w].values())
    assert isinstance(figures["scaling_exponent"], float)
    assert figures["scaling_exponent_largest_pair"] == pytest.approx(figures["scaling_exponent"])  # two sizes
    assert figures["settings"]["sizes"] == [20, 40] and figures["settings"]["worlds"] == ["complex", "clear"]
    assert "arrivals_per_100_members" not in figures["settings"]  # arrivals follow the default load
    assert figures["settings"]["clock"] == "cpu"


def test_worlds_and_clock_can_be_chosen(bench, capsys):
    assert bench.main(["--json", "--sizes", "20", "--worlds", "chaotic", "--clock", "wall", "--ticks", "2",
                       "--warmup", "1", "--repeats", "1", "--mesa-agents", "20", "--mesa-steps", "2"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures["agent_steps_per_s_by_case"]) == ["chaotic"]
    assert figures["settings"]["clock"] == "wall"


def test_text_report_at_a_tiny_size(bench, capsys):
    assert bench.main(["--sizes", "30", "--ticks", "2", "--warmup", "0", "--repeats", "1",
                       "--mesa-agents", "30", "--mesa-steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "BoltzmannWealth" in out and "ratio ours/Mesa at 30" in out
    assert "complex responsive" in out and "clear siloed" in out
    assert "scaling exponent" not in out  # one size: no slope to fit
