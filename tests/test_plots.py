"""Tests for helpers.plots: each figure has the panels, images, bars and titles it promises."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from helpers import evaluate as ev
from helpers import plots

RNG = np.random.default_rng(0)
X = RNG.uniform(0, 1, (60, 28, 28)).astype(np.float32)
Y = np.arange(60) % 10
PROBS = RNG.dirichlet(np.full(10, 0.3), 60)
PRED = PROBS.argmax(axis=1)
PNG = b"\x89PNG\r\n\x1a\n"


def _titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def _bars(ax) -> list:
    return [p for p in ax.patches if p.get_height() != 0 or p.get_width() != 0]


def _all_figures() -> dict[str, Figure]:
    cm = ev.confusion_matrix(Y, PRED)
    return {
        "sample_grid": plots.sample_grid(X[:7], Y[:7], predictions=PRED[:7]),
        "samples_per_class": plots.samples_per_class(X, Y, n=3),
        "class_means": plots.class_means(X, Y),
        "pixel_histogram": plots.pixel_histogram(X),
        "training_curves": plots.training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}),
        "comparison_bar": plots.comparison_bar(pd.Series({"a": 0.9, "b": 0.95})),
        "augmentation_grid": plots.augmentation_grid(X[:2], [X[2:4]]),
        "confusion_heatmap": plots.confusion_heatmap(cm),
        "confusion_difference": plots.confusion_difference(cm, cm.T),
        "confidence_histogram": plots.confidence_histogram(PROBS.max(1), PRED == Y),
        "reliability_diagram": plots.reliability_diagram(ev.reliability_bins(Y, PROBS)),
        "rejection_chart": plots.rejection_chart(ev.rejection_curve(Y, PROBS)),
        "robustness_chart": plots.robustness_chart(pd.DataFrame({"m": [0.9, 0.5]}, ["a", "b"])),
        "probability_bars": plots.probability_bars(PROBS[:2]),
        "first_steps": plots.first_steps([2.3, 1.0, 0.5, 0.4], [1e-3, 5e-4, 1e-4, 1e-5], 2),
        "signed_images": plots.signed_images(RNG.normal(size=(5, 3, 3)), ncols=4),
        "embedding_map": plots.embedding_map(RNG.normal(size=(60, 2)), Y, PRED != Y),
        "history_panels": plots.history_panels(
            {"a": {"r": {"loss": [1.0, 0.5], "val_accuracy": [0.9, 0.95]}}}),
        "drawing_readings": plots.drawing_readings(
            [np.full((50, 100), 255, np.uint8)] * 2, ["one", "two"],
            [[("m", X[:1], "1"), ("n", X[:2], "12")], [("m", X[:1], "3")]]),
    }


def test_photo_panels_render_as_jpeg_only_and_smaller_than_png():
    rng = np.random.default_rng(0)
    grain = rng.integers(150, 230, (400, 600, 3), dtype=np.uint8)  # a photo's paper grain
    fig, axes = plots.panels(1, 1, figsize=(6, 4), photo=True)
    axes[0, 0].imshow(grain)
    assert fig.dpi == plots.DPI
    assert fig._repr_png_() is None, "IPython must store one image, the JPEG"
    jpeg = fig._repr_jpeg_()
    assert jpeg[:3] == b"\xff\xd8\xff"
    png_fig, png_axes = plots.panels(1, 1, figsize=(6, 4))
    png_axes[0, 0].imshow(grain)
    assert len(jpeg) < len(png_fig._repr_png_()) / 2


def test_every_figure_renders_headless_without_pyplot():
    before = plt.get_fignums()
    figures = _all_figures()
    for name, fig in figures.items():
        assert isinstance(fig, Figure), name
        assert fig.dpi == plots.DPI, name
        w, h = fig.get_size_inches()
        assert w <= 12 and h <= 10, f"{name} is {w}x{h} inches"
        # What a notebook shows (through savefig), even when no matplotlib backend was set up.
        assert fig._repr_png_()[:8] == PNG, name
    # Nothing registered with pyplot: no plt.show needed, nothing leaks in loops.
    assert plt.get_fignums() == before


def test_sample_grid_one_image_per_digit_and_red_mistakes():
    labels = np.array([1, 2, 3, 4, 5, 6, 7])
    preds = np.array([1, 2, 8, 4, 5, 6, 7])
    conf = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.999, 0.99996])
    fig = plots.sample_grid(X[:7], labels, predictions=preds, confidences=conf, ncols=5, title="T")
    assert len(fig.axes) == 7  # unused cells of the 2×5 grid are removed
    assert all(len(ax.images) == 1 for ax in fig.axes)
    titles = _titles(fig)
    assert titles[2].startswith("3→8") and titles[0].startswith("1→1")
    assert titles[0].endswith("\n50%")
    assert titles[6].endswith("\n99.99%")  # a sure mistake must not read "100%"
    assert fig.axes[2].title.get_color() == plots.WRONG
    assert fig.axes[0].title.get_color() == "black"
    assert fig.get_suptitle() == "T"


def test_sample_grid_labels_only():
    fig = plots.sample_grid(X[:3], [7, 8, 9])
    assert _titles(fig) == ["7", "8", "9"]


def test_samples_per_class_rows_are_digits():
    fig = plots.samples_per_class(X, Y, n=4)
    assert len(fig.axes) == 40
    assert [fig.axes[4 * d].get_ylabel() for d in range(10)] == [str(d) for d in range(10)]
    assert sum(len(ax.images) for ax in fig.axes) == 40


def test_class_means_show_each_class_average():
    fig = plots.class_means(X, Y)
    assert len(fig.axes) == 10
    np.testing.assert_allclose(fig.axes[3].images[0].get_array(), X[Y == 3].mean(axis=0), rtol=1e-6)
    assert fig.axes[3].get_title().startswith("3")


def test_pixel_histogram_reports_share_of_zero_pixels():
    x = np.zeros((4, 28, 28), np.float32)
    x[:, :14] = 0.5  # half the pixels are ink
    fig = plots.pixel_histogram(x, bins=10)
    assert len(fig.axes) == 1 and "50%" in fig.axes[0].get_title()


def test_training_curves_loss_and_accuracy_train_vs_val():
    history = {
        "loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.9],
        "accuracy": [0.7, 0.8, 0.9], "val_accuracy": [0.6, 0.85, 0.8],
    }
    fig = plots.training_curves(history)
    assert _titles(fig) == ["loss", "accuracy"]
    loss_ax, acc_ax = fig.axes
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), history["val_accuracy"])
    labels = [t.get_text() for t in acc_ax.get_legend().get_texts()]
    assert labels == ["train", "validation", "best epoch 2"]

    class History:  # what model.fit returns
        pass

    h = History()
    h.history = {"loss": [1.0, 0.5]}
    assert _titles(plots.training_curves(h)) == ["loss"]


def test_training_curves_rejects_non_history():
    with pytest.raises(ValueError, match="'loss'"):
        plots.training_curves({"accuracy": [0.5]})


def test_comparison_bar_one_bar_per_cell_with_values():
    df = pd.DataFrame({"val": [0.97, 0.985], "test": [0.968, 0.982]}, index=["mlp", "mlp-aug"])
    fig = plots.comparison_bar(df, title="Models", ylim=(0.9, 1.0))
    ax = fig.axes[0]
    heights = sorted(p.get_height() for p in _bars(ax))
    np.testing.assert_allclose(heights, sorted(df.to_numpy().ravel()))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["mlp", "mlp-aug"]
    assert "98.50%" in [t.get_text() for t in ax.texts]
    lo, hi = ax.get_ylim()
    assert ax.get_title() == "Models" and lo == 0.9 and 1.0 < hi <= 1.01, "room above 1.0 for the labels"
    legend = ax.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["val", "test"]


def test_first_steps_loss_per_batch_with_epoch_marks_and_the_whole_schedule():
    fig = plots.first_steps(np.linspace(2.3, 0.1, 50), np.linspace(1e-3, 1e-5, 200), 20)
    left, right = fig.axes
    one_batch, running = left.get_lines()[:2]
    assert len(one_batch.get_xdata()) == 50 and len(running.get_xdata()) < 50
    marks = [line for line in left.get_lines()[2:] if line.get_linestyle() == ":"]
    assert [m.get_xdata()[0] for m in marks] == [20, 40]  # the ends of epochs 1 and 2
    assert right.get_lines()[0].get_xdata()[-1] == pytest.approx(199 / 20)  # epochs, not steps
    assert left.get_yscale() == "log"


def test_history_panels_one_line_per_run_rows_per_key_shared_scales():
    runs = {"a": {"x": {"loss": [1.0, 0.5], "val_accuracy": [0.9, 0.95]},
                  "y": {"loss": [2.0, 1.0], "val_accuracy": [0.8, 0.9]}},
            "b": {"x": {"loss": [0.3, 0.2], "val_accuracy": [0.97, 0.98]}}}
    fig = plots.history_panels(runs)
    assert len(fig.axes) == 4 and [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"]
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 1, 2, 1]
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()  # a row compares at a glance
    assert fig.axes[0].get_ylabel().startswith("training loss") and fig.axes[2].get_yscale() == "linear"


def test_signed_images_share_one_scale_centred_on_zero():
    w = np.stack([np.full((3, 3), 0.5), np.full((3, 3), -2.0), np.eye(3)])
    fig = plots.signed_images(w, ncols=2)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    assert all(im.get_clim() == (-2.0, 2.0) for im in images)  # ±largest magnitude, sign kept
    assert images[0].get_cmap().name == "RdBu_r"


def test_embedding_map_colours_each_digit_and_rings_the_mistakes():
    points = np.column_stack([np.arange(20.0), np.arange(20.0) % 3])
    labels = np.repeat([0, 1], 10)
    wrong = np.zeros(20, dtype=bool)
    wrong[[3, 15]] = True
    ax = plots.embedding_map(points, labels, wrong).axes[0]
    assert [len(c.get_offsets()) for c in ax.collections] == [10, 10, 2]
    assert {t.get_text() for t in ax.texts} == {"0", "1"}
    assert "misread (2)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_augmentation_grid_rows_and_columns():
    fig = plots.augmentation_grid(X[:3], {"shift": X[3:6], "rotate": X[6:9]})
    assert len(fig.axes) == 9
    assert _titles(fig)[:3] == ["original", "shift", "rotate"]
    np.testing.assert_array_equal(fig.axes[5].images[0].get_array(), X[7])  # row 1, "rotate"
    with pytest.raises(ValueError, match="shape"):
        plots.augmentation_grid(X[:3], [X[:2]])


def test_confusion_heatmap_counts_and_percentages():
    cm = np.diag(np.full(10, 90))
    cm[4, 9] = 10
    fig = plots.confusion_heatmap(cm, title="mlp")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "90" in texts and "10" in texts and "0" not in texts  # zero cells blank
    assert ax.get_title() == "mlp"
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(d) for d in range(10)]

    norm = plots.confusion_heatmap(cm, normalize=True).axes[0]
    assert {"90.0", "10.0", "100.0"} <= {t.get_text() for t in norm.texts}


def test_confusion_heatmap_mistakes_only_leaves_the_diagonal_out_of_the_colour_scale():
    cm = np.diag([980, 1130, 1000]).astype(int)
    cm[0, 1], cm[2, 1] = 3, 7
    ax = plots.confusion_heatmap(cm, mistakes_only=True).axes[0]
    assert ax.collections[0].get_clim() == (0, 7)  # the largest mistake, not 1130
    texts = {t.get_text() for t in ax.texts}
    assert {"980", "1130", "1000", "3", "7"} <= texts
    grey = [t.get_text() for t in ax.texts if t.get_color() == "0.45"]
    assert sorted(grey) == ["1000", "1130", "980"]
    norm = plots.confusion_heatmap(cm, normalize=True, mistakes_only=True).axes[0]
    assert norm.collections[0].get_clim()[1] == pytest.approx(7 / 1007)


def test_confusion_heatmap_draws_into_given_axes():
    fig, axes = plots.panels(1, 2)
    assert axes.shape == (1, 2)
    left, right = axes[0]
    assert plots.confusion_heatmap(np.eye(10), ax=right, title="B") is fig
    assert right.get_title() == "B" and left.get_title() == ""


def test_confusion_difference_is_centred_diverging():
    a = np.diag(np.full(10, 100))
    b = a.copy()
    b[3, 3], b[3, 5] = 90, 10
    fig = plots.confusion_difference(a, b, names=("mlp", "mlp-aug"))
    ax = fig.axes[0]
    mesh = ax.collections[0]
    low, mid, high = mesh.cmap(0.0), mesh.cmap(0.5), mesh.cmap(1.0)
    assert low[2] > low[0] and high[0] > high[2]  # blue below zero, red above
    assert min(mid[:3]) > 0.9  # white at zero
    assert mesh.norm.vmin == pytest.approx(-mesh.norm.vmax)
    assert {"-10.0", "10.0"} <= {t.get_text() for t in ax.texts}
    assert "mlp-aug − mlp" in ax.get_title()
    with pytest.raises(ValueError, match="same shape"):
        plots.confusion_difference(a, a[:5, :5])


def test_confidence_histogram_right_and_wrong():
    conf = np.array([0.99, 0.95, 0.6, 0.4])
    fig = plots.confidence_histogram(conf, [True, True, False, True])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["right (n=3)", "wrong (n=1)"]


def test_reliability_diagram_bars_per_filled_bin_and_ece_in_title():
    bins = ev.reliability_bins(Y, PROBS, n_bins=10)
    fig = plots.reliability_diagram(bins, ece=0.0123)
    ax = fig.axes[0]
    filled = bins[bins["count"] > 0]
    assert len(ax.patches) == 2 * len(filled)  # accuracy + gap per bin
    assert [t.get_text() for t in ax.texts] == [str(n) for n in filled["count"]]
    assert "1.23%" in ax.get_title()
    with pytest.raises(ValueError, match="reliability_bins"):
        plots.reliability_diagram(pd.DataFrame({"x": [1]}))


def test_rejection_chart_one_line_per_model():
    curves = {"a": ev.rejection_curve(Y, PROBS), "b": ev.rejection_curve(Y, PROBS ** 2)}
    ax = plots.rejection_chart(curves).axes[0]
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    kept = curves["a"].dropna()
    np.testing.assert_allclose(ax.lines[0].get_xdata(), 100 * kept["rejected"])


def test_robustness_chart_grouped_bars():
    df = pd.DataFrame(
        {"mlp": [0.98, 0.6, 0.8], "mlp-aug": [0.985, 0.9, 0.95]},
        index=pd.Index(["clean", "shift-2", "rotate-15"], name="perturbation"),
    )
    ax = plots.robustness_chart(df).axes[0]
    assert len(_bars(ax)) == 6
    assert [t.get_text() for t in ax.get_yticklabels()] == ["clean", "shift-2", "rotate-15"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mlp", "mlp-aug"]


def test_probability_bars_ten_bars_per_digit():
    fig = plots.probability_bars(PROBS[:3], X[:3], labels=Y[:3])
    assert len(fig.axes) == 6  # image above bars for each digit
    bar_axes = [ax for ax in fig.axes if not ax.images]
    assert [len(ax.patches) for ax in bar_axes] == [10, 10, 10]
    for ax, p, y in zip(bar_axes, PROBS[:3], Y[:3], strict=True):
        np.testing.assert_allclose([b.get_height() for b in ax.patches], p)
        assert ax.get_title().startswith(f"pred {p.argmax()}") and f"true {y}" in ax.get_title()
        assert ax.get_xticklabels()[y].get_color() == plots.RIGHT
    assert len(plots.probability_bars(PROBS[:4]).axes) == 4


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plots.sample_grid(X[:3], [1, 2]), "labels"),
        (lambda: plots.sample_grid(np.zeros((3, 784)), None), "shape"),
        (lambda: plots.confusion_heatmap(np.ones((3, 4))), "square"),
        (lambda: plots.comparison_bar(pd.DataFrame()), "non-empty"),
        (lambda: plots.probability_bars(PROBS[:2], X[:3]), "images"),
        (lambda: plots.first_steps([], [1e-3], 1), "non-empty"),
        (lambda: plots.signed_images(np.zeros((3, 9))), "height"),
        (lambda: plots.embedding_map(np.zeros((5, 3)), np.zeros(5)), "points"),
        (lambda: plots.embedding_map(np.zeros((5, 2)), np.zeros(5), [True]), "wrong"),
        (lambda: plots.history_panels({"a": {"r": {"loss": [1.0]}}}), "val_accuracy"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_package_exports_every_figure_function():
    # The notebooks call these as `plots.<name>`; the package must keep them at the top level.
    names = {
        "panels", "sample_grid", "samples_per_class", "class_means", "pixel_histogram",
        "augmentation_grid", "probability_bars", "training_curves", "comparison_bar",
        "confusion_heatmap", "confusion_difference", "confidence_histogram",
        "reliability_diagram", "rejection_chart", "robustness_chart", "first_steps", "history_panels",
        "signed_images", "embedding_map", "PlotFigure", "DPI", "IMAGE_CMAP", "RIGHT", "WRONG",
    }
    assert names <= set(plots.__all__)
    assert all(hasattr(plots, name) for name in plots.__all__)
    assert not hasattr(plots, "rejection_curve")  # that name is the table in helpers.evaluate


def test_styled_tables_have_a_plain_text_form_in_ipython():
    """A styled table's plain form shows its formatted numbers, not "<Styler at 0x…>"."""
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        plots.show_tables_as_text()
        styled = pd.DataFrame({"accuracy": [0.98765]}, index=["mlp"]).style.format("{:.2%}")
        data, _ = shell.display_formatter.format(styled)
        assert "98.77%" in data["text/plain"] and "Styler at" not in data["text/plain"]
    finally:
        InteractiveShell.clear_instance()


def test_drawing_readings_one_row_per_drawing_and_one_strip_per_model():
    canvas = np.full((50, 100), 255, np.uint8)
    fig = plots.drawing_readings([canvas, canvas], ["one", "two"],
                                 [[("m", X[:1], "1"), ("n", X[:2], "12")], [("m", X[:1], "3")]])
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["one", "m: 1", "n: 12", "two", "m: 3"]
    assert shown[2].images[0].get_array().shape == (28, 56)  # two digits side by side
    with pytest.raises(ValueError, match="as many drawings"):
        plots.drawing_readings([canvas], ["a", "b"], [[]])
