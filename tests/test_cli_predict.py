"""The command line's `predict` and `evaluate-external`, and the checks that need trained models.

Plumbing tests use a tiny model trained in seconds (Keras and LiteRT files, as `train`
writes them). Tests marked `slow` use the project's cached models (trained on first use).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from support import SAMPLES, draw, needs_external, save

from helpers import cli, data, external_sets, inference, model_cache, photo, registry
from helpers.configs import MLPConfig, TrainConfig
from helpers.data import REPO_ROOT
from helpers.registry import Recipe


@pytest.fixture(scope="session")
def tiny_model(tiny_splits, tmp_path_factory) -> Path:
    """A small MLP trained for one epoch on synthetic data, saved as `train` saves models."""
    recipe = Recipe("tiny", MLPConfig(hidden=(16,)), TrainConfig(epochs=1, batch_size=32))
    path = tmp_path_factory.mktemp("tiny") / "tiny.keras"
    model_cache.train(recipe, splits=tiny_splits, verbose=False, out=path)
    return path


def test_cli_predict_missing_file_and_good_file(tmp_path, tiny_model, capsys):
    good = save(np.hstack([draw("3"), draw("8")]), tmp_path / "good.png")
    missing = tmp_path / "missing.png"
    rc = cli.main(["predict", str(missing), str(good), "--model", str(tiny_model)])
    out, err = capsys.readouterr()
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "no such file" in lines[0]
    assert str(good) in out and "2 digits read" in out


def test_cli_predict_json_parses(tmp_path, tiny_model, capsys):
    good = save(draw("5"), tmp_path / "five.jpg")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    blank = save(np.full((200, 200, 3), 255, np.uint8), tmp_path / "blank.png")
    rc = cli.main(["predict", str(good), str(empty), str(blank), "--json", "--model", str(tiny_model)])
    out, err = capsys.readouterr()
    assert rc == 1 and str(empty) in err
    records = json.loads(out)
    assert [r["image"] for r in records] == [str(good), str(empty), str(blank)]
    d = records[0]["digits"][0]
    assert set(d) == {"label", "probability", "top3", "bbox", "low_confidence", "row"}
    assert len(d["bbox"]) == 4 and len(d["top3"]) == 3
    assert "error" in records[1] and records[2]["digits"] == []


def test_cli_predict_annotate_writes_files(tmp_path, tiny_model, capsys):
    (tmp_path / "a").mkdir()
    a = save(draw("1"), tmp_path / "a" / "x.png")
    b = save(draw("2"), tmp_path / "x.jpg")
    out_dir = tmp_path / "annotated"
    rc = cli.main(["predict", str(a), str(b), "--annotate", str(out_dir), "--model", str(tiny_model)])
    assert rc == 0
    written = sorted(p.name for p in out_dir.iterdir())
    assert written == ["x.2.annotated.png", "x.annotated.png"]  # same stem: no overwrite
    for name in written:
        assert cv2.imread(str(out_dir / name)).shape[:2] == (300, 300)
    assert "annotated copy" in capsys.readouterr().out


def test_cli_predict_threshold_flags_digits_below_it(tmp_path, tiny_model, capsys):
    good = save(np.hstack([draw("3"), draw("8")]), tmp_path / "two.png")
    records = {}
    for threshold in ("0", "1.01"):
        args = ["predict", str(good), "--json", "--threshold", threshold, "--model", str(tiny_model)]
        assert cli.main(args) == 0
        records[threshold] = json.loads(capsys.readouterr().out)[0]
    assert [d["low_confidence"] for d in records["0"]["digits"]] == [False, False]
    assert [d["low_confidence"] for d in records["1.01"]["digits"]] == [True, True], "no probability is > 1"
    assert "2 with low confidence (< 101%)" in records["1.01"]["message"]
    assert cli.main(["predict", str(good), "--threshold", "1.01", "--model", str(tiny_model)]) == 0
    assert capsys.readouterr().out.count("LOW CONFIDENCE") == 2


def test_cli_predict_single_reads_one_digit_per_image(tmp_path, tiny_model, capsys):
    # A digit with a far-off speck: default mode may see two things, single mode one digit.
    img = draw("6", size=(400, 300))
    cv2.circle(img, (380, 20), 6, (20, 20, 20), -1)
    path = save(img, tmp_path / "six.png")
    pair = save(np.hstack([draw("3"), draw("8")]), tmp_path / "pair.png")
    assert cli.main(["predict", str(path), str(pair), "--single", "--json", "--model", str(tiny_model)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [len(r["digits"]) for r in records] == [1, 1]
    x, y, w, h = records[0]["digits"][0]["bbox"]
    assert x + w < 370, "the speck is not part of the digit"
    assert cli.main(["predict", str(pair), "--json", "--model", str(tiny_model)]) == 0
    assert len(json.loads(capsys.readouterr().out)[0]["digits"]) == 2, "without --single: both digits"


def test_cli_predict_all_bad_files_never_loads_a_model(tmp_path, capsys):
    rc = cli.main(["predict", str(tmp_path / "nope.png"), "--model", "no-such-model"])
    err = capsys.readouterr().err
    assert rc == 1 and "nope.png" in err
    assert "no-such-model" not in err, "the model is never looked up when no image has digits"


def test_cli_predict_unwritable_annotate_folder_is_one_line(tmp_path, tiny_model, capsys):
    good = save(draw("5"), tmp_path / "five.png")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    rc = cli.main(["predict", str(good), "--annotate", str(blocker / "out"), "--model", str(tiny_model)])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


def test_cli_train_refuses_a_bad_out_name_before_training(models_dir, capsys):
    assert cli.main(["train", "--arch", "mlp", "--out", str(models_dir / "model.h5")]) == 1
    assert capsys.readouterr().err == f"error: {models_dir / 'model.h5'}: model files must end in .keras\n"
    assert list(models_dir.iterdir()) == []


def test_litert_is_used_only_when_the_tflite_is_as_new_as_the_keras_file(tiny_model):
    assert isinstance(inference.load_model(tiny_model, runtime="litert"), inference.LiteModel)
    lite = tiny_model.with_suffix(".tflite")
    stat = lite.stat()
    try:
        os.utime(tiny_model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # .keras saved again later
        model = inference.load_model(tiny_model, runtime="litert")
        assert not isinstance(model, inference.LiteModel) and hasattr(model, "layers"), "Keras, not LiteRT"
    finally:
        os.utime(tiny_model, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_cli_evaluate_external_without_the_folder(tmp_path, capsys):
    assert cli.main(["evaluate-external", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path) in err and len(err.strip().splitlines()) == 1


def test_cli_predict_cold_start_runs_litert_quietly_without_tensorflow(tmp_path, tiny_model):
    good = save(draw("6"), tmp_path / "six.png")
    code = ("import sys; from helpers import cli; rc = cli.main(['predict', sys.argv[1], '--model', "
            "sys.argv[2]]); assert 'tensorflow' not in sys.modules; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(good), str(tiny_model)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "1 digit read" in proc.stdout
    assert proc.stderr == "", "no runtime log lines (e.g. LiteRT's delegate notice) reach the user"




@pytest.fixture(scope="module")
def default_model():
    name = model_cache.train_series()
    return name, model_cache.get_model(name)


@pytest.mark.slow
def test_litert_matches_keras_for_every_current_cached_model(default_model):
    x = data.load_splits().x_val[:500]
    checked = 0
    for name in registry.RECIPES:
        if registry.is_current(name):
            keras_p = inference.predict_proba(inference.load_model(name), x)
            lite = inference.load_model(name, runtime="litert")
            assert isinstance(lite, inference.LiteModel)
            np.testing.assert_allclose(inference.predict_proba(lite, x), keras_p, atol=1e-5)
            checked += 1
    assert checked >= 1


@pytest.mark.slow
def test_samples_are_read_correctly(default_model):
    _, model = default_model
    expected = {"single.jpg": "7", "multi.jpg": "314159", "chalk.jpg": "5", "ruled.jpg": "207"}
    for name, text in expected.items():
        read = photo.read_digits(SAMPLES / name, model)
        assert read.rows == (["314", "159"] if name == "multi.jpg" else [text]), (name, read.rows)
        got = "".join(read.rows)
        assert sum(a == b for a, b in zip(got, text, strict=True)) >= len(text) - 1, (name, got)


@pytest.mark.slow
@pytest.mark.parametrize("polarity", ["white on black", "black on white"])
def test_mnist_digits_given_as_tiny_pictures_are_read_as_themselves(default_model, polarity):
    """A 28×28 picture is enlarged before it is read; its strokes are then many pixels wide, and
    the paper must be estimated from wider structures than that (they were read as outlines)."""
    _, model = default_model
    s = data.load_splits()
    pictures = [(x * 255).astype(np.uint8) for x in s.x_val[:300]]
    if polarity == "black on white":
        pictures = [255 - p for p in pictures]
    results = photo.read_batch(pictures, model, single=False)
    read = sum(r.text == str(y) for r, y in zip(results, s.y_val[:300], strict=True))
    assert read >= 297, f"{read} of 300 validation digits read as themselves from 28×28 {polarity} pictures"


@pytest.mark.slow
def test_cli_predict_default_model_subprocess(default_model):
    proc = subprocess.run([sys.executable, "-m", "helpers", "predict", str(SAMPLES / "multi.jpg"), "--json"],
                          capture_output=True, text=True, timeout=3600, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)[0]
    assert len(record["digits"]) == 6


#: Floors just under the accuracy measured once the pipeline was finished (never used to
#: tune it): external set 93.3 % with both mlp and mlp-aug, USPS test 95.4 % (mlp) and
#: 96.7 % (mlp-aug). A little slack, as the default model may change (e.g. to cnn-aug).
EXTERNAL_FLOOR = float(os.environ.get("EXTERNAL_ACCURACY_FLOOR", "0.90"))
USPS_FLOOR = 0.94


@pytest.mark.slow
@needs_external
def test_external_accuracy_floor(default_model):
    name, model = default_model
    summary = external_sets.summarize_external(external_sets.evaluate_external(model))
    print(f"\n{name}: {summary}")
    assert summary.accuracy >= EXTERNAL_FLOOR, f"{name}: external accuracy {summary.accuracy:.1%}"


@pytest.mark.slow
@needs_external
def test_usps_accuracy_floor(default_model):
    name, model = default_model
    acc = external_sets.usps_accuracy(model)
    assert acc >= USPS_FLOOR, f"{name}: USPS test accuracy {acc:.1%}"
