"""helpers.drawing and the drawing widget's Python side: strokes → picture → readings; keeping a drawing."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import drawing, registry
from helpers.draw_widget import SURE, DrawWidget

MODELS = registry.SERIES


class ConstantModel:
    """Always answers `digit` with probability `p`."""

    def __init__(self, digit: int, p: float) -> None:
        self.row = np.full(10, (1 - p) / 9, np.float32)
        self.row[digit] = p

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.tile(self.row, (len(x), 1))


SEVEN = drawing.place("7", 160, 30, 160)


def test_render_paints_dark_ink_on_white_where_the_pen_went():
    img = drawing.render([[(10, 10), (90, 10)]], size=(100, 50), brush=6)
    assert img.shape == (50, 100) and img.dtype == np.uint8
    assert img[10, 50] == 0 and img[40, 50] == 255  # on the stroke, far from it
    assert img[10, 8] < 128  # the round pen tip reaches past the end point
    dot = drawing.render([[(50, 25)]], size=(100, 50), brush=10)
    assert dot[25, 50] == 0 and (dot < 128).sum() > 40  # a single tap leaves a dot
    assert (drawing.render([], size=(100, 50)) == 255).all()


def test_place_and_rotate():
    seven = drawing.place("7", 100, 20, 50)
    assert seven == [[(110.0, 26.0), (140.0, 26.0), (121.0, 66.0)]]
    turned = drawing.rotate(seven, 90)
    centre = np.mean([p for s in seven for p in s], axis=0)
    # Clockwise on screen (y down): a point right of the centre moves below it.
    moved = np.array(turned[0][1]) - centre
    before = np.array(seven[0][1]) - centre
    np.testing.assert_allclose(moved, [-before[1], before[0]], atol=1e-9)
    np.testing.assert_allclose(drawing.rotate(seven, 360), seven, atol=1e-9)


def test_empty_canvas_reads_nothing_and_says_so():
    r = drawing.read_drawing([], {"m": ConstantModel(3, 0.99)})
    assert r.state == "empty" and not r.models and "Nothing drawn" in r.message
    assert drawing.read_drawing([[]], {"m": ConstantModel(3, 0.99)}).state == "empty"


def test_filled_blob_is_not_a_digit():
    blob = [[(x, y) for y in range(60, 170, 6) for x in (150, 290)]]  # a pen filling a rectangle
    r = drawing.read_drawing(blob, {"m": ConstantModel(3, 0.99)}, brush=16)
    assert r.state == "not a digit" and not r.models
    assert r.message.startswith("Not a digit: the pipeline set aside")


def test_verdict_needs_agreement_and_certainty():
    sure = {"a": ConstantModel(7, 0.99), "b": ConstantModel(7, 0.97)}
    r = drawing.read_drawing(SEVEN, sure, threshold=SURE)
    assert (r.state, r.text, r.message) == ("read", "7", "All 2 models read 7.")
    r = drawing.read_drawing(SEVEN, {"a": ConstantModel(7, 0.99), "b": ConstantModel(7, 0.8)}, threshold=SURE)
    assert r.state == "unsure" and f"below {SURE:.0%}" in r.message and r.text == "7"
    r = drawing.read_drawing(SEVEN, {"a": ConstantModel(7, 0.99), "b": ConstantModel(1, 0.99)})
    assert r.state == "unsure" and r.message == "Unsure: the models disagree." and r.text == ""
    # The same readings judged at another bar, without reading again:
    assert drawing.verdict(drawing.read_drawing(SEVEN, sure).models, 0.98)[0] == "unsure"


def test_reading_to_dict_carries_inputs_and_all_probabilities():
    d = drawing.read_drawing(SEVEN, {"a": ConstantModel(7, 0.99)}).to_dict()
    (m,) = d["models"]
    (digit,) = m["digits"]
    assert m["name"] == "a" and m["text"] == "7" and m["state"] == "read"
    assert len(digit["input"]) == 784 and min(digit["input"]) >= 0 and max(digit["input"]) == 255
    assert len(digit["probs"]) == 10 and digit["probs"][7] == pytest.approx(0.99)


def test_mnist_on_canvas_and_scribble_stay_on_the_canvas():
    x = np.zeros((28, 28), np.float32)
    x[4:24, 13:15] = 1.0
    canvas = drawing.mnist_on_canvas(x)
    assert canvas.shape == (drawing.CANVAS[1], drawing.CANVAS[0])
    assert canvas.min() == 0 and canvas.max() == 255
    rng = np.random.default_rng(0)
    for _ in range(20):
        pts = np.array(drawing.scribble(rng)[0])
        assert 8 <= len(pts) <= 40
        assert (pts >= 8).all() and (pts[:, 0] <= drawing.CANVAS[0] - 8).all()


def test_keep_saves_a_labelled_png_whole(tmp_path):
    path = drawing.keep(SEVEN, "407", folder=tmp_path)
    assert path.parent == tmp_path and path.name.startswith("drawn-407-") and path.suffix == ".png"
    assert drawing.drawn_label(path) == "407" and drawing.drawn_label(tmp_path / "photo.png") is None
    from helpers.photo import read_image

    assert read_image(path).shape[:2] == (drawing.CANVAS[1], drawing.CANVAS[0])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    for strokes, label, why in [(SEVEN, "seven", "expected the digits drawn"), (SEVEN, "", "expected"),
                                ([], "7", "nothing drawn")]:
        with pytest.raises(ValueError, match=why):
            drawing.keep(strokes, label, folder=tmp_path)


def test_widget_reads_strokes_set_from_python_and_keeps_by_message(tmp_path):
    w = DrawWidget({"a": ConstantModel(7, 0.99), "b": ConstantModel(7, 0.97)}, keep_dir=tmp_path)
    assert w.reading["state"] == "empty"
    assert repr(w) == "DrawWidget(a, b): draw on it in JupyterLab or VS Code"  # no memory address
    w.version = 5
    reading = w.draw(SEVEN)
    assert reading["state"] == "read" and reading["text"] == "7" and reading["version"] == 5
    assert w.image().shape == (w.height, w.width)
    w._on_message(w, {"event": "keep", "label": "7"}, [])  # what the Keep button sends
    (saved,) = tmp_path.iterdir()
    assert saved.name.startswith("drawn-7-") and w.status.startswith("Saved ")
    w._on_message(w, {"event": "keep", "label": "x"}, [])
    assert w.status.startswith("Not saved: label 'x'") and len(list(tmp_path.iterdir())) == 1
    w.strokes = [[["a", 1]]]  # malformed strokes from Python: one line, no traceback
    assert w.reading["state"] == "error" and "strokes not readable" in w.reading["message"]
    w.brush = 30
    assert w.reading["state"] == "error"


def test_widget_reads_each_numbered_drawing_once_even_when_its_strokes_repeat(monkeypatch):
    w = DrawWidget({"a": ConstantModel(7, 0.99)})
    calls = []
    real = drawing.read_drawing
    monkeypatch.setattr(drawing, "read_drawing", lambda *a, **k: calls.append(1) or real(*a, **k))
    strokes = [[[float(x), float(y)] for x, y in s] for s in SEVEN]
    w.set_state({"version": 1, "strokes": strokes})  # what one message from the browser does
    assert w.reading["version"] == 1 and w.reading["text"] == "7" and len(calls) == 1
    # The pen lifted where the last throttled send already was: same strokes, a new number.
    w.set_state({"version": 2, "strokes": strokes})
    assert w.reading["version"] == 2 and w.reading["text"] == "7" and len(calls) == 2


@pytest.mark.slow
def test_the_trained_models_read_scripted_digits_and_numbers():
    missing = [n for n in MODELS if not registry.is_current(n)]
    if missing:
        pytest.skip(f"models not trained yet: {missing} (the notebooks train them)")
    w = DrawWidget.for_models(MODELS)
    for shape in ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "7 with a crossbar", "1 with a base"]:
        reading = w.draw(drawing.place(shape, 160, 30, 160))
        assert reading["state"] == "read" and reading["text"] == shape[0], (shape, reading["message"])
    reading = w.draw(drawing.write("407"))
    assert reading["text"] == "407" and all(len(m["digits"]) == 3 for m in reading["models"])
