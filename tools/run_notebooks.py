"""Execute notebooks in place, top to bottom in a fresh kernel each, showing progress in the terminal.

    python tools/run_notebooks.py notebooks/0*.ipynb

`make run` uses it instead of a silent `jupyter nbconvert --execute`: while a cell runs,
the terminal shows which notebook and cell it is, the time so far, and the lines the
cell prints (a training run's epochs, as they finish). Only the terminal sees that
progress; the notebook keeps the outputs the cells produce, less the log lines that
TensorFlow's C++ runtime writes to stderr when it loads (they say nothing about the lesson
and differ from machine to machine). Each notebook is written through a temporary file and
a rename, and only when it ran without error.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from helpers.data import atomic_write  # noqa: E402 - the repository's package, found from here

#: TensorFlow's C++ log lines ("I0000 00:00:1795573135.367759   20565 port.cc:153] ...") and
#: absl's notice that they are written to stderr before logging is set up.
NATIVE_LOG = re.compile(r"^(?:[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*"
                        r"|WARNING: All log messages before absl::InitializeLog\(\) is called.*"
                        r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate "
                        r"compiler flags\.)(?:\n|$)",
                        re.MULTILINE)


def drop_native_logs(nb: nbformat.NotebookNode) -> int:
    """Remove TensorFlow's C++ log lines from the notebook's stderr outputs; returns how many went."""
    removed = 0
    for cell in nb.cells:
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text, n = NATIVE_LOG.subn("", out["text"])
                removed += n
                if not text:
                    continue
                out["text"] = text
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept
    return removed


class ProgressClient(NotebookClient):
    """A notebook client that also echoes each cell's progress and printed text to the terminal."""

    def __init__(self, nb: nbformat.NotebookNode, label: str, **kwargs) -> None:
        super().__init__(nb, **kwargs)
        self.label = label
        self.code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        self.started = time.perf_counter()
        self.on_cell_execute = self._announce

    def _announce(self, cell: nbformat.NotebookNode, cell_index: int) -> None:
        k = self.code_cells.index(cell_index) + 1
        first = next((line for line in cell.source.splitlines() if line.strip()), "")[:60]
        elapsed = time.perf_counter() - self.started
        print(f"[{self.label} cell {k}/{len(self.code_cells)}, {elapsed:5.0f} s] {first}", flush=True)

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            for line in msg["content"]["text"].splitlines():
                print(f"    {line}", flush=True)
        return super().output(outs, msg, display_id, cell_index)


def run(path: Path, timeout: int) -> bool:
    """Execute one notebook in place; False (and the notebook untouched) if a cell failed."""
    nb = nbformat.read(path, as_version=4)
    # Widgets' state (notebook 07's canvas: ids and timings that change on every run) is not kept:
    # a saved notebook cannot draw, and the diff would show noise.
    nb.metadata.pop("widgets", None)
    client = ProgressClient(nb, path.stem, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        print(f"{path}: a cell failed; the notebook is left as it was\n{exc}", file=sys.stderr)
        return False
    except Exception as exc:  # noqa: BLE001 - a cell timeout, a dead kernel: one line, then the next notebook
        print(f"{path}: not executed ({type(exc).__name__}: {exc}); the notebook is left as it was",
              file=sys.stderr)
        return False
    drop_native_logs(nb)
    atomic_write(path, nbformat.writes(nb).encode() + b"\n")
    print(f"{path}: executed in {time.perf_counter() - start:.0f} s", flush=True)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds a cell may take (default 1800)")
    args = parser.parse_args()
    failed = [nb for nb in args.notebooks if not run(nb, args.timeout)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
