"""No traceback reaches a user: hostile input files, hostile output paths, a read-only or full disk, and the
top-level guard for errors nobody expected. Run through the real ``orgsim`` console script where a
subprocess is cheap, else through the same entry point (``cli.main``) in process.

The read-only and full-disk cases mount a small tmpfs, which needs root (as on CI); without root they are
skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from orgsim import atomic, cli
from orgsim.cli import main
from orgsim.guard import BAD_INPUT, BUG, RESOURCE
from orgsim.scenario import MAX_FILE_BYTES

TINY = """\
description = "tiny"
[run]
ticks = 40
seeds = 2
warmup = 5
members = 20
[environment]
arrival_rate = 2.0
"""
#: A sweep small enough to run in seconds, big enough (with --timeseries) to fill a 200 kB disk.
SWEEP = TINY.replace("seeds = 2", "seeds = 3") + """
[sweep]
parameters."environment.turbulence" = { values = [0.1, 0.5] }
"""


def orgsim(command: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("ORGSIM_DEBUG", None)
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def one_line(result: subprocess.CompletedProcess, code: int, *names: str) -> str:
    """The single error line of a failed command, checked: exit code, no traceback, names given. (An
    estimate line may come before it, printed when the work started.)"""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    (line,) = [x for x in result.stderr.splitlines() if not x.startswith("orgsim: estimate: ")]
    assert line.startswith("orgsim: error: ")
    for name in names:
        assert name in line, line
    return line


# --- hostile input files -------------------------------------------------------------------------------
def _deep(levels: int) -> str:
    return "[run]\nticks = " + "[" * levels + "]" * levels + "\n"


HOSTILE_INPUT = {
    # name: (how the file is made, command, the words the line must have)
    "array nested 5,000 deep, validate": ("deep", "validate", "nested too deeply"),
    "array nested 5,000 deep, compare": ("deep", "compare", "nested too deeply"),
    "array nested 5,000 deep, sweep": ("deep", "sweep", "nested too deeply"),
    "table nested 3,000 deep": ("deep-table", "validate", "nested too deeply"),
    "over 1 MB": ("big", "compare", "1,000,000"),
    "binary": ("binary", "validate", "not a text file"),
    "a folder": ("folder", "compare", "is a folder"),
    "a FIFO": ("fifo", "compare", "not a regular file"),
    "a device": ("/dev/zero", "validate", "not a regular file"),
    "name too long": ("long", "validate", "File name too long"),
}


def _make_input(kind: str, folder: Path) -> str:
    if kind.startswith("/"):
        return kind
    path = folder / f"{kind}.toml"
    if kind == "deep":
        path.write_text(_deep(5000))
    elif kind == "deep-table":
        path.write_text("x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n")
    elif kind == "big":
        path.write_text(TINY + "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "long":
        return str(folder / ("x" * 300 + ".toml"))
    return path.name


@pytest.fixture(scope="module")
def hostile_runs(orgsim_command, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, str, Path]]:
    root = tmp_path_factory.mktemp("hostile")
    jobs = {}
    for i, (name, (kind, command, _)) in enumerate(HOSTILE_INPUT.items()):
        folder = root / f"case{i}"
        folder.mkdir()
        jobs[name] = (folder, _make_input(kind, folder), command)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(orgsim, orgsim_command, command, file, "--out", "results", cwd=folder)
                   if command != "validate" else pool.submit(orgsim, orgsim_command, command, file, cwd=folder)
                   for name, (folder, file, command) in jobs.items()}
        return {name: (futures[name].result(), jobs[name][1], jobs[name][0]) for name in jobs}


@pytest.mark.parametrize("case", list(HOSTILE_INPUT))
def test_hostile_input_file_is_one_line_exit_2(case, hostile_runs):
    result, file, folder = hostile_runs[case]
    line = one_line(result, BAD_INPUT, HOSTILE_INPUT[case][2])
    assert file[:200] in line  # names the file
    assert not (folder / "results").exists()  # nothing written


# --- hostile output paths --------------------------------------------------------------------------------
def test_fifo_as_output_file_or_folder(tmp_path, monkeypatch, capsys):
    (tmp_path / "s.toml").write_text(TINY)
    os.mkfifo(tmp_path / "pipe")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "s.toml", "--ticks", "10", "--out", "pipe"]) == BAD_INPUT  # would block forever
    assert "pipe: is a FIFO (named pipe), not a regular file" in capsys.readouterr().err
    assert main(["compare", "s.toml", "--out", "pipe"]) == BAD_INPUT
    assert "pipe: --out must be a folder, and this is a FIFO" in capsys.readouterr().err
    assert main(["compare", "s.toml", "--out", "/dev/null"]) == BAD_INPUT
    assert "this is a device" in capsys.readouterr().err
    assert main(["sweep", "s.toml", "--out", "pipe"]) == BAD_INPUT
    assert "pipe: --out must be a folder" in capsys.readouterr().err


def test_too_long_or_folder_output_name(tmp_path, monkeypatch, capsys):
    (tmp_path / "s.toml").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    long = "y" * 300 + ".csv"
    assert main(["run", "s.toml", "--ticks", "10", "--out", long]) == BAD_INPUT
    (line,) = capsys.readouterr().err.splitlines()
    assert long in line and "name is too long" in line and "shorter path" in line
    assert main(["compare", "s.toml", "--out", "z" * 300]) == BAD_INPUT
    (line,) = capsys.readouterr().err.splitlines()
    assert "z" * 300 in line and "name is too long" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_report_of_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    (tmp_path / "manifest.json").write_text("[1, 2]")  # valid JSON, not a manifest
    assert main(["report", str(tmp_path)]) == BAD_INPUT
    (line,) = capsys.readouterr().err.splitlines()
    assert "manifest.json" in line and "not an orgsim sweep manifest" in line


# --- read-only and full disks (root only) -----------------------------------------------------------------
@contextlib.contextmanager
def tmpfs(where: Path, size: str, readonly: bool = False):
    """A small tmpfs mounted at ``where`` (skips the test, with the reason, when that is not possible)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (to fill a disk or make it read-only) needs root; CI runs as root")
    where.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        if readonly:
            subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_read_only_folder(orgsim_command, tmp_path):
    (tmp_path / "s.toml").write_text(TINY)
    with tmpfs(tmp_path / "ro", "1m", readonly=True) as ro:
        result = orgsim(orgsim_command, "compare", "s.toml", "--seeds", "1", "--out", "ro/out", cwd=tmp_path)
        one_line(result, BAD_INPUT, "ro/out", "Read-only file system")
        result = orgsim(orgsim_command, "run", "s.toml", "--out", "ro/run.csv", cwd=tmp_path)
        one_line(result, BAD_INPUT, "ro/run.csv", "read-only", "writable")
        result = orgsim(orgsim_command, "sweep", "s.toml", "--workers", "1", "--out", "ro", cwd=tmp_path)
        one_line(result, BAD_INPUT, "ro", "Read-only file system")
        assert list(ro.iterdir()) == []


def _no_half_written(folder: Path) -> None:
    """Every file in the folder is complete: no temporary files, every Parquet and CSV file readable."""
    assert list(folder.rglob(atomic.TMP_GLOB)) == []
    for path in folder.rglob("*.parquet"):
        pd.read_parquet(path)
    for path in folder.rglob("*.csv"):
        pd.read_csv(path)


def test_full_disk_sweep_loses_nothing_and_resumes_exactly(orgsim_command, tmp_path):
    (tmp_path / "s.toml").write_text(SWEEP)
    args = ["--workers", "1", "--timeseries", "--batch", "2"]
    whole = orgsim(orgsim_command, "sweep", "s.toml", "--out", "whole", *args, cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    with tmpfs(tmp_path / "disk", "200k") as disk:
        full = orgsim(orgsim_command, "sweep", "s.toml", "--out", "disk/sweep", *args, cwd=tmp_path)
        line = one_line(full, RESOURCE, "disk/sweep", "no space left on the device", "run the same command again")
        _no_half_written(disk)
        done = len(list((disk / "sweep" / "timeseries").rglob("*.parquet")))
        assert 0 < done < 12, line  # it stopped part of the way
        subprocess.run(["mount", "-o", "remount,size=50m", str(disk)], check=True)
        again = orgsim(orgsim_command, "sweep", "s.toml", "--out", "disk/sweep", *args, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert f"{done} already done" in again.stdout or "already done" in again.stdout
        resumed = pd.read_parquet(disk / "sweep" / "runs.parquet")
        expected = pd.read_parquet(tmp_path / "whole" / "runs.parquet")
        pd.testing.assert_frame_equal(resumed, expected)
        for path in (tmp_path / "whole" / "timeseries").rglob("*.parquet"):
            twin = disk / "sweep" / path.relative_to(tmp_path / "whole")
            pd.testing.assert_frame_equal(pd.read_parquet(twin), pd.read_parquet(path))


def test_full_disk_compare_writes_all_files_or_none(orgsim_command, tmp_path):
    (tmp_path / "s.toml").write_text(TINY)
    with tmpfs(tmp_path / "disk", "60k") as disk:
        result = orgsim(orgsim_command, "compare", "s.toml", "--out", "disk/out", cwd=tmp_path)
        one_line(result, RESOURCE, "disk/out/", "no space left")
        assert list((disk / "out").iterdir()) == []  # not the CSVs without the figure


# --- the guard for the unexpected ----------------------------------------------------------------------
def _boom(args):
    raise TypeError("an unexpected bug")


def test_guard_turns_a_bug_into_one_line_and_a_traceback_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_cmd_validate", _boom)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.delenv("ORGSIM_DEBUG", raising=False)
    assert main(["validate", "anything.toml"]) == BUG
    (line,) = capsys.readouterr().err.splitlines()
    assert "a bug in orgsim (TypeError: an unexpected bug)" in line
    (written,) = tmp_path.glob("orgsim-traceback-*.txt")
    assert str(written) in line
    text = written.read_text()
    assert "Traceback (most recent call last)" in text and "_boom" in text and "TypeError: an unexpected bug" in text


@pytest.mark.parametrize("how", ["--debug", "ORGSIM_DEBUG=1"])
def test_debug_shows_the_traceback(how, monkeypatch):
    monkeypatch.setattr(cli, "_cmd_validate", _boom)
    argv = ["validate", "anything.toml"]
    if how == "--debug":
        argv.append("--debug")  # anywhere on the line
    else:
        monkeypatch.setenv("ORGSIM_DEBUG", "1")
    with pytest.raises(TypeError, match="an unexpected bug"):
        main(argv)


@pytest.mark.parametrize("error, code, words", [
    (RecursionError("maximum recursion depth exceeded"), BAD_INPUT, "nested too deeply"),
    (MemoryError(), RESOURCE, "out of memory"),
    (OSError(28, "No space left on device"), RESOURCE, "no space left on the device"),
    (PermissionError(13, "Permission denied", "/some/file"), BAD_INPUT, "/some/file: permission denied"),
])
def test_guard_classes(error, code, words, monkeypatch, capsys):
    def fail(args):
        raise error

    monkeypatch.setattr(cli, "_cmd_validate", fail)
    monkeypatch.delenv("ORGSIM_DEBUG", raising=False)
    assert main(["validate", "x.toml"]) == code
    (line,) = capsys.readouterr().err.splitlines()
    assert words in line
