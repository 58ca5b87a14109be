"""The model a notebook builds and compiles in view is the model the library trains.

Notebooks 02 and 06 define their networks as Keras layers a learner can edit; the command
line builds them from configs (`helpers.models`). These tests run each notebook's cells up
to its `model.compile(...)` cell and compare the result with the library's recipe, so the
two cannot drift apart, and show that the comparison does see an edit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import model_cache

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CASES = [("02_mlp_model.ipynb", "mlp", "layers.Dense(1024, use_bias=False)",
          "layers.Dense(512, use_bias=False)"),
         ("06_cnn.ipynb", "cnn-aug", "layers.Conv2D(32, 3,", "layers.Conv2D(24, 3,")]


def _cells_up_to_compile(notebook: str) -> list[str]:
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    last = next(i for i, source in enumerate(code) if "model.compile(" in source)
    return code[: last + 1]


def _run(cells: list[str]) -> dict:
    namespace: dict = {}
    for source in cells:
        exec(compile(source, "<notebook cell>", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize(("notebook", "name", "line", "edited"), CASES, ids=[c[1] for c in CASES])
def test_the_notebooks_model_is_the_librarys(notebook: str, name: str, line: str, edited: str):
    ns = _run(_cells_up_to_compile(notebook))
    assert model_cache.library_difference(ns["model"], name, patience=ns["PATIENCE"]) == ""


@pytest.mark.parametrize(("notebook", "name", "line", "edited"), CASES, ids=[c[1] for c in CASES])
def test_an_edited_model_cell_is_seen_as_different(notebook: str, name: str, line: str, edited: str):
    cells = _cells_up_to_compile(notebook)
    assert any(line in c for c in cells), f"{notebook}: no cell has {line!r}"
    ns = _run([c.replace(line, edited, 1) for c in cells])
    difference = model_cache.library_difference(ns["model"], name, patience=ns["PATIENCE"])
    assert "layer" in difference and ("units" in difference or "filters" in difference), difference


def test_other_epochs_or_patience_are_seen_as_different():
    cells = _cells_up_to_compile("02_mlp_model.ipynb")
    ns = _run([c.replace("EPOCHS = 15", "EPOCHS = 10", 1) for c in cells])
    assert "decay_steps" in model_cache.library_difference(ns["model"], "mlp", patience=ns["PATIENCE"])
    ns = _run(cells)
    assert "patience" in model_cache.library_difference(ns["model"], "mlp", patience=3)
