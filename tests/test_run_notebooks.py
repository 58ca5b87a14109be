"""tools/run_notebooks.py: progress in the terminal, clean outputs in the notebook, failures leave it alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

RUNNER = Path(__file__).resolve().parent.parent / "tools" / "run_notebooks.py"


def notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_progress_goes_to_the_terminal_and_outputs_stay_clean(tmp_path):
    path = notebook(tmp_path / "ok.ipynb", "x = 6 * 7", "for e in (1, 2):\n    print(f'epoch {e} done')")
    proc = subprocess.run([sys.executable, str(RUNNER), str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "[ok cell 1/2," in proc.stdout and "[ok cell 2/2," in proc.stdout
    assert "    epoch 1 done\n    epoch 2 done" in proc.stdout, "printed lines are echoed as they come"
    cells = nbformat.read(path, as_version=4).cells
    assert [c.execution_count for c in cells] == [1, 2]
    assert cells[1].outputs[0].text == "epoch 1 done\nepoch 2 done\n", "the notebook keeps only its own output"


def test_a_failing_notebook_is_left_as_it_was(tmp_path):
    path = notebook(tmp_path / "bad.ipynb", "print('before')", "1 / 0")
    before = path.read_bytes()
    proc = subprocess.run([sys.executable, str(RUNNER), str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "bad.ipynb: a cell failed; the notebook is left as it was" in proc.stderr
    assert "ZeroDivisionError" in proc.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ipynb"], "no temporary file left"
