"""The notebook harness: every notebook is paired, in sync, compact and cleanly executed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 1_500_000


def test_every_notebook_is_numbered_in_order_and_listed_in_the_readme():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(1, len(NOTEBOOKS) + 1)) and len(NOTEBOOKS) >= 6, (
        f"notebooks must be numbered 01, 02, ... without gaps; found {[p.name for p in NOTEBOOKS]}"
    )
    readme = (NOTEBOOKS[0].parent.parent / "README.md").read_text()
    listed = sorted(set(re.findall(r"\(notebooks/(\d\d_\w+\.ipynb)\)", readme)))
    assert listed == [p.name for p in NOTEBOOKS], "the README's notebook table must list exactly these"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_paired_script_in_sync(nb_path: Path):
    """Regenerate the script from the notebook; it must equal the committed script.

    jupytext's own timestamp check cannot be trusted after a clone, so compare text.
    """
    script = nb_path.with_suffix(".py")
    assert script.exists(), f"{nb_path.name} has no paired script {script.name}"
    notebook = jupytext.read(nb_path)
    expected = jupytext.writes(notebook, fmt="py:percent")
    assert script.read_text() == expected, (
        f"{script.name} is out of sync with {nb_path.name}: run `jupytext --sync {nb_path}`"
    )


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_are_clean(nb_path: Path):
    """Executed top to bottom in one fresh kernel, compact, no progress bars or errors."""
    assert nb_path.stat().st_size < MAX_BYTES, f"{nb_path.name} is over 1.5 MB"
    nb = json.loads(nb_path.read_text())
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code" and c["source"]]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{nb_path.name}: execution counts {counts} are not 1..n; rerun it top to bottom"
    )
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{nb_path.name} has an error output"
            text = "".join(out.get("text", ""))
            assert "━━━━" not in text, f"{nb_path.name} has a Keras progress bar in its output"
