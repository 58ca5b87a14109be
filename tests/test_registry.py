"""The registry, the model cache and the inference runtimes: current, stale, saved, loaded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from support import draw, save

from helpers import cli, data, inference, model_cache, registry
from helpers.configs import MLPConfig, TrainConfig
from helpers.registry import ModelError, Recipe

TINY = TrainConfig(epochs=2, batch_size=32, patience=2)
TINY_MLP = Recipe("mlp", MLPConfig(hidden=(16,)), TINY)


def helpers_copy(tmp_path: Path) -> Path:
    """A private copy of the helpers package (tmp/src/helpers) that a test may edit."""
    dst = tmp_path / "src" / "helpers"
    shutil.copytree(registry.HELPERS_DIR, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer contains {old!r}; update the test"
    path.write_text(text.replace(old, new, 1))


# ---------------------------------------------------------------- saving and loading


def test_train_saves_keras_tflite_and_record_that_reload_alike(tiny_splits, models_dir):
    model, metrics = model_cache.train(TINY_MLP, splits=tiny_splits, verbose=False)
    assert sorted(p.name for p in models_dir.iterdir()) == ["mlp.json", "mlp.keras", "mlp.tflite"], (
        "three files and no temporary file left"
    )
    saved = json.loads((models_dir / "mlp.json").read_text())
    assert saved["recipe"] == TINY_MLP.to_dict()
    assert saved["code"] == registry.code_fingerprint(TINY_MLP)
    assert 0.0 <= saved["test_accuracy"] <= 1.0 and len(saved["history"]["loss"]) == saved["epochs_run"]
    keras_again = inference.load_model(models_dir / "mlp.keras")
    lite = inference.load_model(models_dir / "mlp.keras", runtime="litert")
    assert isinstance(lite, inference.LiteModel)
    x = tiny_splits.x_test
    want = inference.predict_proba(model, x)
    np.testing.assert_allclose(inference.predict_proba(keras_again, x), want, atol=1e-6)
    np.testing.assert_allclose(inference.predict_proba(lite, x), want, atol=1e-5)
    # LiteRT resizes its input for every batch size, including one image at a time.
    np.testing.assert_allclose(inference.predict_proba(lite, x[:1]), want[:1], atol=1e-5)


def test_failed_conversion_changes_nothing_on_disk(tiny_splits, models_dir, monkeypatch):
    model, metrics = model_cache.train(TINY_MLP, splits=tiny_splits, verbose=False)
    before = {p.name: p.read_bytes() for p in models_dir.iterdir()}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(model_cache, "to_tflite", crash)
    with pytest.raises(KeyboardInterrupt):
        model_cache.save(model, {**metrics, "val_accuracy": 0.0}, models_dir / "mlp.keras")
    assert {p.name: p.read_bytes() for p in models_dir.iterdir()} == before


def test_interrupted_save_never_leaves_a_new_model_under_the_old_record(tiny_splits, models_dir, monkeypatch):
    monkeypatch.setitem(registry.RECIPES, "mlp", TINY_MLP)
    model, metrics = model_cache.train(TINY_MLP, splits=tiny_splits, verbose=False)
    keras_before = (models_dir / "mlp.keras").read_bytes()
    assert registry.is_current("mlp")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(model), "save", crash)
    with pytest.raises(KeyboardInterrupt):
        model_cache.save(model, {**metrics, "val_accuracy": 0.0}, models_dir / "mlp.keras")
    assert (models_dir / "mlp.keras").read_bytes() == keras_before, "no half-written model"
    assert sorted(p.name for p in models_dir.iterdir()) == ["mlp.keras", "mlp.tflite"], "no temp files"
    assert registry.staleness("mlp") == "missing", "without its record the model is retrained, not trusted"


def test_load_model_errors_are_clear(models_dir, tmp_path):
    with pytest.raises(ModelError, match="no such model file; train it with `python -m helpers train --arch "
                                         "cnn --augment`"):
        inference.load_model("cnn-aug")
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="bad.keras: not a readable Keras model"):
        inference.load_model(bad)
    with pytest.raises(ModelError, match="nope.keras: no such model file"):
        inference.load_model(tmp_path / "nope.keras", runtime="litert")


# ---------------------------------------------------------------- current, stale, best


def test_cache_is_current_only_for_the_same_recipe(tiny_splits, models_dir, monkeypatch):
    monkeypatch.setitem(registry.RECIPES, "mlp", TINY_MLP)
    model_cache.train(TINY_MLP, splits=tiny_splits, verbose=False)
    assert registry.is_current("mlp")
    monkeypatch.setitem(registry.RECIPES, "mlp", replace(TINY_MLP, train=replace(TINY, epochs=3)))
    assert not registry.is_current("mlp")
    assert registry.staleness("mlp") == "recipe"
    retrain = "another recipe; retrain it with `python -m helpers train --arch mlp`"
    with pytest.raises(ModelError, match=retrain):
        inference.load_model("mlp")


def test_fingerprint_follows_the_code_not_its_comments(tmp_path):
    src = helpers_copy(tmp_path)
    plain, augmented = registry.RECIPES["mlp"], registry.RECIPES["mlp-aug"]
    before = {r.name: registry.code_fingerprint(r, src) for r in (plain, augmented)}
    assert before == {r.name: registry.code_fingerprint(r) for r in (plain, augmented)}
    edit(src / "models.py", '"""Build (not compile) the MLP described by `cfg`."""', '"""Reworded."""')
    edit(src / "training.py", "import contextlib\n", "import contextlib  # a new comment\n")
    assert {r.name: registry.code_fingerprint(r, src) for r in (plain, augmented)} == before
    edit(src / "augment.py", "fill_value=0.0)", "fill_value=0.5)")
    assert registry.code_fingerprint(plain, src) == before["mlp"], "augmentation is not the plain MLP's code"
    assert registry.code_fingerprint(augmented, src) != before["mlp-aug"]
    edit(src / "models.py", 'x = layers.Activation("relu"', 'x = layers.Activation("gelu"')
    assert registry.code_fingerprint(plain, src) != before["mlp"]


def test_edited_builder_is_retrained_by_notebooks(tiny_splits, models_dir, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(registry.RECIPES, "mlp", TINY_MLP)
    monkeypatch.setattr(data, "load_splits", lambda *a, **k: tiny_splits)
    model_cache.train(TINY_MLP, splits=tiny_splits, verbose=False)
    old_record = registry.load_metrics("mlp")
    src = helpers_copy(tmp_path)
    edit(src / "models.py", 'x = layers.Activation("relu"', 'x = layers.Activation("gelu"')
    # A fresh kernel after the learner edited the builder: the edited code is on disk and imported.
    monkeypatch.setattr(registry, "HELPERS_DIR", src)
    monkeypatch.setattr(model_cache, "_IMPORTED_SOURCES", registry.source_texts(src))
    assert registry.staleness("mlp") == "code"
    model_cache.get_model("mlp", verbose=True)
    assert "mlp: the cached model was made by older code" in capsys.readouterr().out
    new_record = registry.load_metrics("mlp")
    assert new_record["code"] == registry.code_fingerprint(TINY_MLP, src) != old_record["code"]
    assert registry.is_current("mlp")


def test_code_edited_after_import_is_refused_not_stamped(tiny_splits, models_dir, monkeypatch, tmp_path):
    """The kernel still runs the old builder: training now would record code that did not run."""
    monkeypatch.setitem(registry.RECIPES, "mlp", TINY_MLP)
    src = helpers_copy(tmp_path)
    edit(src / "models.py", 'x = layers.Activation("relu"', 'x = layers.Activation("gelu"')
    monkeypatch.setattr(registry, "HELPERS_DIR", src)  # edited on disk, not re-imported
    with pytest.raises(ModelError, match="changed after it was imported; restart the kernel"):
        model_cache.train(TINY_MLP, splits=tiny_splits, verbose=False)
    assert list(models_dir.iterdir()) == [], "nothing trained, nothing saved"


def test_fingerprint_names_must_exist(tmp_path):
    with pytest.raises(ValueError, match="data.py: no top-level load_everything"):
        registry.code_text("def load_splits():\n    pass\n", ("load_splits", "load_everything"),
                           where="data.py")


def run_cli(args: list[str], src: Path, models: Path) -> subprocess.CompletedProcess:
    """`python -m helpers ...` in a fresh process, from the package copy under `src`."""
    env = {**os.environ, "PYTHONPATH": str(src.parent), registry.MODELS_ENV: str(models)}
    code = ("import sys; from helpers import cli; rc = cli.main(sys.argv[1:]); "
            "print('tensorflow imported' if 'tensorflow' in sys.modules else '', file=sys.stderr); "
            "sys.exit(rc)")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=src.parent)


def test_edited_builder_stops_the_command_line_with_one_line(tiny_splits, tmp_path):
    models = tmp_path / "models"
    src = helpers_copy(tmp_path)
    # The real recipe's record, made by today's code: current for the command line.
    model_cache.train(TINY_MLP, splits=tiny_splits, verbose=False, out=models / "mlp.keras")
    record = registry.load_metrics(models / "mlp.keras")
    record["recipe"] = registry.RECIPES["mlp"].to_dict()
    (models / "mlp.json").write_text(json.dumps(record))
    photo = save(draw("7"), tmp_path / "seven.png")

    ok = run_cli(["predict", str(photo), "--model", "mlp"], src, models)
    assert ok.returncode == 0, ok.stderr
    assert "1 digit read" in ok.stdout and "tensorflow imported" not in ok.stderr

    edit(src / "models.py", 'x = layers.Activation("relu"', 'x = layers.Activation("gelu"')
    stale = run_cli(["predict", str(photo), "--model", "mlp"], src, models)
    assert stale.returncode == 1 and stale.stdout == ""
    lines = [line for line in stale.stderr.splitlines() if line]
    assert len(lines) == 1, stale.stderr
    assert "mlp.keras was made by older code" in lines[0]
    assert "retrain it with `python -m helpers train --arch mlp`" in lines[0]
    # The default model is stale too: same rule, same line.
    default = run_cli(["predict", str(photo)], src, models)
    assert default.returncode == 1 and "made by older code" in default.stderr


def test_best_model_is_chosen_on_validation_accuracy(models_dir):
    for name, val, test in [("mlp", 0.99, 0.95), ("mlp-aug", 0.98, 0.999)]:
        (models_dir / f"{name}.keras").write_bytes(b"stub")
        metrics = {"recipe": registry.RECIPES[name].to_dict(), "val_accuracy": val, "test_accuracy": test}
        (models_dir / f"{name}.json").write_text(json.dumps(metrics))
    assert registry.best_model_name() == "mlp", "selection must ignore test accuracy"


def test_best_model_defaults_when_nothing_is_cached(models_dir):
    assert registry.best_model_name() == registry.DEFAULT_MODEL


# ---------------------------------------------------------------- command line


def test_cli_train_writes_model_tflite_and_record(tiny_splits, models_dir, monkeypatch, capsys):
    monkeypatch.setattr(data, "load_splits", lambda *a, **k: tiny_splits)
    monkeypatch.setitem(registry.RECIPES, "mlp", TINY_MLP)
    out = models_dir / "custom.keras"
    assert cli.main(["train", "--arch", "mlp", "--epochs", "1", "--out", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".tflite").is_file()
    assert json.loads(out.with_suffix(".json").read_text())["epochs_run"] == 1
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["evaluate", "robustness"])
def test_cli_unknown_model_is_one_line(models_dir, capsys, command):
    assert cli.main([command, "--model", "no-such-model"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: no-such-model: no such model file")
