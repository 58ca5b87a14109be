"""tools/run_notebooks.py: progress in the terminal, clean notebook outputs; a failure changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

RUNNER = Path(__file__).resolve().parent.parent / "tools" / "run_notebooks.py"


def run(path: Path) -> subprocess.CompletedProcess:
    args = [sys.executable, str(RUNNER), str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_progress_goes_to_the_terminal_and_outputs_stay_clean(tmp_path):
    path = notebook(tmp_path / "ok.ipynb", "x = 6 * 7", "for e in (1, 2):\n    print(f'epoch {e} done')")
    proc = run(path)
    assert proc.returncode == 0, proc.stderr
    assert "[ok cell 1/2," in proc.stdout and "[ok cell 2/2," in proc.stdout
    assert "    epoch 1 done\n    epoch 2 done" in proc.stdout, "printed lines are echoed as they come"
    cells = nbformat.read(path, as_version=4).cells
    assert [c.execution_count for c in cells] == [1, 2]
    assert cells[1].outputs[0].text == "epoch 1 done\nepoch 2 done\n", "only the cell's own output"


def test_a_failing_notebook_is_left_as_it_was(tmp_path):
    path = notebook(tmp_path / "bad.ipynb", "print('before')", "1 / 0")
    before = path.read_bytes()
    proc = run(path)
    assert proc.returncode == 1
    assert "bad.ipynb: a cell failed; the notebook is left as it was" in proc.stderr
    assert "ZeroDivisionError" in proc.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ipynb"], "no temporary file left"


def stderr(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name="stderr", text=text)


def test_tensorflow_native_log_lines_are_dropped_and_other_stderr_kept():
    sys.path.insert(0, str(RUNNER.parent))
    import run_notebooks

    logs = ("I0000 00:00:1795573135.367759   20565 port.cc:153] oneDNN custom operations are on.\n"
            "I0000 00:00:1795573135.368885   20565 cudart_stub.cc:31] Could not find cuda drivers.\n"
            "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
            "with the appropriate compiler flags.\n")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import keras", outputs=[stderr(logs)]),
        nbformat.v4.new_code_cell("warn()", outputs=[
            stderr(logs + "UserWarning: a real warning\n"),
            nbformat.v4.new_output("stream", name="stdout", text="I0000 printed on purpose\n"),
        ]),
    ])
    assert run_notebooks.drop_native_logs(nb) == 6
    assert nb.cells[0].outputs == []
    kept = [o.text for o in nb.cells[1].outputs]
    assert kept == ["UserWarning: a real warning\n", "I0000 printed on purpose\n"]
