"""The notebooks: stored without outputs, and each runs top to bottom in a fresh kernel.

Each notebook runs in quick mode (``ORGSIM_WORKSHOP_QUICK=1``: the helpers in ``orgsim.workshop`` run
fewer seeds, shorter runs and coarser grids) in a temporary working directory, so any file it writes lands
outside the repository; its kernel is this interpreter's ipykernel, so it imports the installed orgsim.
Each notebook's runtime is printed (not asserted: the machine is shared and timing is noisy).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {
    "01-the-argument.ipynb",
    "02-scenario-sweeps.ipynb",
    "03-pace-layers.ipynb",
    "04-march-1991.ipynb",
}
CELL_TIMEOUT = 600  # seconds per cell; a whole notebook in quick mode takes well under a minute
#: Notebooks shown to a room: every cell is one or two readable lines (the code is in orgsim.workshop*).
ROOM = ["01-the-argument.ipynb", "03-pace-layers.ipynb", "04-march-1991.ipynb"]


def test_every_workshop_notebook_is_there():
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, (f"{path.name}: code cells {dirty} have stored outputs or execution counts; clear them "
                       f"with `jupyter nbconvert --clear-output --inplace {path.relative_to(NOTEBOOK_DIR.parent)}`")


def _cells(name: str) -> list:
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4).cells


def test_workshop_asks_the_room_to_predict_before_each_run():
    cells = _cells("01-the-argument.ipynb")
    predict = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and "**Predict.**" in c.source]
    assert len(predict) >= 3, "a Predict cell before the stable market, the shock and the crossover"
    for i in predict:  # the run it asks about comes straight after
        assert cells[i + 1].cell_type == "code", f"cell {i + 1} follows a Predict cell but is not a run"


@pytest.mark.parametrize("name", ["01-the-argument.ipynb", "03-pace-layers.ipynb", "04-march-1991.ipynb"])
def test_suggested_answers_are_collapsed(name: str):
    answers = [c for c in _cells(name) if c.cell_type == "code" and c.source.startswith("# Suggested answer")]
    assert len(answers) >= 2, f"{name}: two or three exercises with suggested answers"
    hidden = [c.metadata.get("jupyter", {}).get("source_hidden") for c in answers]
    assert all(hidden), f"{name}: every suggested answer is stored collapsed (jupyter.source_hidden)"


@pytest.mark.parametrize("name", ROOM)
def test_cells_in_front_of_a_room_are_one_or_two_lines(name: str):
    for i, cell in enumerate(_cells(name)):
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if line.strip() and not line.startswith("# Suggested")]
        assert len(lines) <= 2, f"{name}, cell {i}: {len(lines)} lines of code; move them into orgsim.workshop"


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernel spec "python3" that starts this interpreter's ipykernel, whatever is installed elsewhere."""
    pytest.importorskip("ipykernel", reason="the test extra (pip install -e '.[test]') brings ipykernel")
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "python3"
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "orgsim test kernel",
        "language": "python",
    }))
    return KernelSpecManager(kernel_dirs=[str(root)])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_top_to_bottom(path: Path, kernel_specs: KernelSpecManager, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("ORGSIM_WORKSHOP_QUICK", "1")  # the kernel (and any process it starts) inherits it
    nb = nbformat.read(path, as_version=4)
    before = sorted(NOTEBOOK_DIR.parent.glob("notebooks/**/*"))
    km = KernelManager(kernel_name="python3", kernel_spec_manager=kernel_specs)
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[notebook runtime] {path.name}: {elapsed:.1f} s")
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells), "every code cell ran"
    figures = sum("image/png" in out.get("data", {}) for c in code_cells for out in c.outputs)
    assert figures >= 2, f"{path.name} drew {figures} figures"
    assert sorted(NOTEBOOK_DIR.parent.glob("notebooks/**/*")) == before, "the notebook wrote into the repository"
