"""The package's layers: data flows one way, and TensorFlow loads only where a model is built or run."""

from __future__ import annotations

import ast
import subprocess
import sys

from helpers.data import REPO_ROOT

HELPERS = REPO_ROOT / "helpers"

#: helpers/__init__.py and the README, in code: each module may import only modules of an
#: earlier layer, or earlier in its own layer.
ORDER = ["data", "configs", "registry", "augment", "models", "training", "inference", "model_cache",
         "run_records",
         "perturb", "evaluate", "plots", "photo", "external_sets", "drawing", "draw_widget", "cli"]
KERAS_MODULES = {"augment", "models", "training", "model_cache"}


def source_files(name: str) -> list:
    return sorted((HELPERS / name).glob("*.py")) if (HELPERS / name).is_dir() else [HELPERS / f"{name}.py"]


def helpers_imports(name: str) -> set[str]:
    """The helpers modules that module (or package) `name` imports, anywhere in its code."""
    files = source_files(name)
    found: set[str] = set()
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "helpers":
                    found |= {a.name for a in node.names}
                elif node.module.startswith("helpers."):
                    found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("helpers.")}
    return found - {name, "UserError"}


def test_every_module_is_placed_in_the_layer_order():
    on_disk = {p.stem for p in HELPERS.glob("*.py")} | {p.name for p in HELPERS.iterdir() if p.is_dir()
                                                        and (p / "__init__.py").is_file()}
    assert on_disk - {"__init__", "__main__"} == set(ORDER)


def test_data_flows_one_way():
    for k, name in enumerate(ORDER):
        later = helpers_imports(name) - set(ORDER[:k])
        assert not later, f"helpers.{name} imports {sorted(later)}, which come after it"


def test_keras_is_imported_only_where_models_are_built_trained_or_run():
    for name in ORDER:
        files = source_files(name)
        top_level = {a.name.split(".")[0] for f in files for n in ast.parse(f.read_text()).body
                     if isinstance(n, ast.Import) for a in n.names}
        top_level |= {n.module.split(".")[0] for f in files for n in ast.parse(f.read_text()).body
                      if isinstance(n, ast.ImportFrom) and n.module}
        if name not in KERAS_MODULES:
            assert not top_level & {"keras", "tensorflow"}, f"helpers.{name} imports Keras at module level"
    code = ("import sys; import helpers.cli, helpers.registry, helpers.inference, helpers.photo, "
            "helpers.external_sets, helpers.evaluate; "
            "heavy = {'tensorflow', 'keras'} & set(sys.modules); assert not heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
