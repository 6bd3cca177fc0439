"""Bounded work: the size of a comparison or sweep becomes an estimate of time and peak memory, printed
before it starts; work that cannot fit the machine's memory is refused with the figures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orgsim import budget
from orgsim.errors import OrgsimError
from orgsim.scenario import validate_scenario

GB = 2**30


def scenario(**run):
    return validate_scenario({"run": run})


def test_estimate_grows_with_every_dimension():
    base = budget.for_scenario(scenario(members=100, seeds=10, ticks=500), keep_timeseries=True)
    for bigger in ({"members": 1000}, {"seeds": 20}, {"ticks": 1000}):
        other = budget.for_scenario(scenario(**{"members": 100, "seeds": 10, "ticks": 500, **bigger}),
                                    keep_timeseries=True)
        assert other.seconds > base.seconds and other.peak_bytes > base.peak_bytes, bigger
    # Seconds add up run by run: 20 runs of 500 ticks of 100 members, at the calibrated cost per tick.
    assert base.runs == 20
    rate = scenario(members=100).environment.rate(100.0)  # arrivals a tick at the default load
    assert base.seconds == pytest.approx(20 * 500 * budget.seconds_per_tick(100, rate))
    # A sweep point that changes members or ticks counts at its own size.
    swept = validate_scenario({"run": {"seeds": 1}, "sweep": {"parameters": {"run.members": {"values": [10, 1000]}}}})
    env = swept.environment
    expected = budget.seconds_per_tick(10, env.rate(10.0)) + budget.seconds_per_tick(1000, env.rate(1000.0))
    assert budget.for_scenario(swept).seconds == pytest.approx(2 * 500 * expected)


def test_a_million_member_run_fits_a_million_member_compare_over_many_seeds_does_not():
    laptop = 8 * GB
    single = budget.for_scenario(scenario(members=1_000_000), single=True)
    assert single.peak_bytes < 4 * GB
    budget.check(single, "one run", total=laptop)  # fits
    many = budget.for_scenario(scenario(members=1_000_000, seeds=10_000), keep_timeseries=True)
    with pytest.raises(OrgsimError) as refused:
        budget.check(many, "big.toml", total=laptop)
    message = str(refused.value)
    assert message.startswith("big.toml: 10,000 seeds x 2 organisations = 20,000 runs of 500 ticks, 1,000,000")
    assert f"would need about {budget._bytes(many.peak_bytes)} of memory" in message
    assert many.peak_bytes > 10 * GB and "more than this machine's 8.0 GB" in message
    # A sweep writes each run's per-tick table as it finishes: the same runs need only the workers' memory.
    sweep = budget.for_scenario(scenario(members=1_000_000, seeds=10_000), workers=2)
    budget.check(sweep, "a sweep", total=laptop)


def test_total_memory_reads_the_machine():
    total = budget.total_memory()
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(next(line for line in meminfo.read_text().splitlines() if line.startswith("MemTotal")).split()[1])
        assert total == kb * 1024
    else:
        assert total is None or total > 0


def test_cli_prints_the_estimate_and_refuses_what_cannot_fit(orgsim_command, tmp_path):
    (tmp_path / "small.toml").write_text("[run]\nticks = 30\nseeds = 2\nwarmup = 5\nmembers = 10\n")
    ok = subprocess.run([*orgsim_command, "compare", "small.toml", "--out", "out"], cwd=tmp_path,
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    (line,) = ok.stderr.splitlines()
    assert line.startswith("orgsim: estimate: 2 seeds x 2 organisations = 4 runs of 30 ticks, 10 members: about ")
    assert "peak memory about" in line
    # A comparison of 100,000 seeds of 1,000,000 ticks, or a sweep of a million members on 1,000 workers:
    # more memory than any machine this runs on has.
    (tmp_path / "huge.toml").write_text("[run]\nticks = 1000000\nseeds = 100000\nwarmup = 5\nmembers = 1000000\n")
    for command, size in (
        (["compare", "huge.toml", "--out", "big"], "100,000 seeds x 2 organisations = 200,000 runs of 1,000,000 "),
        (["sweep", "huge.toml", "--out", "big", "--workers", "1000"], "1,000,000 members, on 1000 workers"),
    ):
        refused = subprocess.run([*orgsim_command, *command], cwd=tmp_path, capture_output=True, text=True,
                                 timeout=300)
        assert refused.returncode == 2, refused.stderr
        (line,) = refused.stderr.splitlines()
        assert line.startswith("orgsim: error: huge.toml: ") and size in line
        assert "of memory at its peak, more than this machine's" in line
        assert not (tmp_path / "big").exists()  # refused before anything was written
