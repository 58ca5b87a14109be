"""Tests for helpers.evaluate on small hand-made cases with known answers."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from scipy.stats import binomtest

from helpers import evaluate as ev
from helpers import perturb

# Six examples over classes 0..2: two mistakes (a 0 called 1, a 1 called 0).
Y_TRUE = np.array([0, 0, 1, 1, 1, 2])
Y_PRED = np.array([0, 1, 1, 1, 0, 2])


def _probs_for(pred: np.ndarray, conf: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Rows whose top class is `pred` with probability `conf`, the rest spread evenly."""
    rest = (1 - conf) / (n_classes - 1)
    p = np.repeat(rest[:, None], n_classes, axis=1)
    p[np.arange(len(pred)), pred] = conf
    return p


# ---------------------------------------------------------------- accuracy and CI


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(50, 100, 0.4038, 0.5962), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0)],
)
def test_wilson_interval_known_values(k, n, low, high):
    got = ev.wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)


@pytest.mark.parametrize(("k", "n", "level"), [(9_850, 10_000, 0.95), (3, 7, 0.9), (1, 50, 0.99)])
def test_wilson_interval_matches_scipy(k, n, level):
    ref = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    assert ev.wilson_interval(k, n, level) == pytest.approx((ref.low, ref.high), abs=1e-9)


def test_accuracy_ci_counts_correct_predictions():
    acc = ev.accuracy_ci(Y_TRUE, Y_PRED)
    assert acc.accuracy == pytest.approx(4 / 6)
    assert acc.n == 6
    assert (acc.low, acc.high) == pytest.approx(ev.wilson_interval(4, 6))
    assert acc.low < acc.accuracy < acc.high
    assert "66.67%" in str(acc) and "95% CI" in str(acc)


def test_accuracy_ci_narrows_with_more_examples():
    small = ev.accuracy_ci(np.zeros(100, int), np.r_[np.zeros(98, int), [1, 1]])
    large = ev.accuracy_ci(np.zeros(10_000, int), np.r_[np.zeros(9_800, int), np.ones(200, int)])
    assert small.accuracy == large.accuracy == pytest.approx(0.98)
    assert large.high - large.low < (small.high - small.low) / 5


# ---------------------------------------------------------------- confusions


def test_confusion_matrix_counts_and_normalized_rows():
    cm = ev.confusion_matrix(Y_TRUE, Y_PRED)
    assert cm.shape == (10, 10)
    np.testing.assert_array_equal(cm[:3, :3], [[1, 1, 0], [1, 2, 0], [0, 0, 1]])
    assert cm.sum() == 6 and cm[3:].sum() == 0
    norm = ev.confusion_matrix(Y_TRUE, Y_PRED, normalize=True)
    np.testing.assert_allclose(norm[:3, :3], [[1 / 2, 1 / 2, 0], [1 / 3, 2 / 3, 0], [0, 0, 1]])
    np.testing.assert_array_equal(norm[3:], 0)  # absent classes: zeros, not NaN


def test_per_class_metrics_known_values_and_sorting():
    df = ev.per_class_metrics(Y_TRUE, Y_PRED)
    assert list(df.columns) == ["precision", "recall", "f1", "support"]
    assert df.index.name == "digit" and len(df) == 10
    np.testing.assert_allclose(df.loc[[0, 1, 2], "precision"], [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(df.loc[[0, 1, 2], "recall"], [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(df.loc[[0, 1, 2], "f1"], [1 / 2, 2 / 3, 1])
    assert df["support"].tolist() == [2, 3, 1] + [0] * 7
    present = df[df["support"] > 0].sort_values("f1")
    assert present.index.tolist() == [0, 1, 2]


def test_confused_pairs_sorted_by_count_then_share():
    y_true = np.array([4] * 10 + [7] * 5 + [3] * 4)
    y_pred = np.array([9, 9, 9] + [4] * 7 + [1, 1, 1] + [7] * 2 + [5, 8] + [3] * 2)
    pairs = ev.confused_pairs(y_true, y_pred)
    assert list(pairs.columns) == ["true", "predicted", "count", "share"]
    # 4→9 and 7→1 both happen 3 times; 7→1 is 3/5 of all 7s, 4→9 only 3/10 of the 4s.
    assert pairs[["true", "predicted", "count"]].values.tolist() == [
        [7, 1, 3], [4, 9, 3], [3, 5, 1], [3, 8, 1],
    ]
    np.testing.assert_allclose(pairs["share"], [3 / 5, 3 / 10, 1 / 4, 1 / 4])
    assert len(ev.confused_pairs(y_true, y_pred, top=2)) == 2


def test_confused_pairs_empty_when_all_correct():
    assert ev.confused_pairs(Y_TRUE, Y_TRUE).empty


def test_misclassified_most_confident_first():
    y = np.array([0, 1, 2, 3, 4])
    pred = np.array([0, 2, 2, 4, 0])  # wrong at 1, 3, 4
    conf = np.array([0.99, 0.6, 0.9, 0.95, 0.8])
    np.testing.assert_array_equal(ev.misclassified(y, _probs_for(pred, conf)), [3, 4, 1])


# ---------------------------------------------------------------- calibration


def test_ece_zero_for_perfectly_calibrated_toy():
    # Confidence 0.8 and 8 of 10 right; confidence 0.6 and 3 of 5 right.
    y = np.zeros(15, int)
    pred = np.array([0] * 8 + [1] * 2 + [0] * 3 + [1] * 2)
    conf = np.array([0.8] * 10 + [0.6] * 5)
    assert ev.expected_calibration_error(y, _probs_for(pred, conf)) == pytest.approx(0, abs=1e-12)


def test_ece_of_overconfident_toy():
    # Always 90% sure, right half the time: off by 0.4.
    y = np.zeros(100, int)
    pred = np.r_[np.zeros(50, int), np.ones(50, int)]
    probs = _probs_for(pred, np.full(100, 0.9))
    assert ev.expected_calibration_error(y, probs) == pytest.approx(0.4)


def test_ece_weights_bins_by_count():
    # 30 at conf 0.95, all right (gap 0.05); 10 at conf 0.55, none right (gap 0.55).
    y = np.zeros(40, int)
    pred = np.r_[np.zeros(30, int), np.ones(10, int)]
    conf = np.r_[np.full(30, 0.95), np.full(10, 0.55)]
    expected = 0.75 * 0.05 + 0.25 * 0.55
    assert ev.expected_calibration_error(y, _probs_for(pred, conf)) == pytest.approx(expected)


def test_reliability_bins_columns_counts_and_empty_bins():
    y = np.zeros(40, int)
    pred = np.r_[np.zeros(30, int), np.ones(10, int)]
    conf = np.r_[np.full(30, 0.95), np.full(10, 0.55)]
    bins = ev.reliability_bins(y, _probs_for(pred, conf), n_bins=10)
    assert list(bins.columns) == ["lower", "upper", "confidence", "accuracy", "count"]
    assert len(bins) == 10 and bins["count"].sum() == 40
    assert bins.loc[9, "count"] == 30 and bins.loc[9, "accuracy"] == 1.0
    assert bins.loc[5, "count"] == 10 and bins.loc[5, "confidence"] == pytest.approx(0.55)
    assert bins.loc[0, "count"] == 0 and np.isnan(bins.loc[0, "accuracy"])


def test_confidence_exactly_one_lands_in_last_bin():
    probs = np.eye(10)[[3, 3]]
    bins = ev.reliability_bins([3, 4], probs, n_bins=5)
    assert bins["count"].tolist() == [0, 0, 0, 0, 2]


def test_rejection_curve_monotone_and_reaches_perfect_accuracy():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 200)
    conf = rng.uniform(0.3, 1.0, 200)
    pred = np.where(conf > 0.7, y, (y + 1) % 10)  # every mistake is unsure
    curve = ev.rejection_curve(y, _probs_for(pred, conf), thresholds=np.linspace(0, 1, 21))
    assert list(curve.columns) == ["threshold", "rejected", "accepted", "accuracy"]
    assert curve["rejected"].is_monotonic_increasing
    assert curve["accepted"].is_monotonic_decreasing
    assert curve["rejected"].iloc[0] == 0
    assert curve["accuracy"].iloc[0] == pytest.approx(np.mean(pred == y))
    accepted = curve.dropna()
    assert accepted["accuracy"].is_monotonic_increasing
    assert accepted.loc[accepted["threshold"] > 0.7, "accuracy"].eq(1.0).all()
    assert np.isnan(curve["accuracy"].iloc[-1])  # threshold 1.0: nothing left to judge


def test_rejection_curve_default_thresholds_sorted():
    probs = _probs_for(np.array([0, 1]), np.array([0.9, 0.999]))
    curve = ev.rejection_curve([0, 0], probs)
    assert curve["threshold"].is_monotonic_increasing
    assert curve.loc[curve["threshold"] == 0.95, "accuracy"].item() == 0.0


# ---------------------------------------------------------------- summaries


def test_summarize_is_json_serializable_and_consistent():
    probs = _probs_for(Y_PRED, np.array([0.9, 0.6, 0.8, 0.95, 0.7, 0.99]))
    summary = ev.summarize(Y_TRUE, probs)
    back = json.loads(json.dumps(summary))
    assert back["accuracy"] == pytest.approx(4 / 6)
    assert back["ci95"] == pytest.approx(list(ev.wilson_interval(4, 6)))
    assert back["errors"] == 2
    assert back["per_class"]["1"]["support"] == 3
    assert back["top_confusions"][0] == {"true": 0, "predicted": 1, "count": 1, "share": 0.5}
    assert back["ece"] == pytest.approx(ev.expected_calibration_error(Y_TRUE, probs))


class _Lookup:
    """A fake model: predicts from a table keyed by 10 × the first pixel of each image."""

    def __init__(self, table: dict[int, int]) -> None:
        self.table = table

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.eye(10)[[self.table[round(10 * float(v))] for v in x[:, 0, 0]]]


def _fake_predict(model: _Lookup, x: np.ndarray) -> np.ndarray:
    return model(x)


def test_evaluate_model_and_robustness_table_with_injected_predict():
    y = np.array([0, 1, 2, 3])
    clean = np.zeros((4, 28, 28), np.float32)
    clean[:, 0, 0] = [0.0, 0.1, 0.2, 0.3]
    dark = np.zeros_like(clean)  # a "perturbation" that hides the cue: all look like 0
    perfect = _Lookup({0: 0, 1: 1, 2: 2, 3: 3})
    wrong = _Lookup({0: 9, 1: 9, 2: 9, 3: 3})

    summary = ev.evaluate_model(perfect, clean, y, predict=_fake_predict)
    assert summary["accuracy"] == 1.0 and summary["errors"] == 0

    table = ev.robustness_table(
        {"perfect": perfect, "wrong": wrong}, {"clean": clean, "dark": dark}, y,
        predict=_fake_predict,
    )
    assert table.index.tolist() == ["clean", "dark"]
    assert table.columns.tolist() == ["perfect", "wrong"]
    assert table.loc["clean", "perfect"] == 1.0
    assert table.loc["dark", "perfect"] == 0.25
    assert table.loc["clean", "wrong"] == 0.25
    assert table.loc["dark", "wrong"] == 0.0


def test_robustness_table_with_a_keras_model_and_default_predict():
    import keras  # deferred: TensorFlow takes seconds to import

    from helpers import inference

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (32, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    expected = float(np.mean(model.predict(x, verbose=0).argmax(1) == y))
    table = ev.robustness_table({"tiny": model}, {"clean": x, "flipped": x[:, ::-1]}, y)
    assert table.loc["clean", "tiny"] == pytest.approx(expected)
    assert ev.evaluate_model(model, x, y)["accuracy"] == pytest.approx(expected)
    assert inference.predict_proba(model, x).shape == (32, 10)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ev.accuracy_ci([0, 1], [0]), "same length"),
        (lambda: ev.accuracy_ci([[0, 1]], [[0, 1]]), "1-D"),
        (lambda: ev.accuracy_ci([0, 12], [0, 1]), r"0\.\.9"),
        (lambda: ev.accuracy_ci([0.5, 1], [0, 1]), "integer"),
        (lambda: ev.accuracy_ci([], []), "at least one"),
        (lambda: ev.expected_calibration_error([0, 1], np.ones(10) / 10), "shape"),
        (lambda: ev.expected_calibration_error([0], np.full((1, 10), 2.0)), r"\[0, 1\]"),
        (lambda: ev.reliability_bins([0], np.eye(10)[[1, 2]]), "1 labels but probs has 2"),
        (lambda: ev.wilson_interval(5, 0), "positive"),
        (lambda: ev.wilson_interval(1, 2, level=95), "level"),
        (lambda: ev.robustness_table({}, {"clean": np.zeros((1, 28, 28))}, [0]), "models"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- command line


def test_cli_evaluate_and_robustness_write_and_print(tmp_path, monkeypatch, capsys):
    import keras

    from helpers import cli, data

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (40, 28, 28)).astype(np.float32)
    y = np.arange(40) % 10
    splits = data.Splits(x, y, x, y, x, y)
    monkeypatch.setattr(data, "load_splits", lambda *a, **k: splits)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    path = tmp_path / "tiny.keras"
    model.save(path)
    out = tmp_path / "run"

    assert cli.main(["evaluate", "--model", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "95% CI" in printed and "precision" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    expected = float(np.mean(model.predict(x, verbose=0).argmax(1) == y))
    assert metrics["accuracy"] == pytest.approx(expected) and metrics["n"] == 40
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(out.glob("*.tmp"))  # written through temp files, none left over

    assert cli.main(["robustness", "--model", str(path)]) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in ["clean", "shift-2", "combined"])

    # --split val perturbs the validation images: here they differ from the test images.
    val = dataclasses.replace(splits, x_val=x[:, ::-1], y_val=(y + 1) % 10)
    monkeypatch.setattr(data, "load_splits", lambda *a, **k: val)
    record_path = tmp_path / "robust.json"
    assert cli.main(["robustness", "--model", str(path), "--split", "val", "--json", str(record_path)]) == 0
    assert "validation accuracy" in capsys.readouterr().out
    record = json.loads(record_path.read_text())
    expected = float(np.mean(model.predict(val.x_val, verbose=0).argmax(1) == val.y_val))
    assert record["split"] == "val" and record["accuracy"]["clean"] == pytest.approx(expected)
    assert set(record["accuracy"]) == {"clean", *perturb.SUITE}


@pytest.mark.parametrize("command", ["evaluate", "robustness"])
def test_cli_unknown_model_is_a_one_line_error(command, capsys):
    from helpers import cli

    assert cli.main([command, "--model", "no-such-model"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "no-such-model" in err and "\n" not in err
