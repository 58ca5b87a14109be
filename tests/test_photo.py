"""Tests of helpers.photo (reading photos of handwritten digits into MNIST's form) and of
helpers.external_sets (the external-digits and USPS evaluations).

They use synthetic images (OpenCV-drawn digits) and plain NumPy callables as models, so
they need neither TensorFlow nor a trained model. Only `test_load_external_set_and_usps`
needs the external-digits set (../shared/external-digits); it is skipped without it.
The command line's tests, and those with trained models, are in test_cli_predict.py.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat
from support import SAMPLES, draw, needs_external, save

from helpers import external_sets, photo
from helpers.data import REPO_ROOT

# --------------------------------------------------------------------------- helpers


def random_linear_model():
    """A stand-in model: softmax over random linear scores (enough for plumbing tests; no Keras)."""
    w = np.random.default_rng(0).normal(0, 0.05, (784, 10)).astype(np.float32)

    def model(x: np.ndarray) -> np.ndarray:
        z = np.asarray(x, np.float32).reshape(len(x), -1) @ w
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return model


class ConstantModel:
    """Always answers `digit` with probability `p` (the rest shared equally); counts its calls."""

    def __init__(self, digit: int = 3, p: float = 0.91) -> None:
        self.row = np.full(10, (1 - p) / 9)
        self.row[digit] = p
        self.calls: list[int] = []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls.append(len(x))
        return np.tile(self.row, (len(x), 1))


def centre_of_mass(x: np.ndarray) -> tuple[float, float]:
    ys, xs = np.mgrid[0:28, 0:28]
    return float((ys * x).sum() / x.sum()), float((xs * x).sum() / x.sum())


# --------------------------------------------------------------------------- MNIST form


def test_mnist_form_fits_20px_box_and_centres_mass():
    st = photo.find_digits(draw("7", (400, 300)))
    assert len(st.inputs) == 1
    x = st.inputs[0]
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.max() == pytest.approx(1.0) and x.min() >= 0.0
    ys, xs = np.nonzero(x > 0.02)
    assert max(np.ptp(ys) + 1, np.ptp(xs) + 1) in (19, 20, 21)  # longer side fitted to 20 px
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_thin_pen_strokes_are_thickened_to_mnist_width():
    thin = photo.find_digits(draw("2", (600, 600), scale=12, thickness=3)).inputs[0]
    width = photo.stroke_width(cv2.resize(thin, (112, 112), interpolation=cv2.INTER_LINEAR) >= 0.5) / 4
    assert 1.5 <= width <= 3.5  # MNIST's strokes: 1.7-3.2 px (10th-90th percentile)


def test_to_mnist_keeps_aspect_ratio_of_a_one():
    ink = np.zeros((200, 200), np.float32)
    ink[20:180, 95:108] = 1.0  # a tall bar
    x, _ = photo.to_mnist(ink)
    ys, xs = np.nonzero(x > 0.05)
    assert np.ptp(ys) + 1 >= 19 and np.ptp(xs) + 1 <= 5


# --------------------------------------------------------------------------- finding ink


def test_polarity_dark_on_light_and_light_on_dark_give_the_same_input():
    dark = draw("3")
    light = 255 - dark
    a, b = photo.find_digits(dark), photo.find_digits(light)
    assert a.dark_ink and not b.dark_ink
    assert len(a.inputs) == len(b.inputs) == 1
    assert np.abs(a.inputs[0] - b.inputs[0]).mean() < 0.05


def test_uneven_lighting_is_flattened():
    img = draw("5", (500, 400)).astype(np.float32)
    ramp = np.linspace(1.0, 0.35, img.shape[1], dtype=np.float32)[None, :, None]  # lamp on the left
    shaded = (img * ramp).clip(0, 255).astype(np.uint8)
    st = photo.find_digits(shaded)
    assert st.dark_ink
    assert len(st.boxes) == 1
    # The shaded half of the page is not ink.
    assert st.mask[:, -60:].mean() < 5
    ref = photo.find_digits(draw("5", (500, 400))).inputs[0]
    # Not identical: under the lamp the anti-aliased rim of the stroke is darker or lighter
    # against the local paper, which shifts the grey edge a little.
    assert np.abs(st.inputs[0] - ref).mean() < 0.07


def test_specks_and_ruled_lines_are_dropped():
    img = draw("6", (600, 400), scale=5)
    rng = np.random.default_rng(3)
    for _ in range(12):
        x, y = int(rng.integers(0, 600)), int(rng.integers(0, 400))
        if abs(x - 300) > 120 or abs(y - 200) > 120:
            cv2.circle(img, (x, y), 2, (40, 40, 40), -1)
    for y in (30, 370):  # rules clear of the digit
        cv2.line(img, (0, y), (599, y + 4), (150, 120, 110), 2)
    st = photo.find_digits(img)
    assert len(st.boxes) == 1
    assert "speck" in {c.dropped for c in st.components}
    # The rules are either erased from the mask or dropped as lines.
    kept = [c for c in st.components if not c.dropped]
    assert all(c.box[2] < 300 for c in kept)


def test_ruled_line_through_digits_is_removed_and_strokes_rejoined():
    img = draw("707", (700, 300), scale=5, thickness=10)
    clean = photo.find_digits(img)
    for y in (150, 60):
        cv2.line(img, (0, y), (699, y + 6), (120, 100, 90), 3, cv2.LINE_AA)
    st = photo.find_digits(img)
    assert len(st.boxes) == 3
    for a, b in zip(st.boxes, clean.boxes, strict=True):
        assert abs(a[3] - b[3]) <= 0.15 * b[3]  # whole digits, not the line or half digits


def test_broken_digit_is_merged():
    img = draw("8", (300, 400), scale=7, thickness=12)
    h = img.shape[0]
    img[h // 2 - 3 : h // 2 + 3] = 235  # a gap across the middle: two pieces
    st = photo.find_digits(img)
    assert sum(not c.dropped for c in st.components) >= 2
    assert len(st.boxes) == 1


def test_reading_order_of_a_2x3_grid():
    img = np.full((520, 760, 3), 235, np.uint8)
    rng = np.random.default_rng(5)
    texts = ["1", "2", "3", "4", "5", "6"]
    for k, t in enumerate(texts):
        r, c = divmod(k, 3)
        org = (80 + 240 * c + int(rng.integers(-15, 15)), 200 + 240 * r + int(rng.integers(-25, 25)))
        cv2.putText(img, t, org, cv2.FONT_HERSHEY_SIMPLEX, 5, (20, 20, 20), 12, cv2.LINE_AA)
    st = photo.find_digits(img)
    assert len(st.boxes) == 6
    centres = [(y + h / 2, x + w / 2) for x, y, w, h in st.boxes]
    assert all(cy < 300 for cy, _ in centres[:3]) and all(cy > 300 for cy, _ in centres[3:])
    assert [cx for _, cx in centres[:3]] == sorted(cx for _, cx in centres[:3])
    assert [cx for _, cx in centres[3:]] == sorted(cx for _, cx in centres[3:])


def test_reading_order_rows_with_uneven_heights():
    boxes = [(300, 12, 40, 60), (10, 0, 40, 70), (150, 20, 40, 50), (20, 120, 40, 60), (160, 110, 40, 70)]
    assert photo.reading_order(boxes) == [1, 2, 0, 3, 4]


def test_single_mode_takes_the_digit_not_far_specks():
    img = draw("9", (400, 400), scale=6)
    cv2.circle(img, (20, 20), 6, (30, 30, 30), -1)
    cv2.circle(img, (380, 370), 5, (30, 30, 30), -1)
    st = photo.find_digits(img, single=True)
    assert len(st.boxes) == 1
    x, y, w, h = st.boxes[0]
    assert x > 60 and y > 60 and x + w < 360 and y + h < 360


# --------------------------------------------------------------------------- reading files


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tif", ".webp"])
def test_every_format_reads_the_same_digit(tmp_path, suffix):
    img = draw("4")
    path = save(img, tmp_path / f"d{suffix}")
    got = photo.read_image(path)
    assert got.shape == img.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - img).mean() < 3
    assert len(photo.find_digits(path).boxes) == 1


def test_grayscale_file(tmp_path):
    path = save(cv2.cvtColor(draw("4"), cv2.COLOR_BGR2GRAY), tmp_path / "g.png")
    assert photo.read_image(path).shape == (300, 300, 3)
    assert len(photo.find_digits(path).boxes) == 1


def test_16_bit_png_and_tiff_match_8_bit(tmp_path):
    img8 = cv2.cvtColor(draw("2"), cv2.COLOR_BGR2GRAY)
    img16 = img8.astype(np.uint16) * 257
    ref = photo.find_digits(img8).inputs[0]
    for suffix in (".png", ".tif"):
        path = save(img16, tmp_path / f"d16{suffix}")
        assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).dtype == np.uint16
        np.testing.assert_array_equal(photo.read_image(path)[..., 0], img8)
        assert np.abs(photo.find_digits(path).inputs[0] - ref).max() < 1e-5


@pytest.mark.parametrize("ink", [0, 255])
def test_rgba_transparent_background_is_paper(tmp_path, ink):
    """Strokes on a transparent sheet, black or white: either way the digit is found."""
    strokes = cv2.cvtColor(draw("3", paper=0, ink=255), cv2.COLOR_BGR2GRAY)  # 255 on stroke
    rgba = np.zeros((*strokes.shape, 4), np.uint8)
    rgba[..., :3] = ink
    rgba[..., 3] = strokes  # opaque only where the pen went
    path = save(rgba, tmp_path / "t.png")
    st = photo.find_digits(path)
    assert len(st.boxes) == 1
    ref = photo.find_digits(draw("3")).inputs[0]
    assert np.abs(st.inputs[0] - ref).mean() < 0.05


def test_rgba_mostly_opaque_sheet_fills_transparent_corners_with_paper(tmp_path):
    rgba = cv2.cvtColor(draw("3"), cv2.COLOR_BGR2BGRA)
    rgba[:40, :40, 3] = 0  # a transparent corner, hidden colour black
    rgba[:40, :40, :3] = 0
    st = photo.find_digits(save(rgba, tmp_path / "c.png"))
    assert len(st.boxes) == 1 and st.dark_ink


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_opencv_imread(tmp_path, orientation):
    img = draw("7", (320, 200))
    pil = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.jpg"
    pil.save(path, quality=95, exif=exif)
    expected = cv2.imread(str(path), cv2.IMREAD_COLOR)  # OpenCV applies EXIF orientation
    got, size = photo.load_image(path)
    assert got.shape == expected.shape
    assert size == (expected.shape[1], expected.shape[0])
    assert np.abs(got.astype(int) - expected).mean() < 1


def test_large_jpeg_reduced_decode_keeps_boxes_in_full_resolution(tmp_path):
    img = draw("4", (4000, 3000), scale=40, thickness=60)
    path = save(img, tmp_path / "big.jpg", cv2.IMWRITE_JPEG_QUALITY, 85)
    st = photo.find_digits(path)
    assert st.size == (4000, 3000) and max(st.original.shape) < 4000  # decoded at 1/2
    x, y, w, h = st.bbox_original(st.boxes[0])
    ys, xs = np.nonzero(img[..., 0] < 128)
    assert abs(x - xs.min()) < 30 and abs(y - ys.min()) < 30
    assert abs(x + w - xs.max()) < 30 and abs(y + h - ys.max()) < 30


# --------------------------------------------------------------------------- bad input


def test_missing_empty_folder_and_non_image_files_raise_one_line_errors(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("not an image at all\n")
    cases = {
        tmp_path / "missing.jpg": "no such file",
        tmp_path / "empty.png": "empty file",
        tmp_path / "notes.png": "not a readable image",
        tmp_path: "folder",
    }
    for path, words in cases.items():
        with pytest.raises(photo.ImageReadError) as info:
            photo.read_image(path)
        msg = str(info.value)
        assert str(path) in msg and words in msg and "\n" not in msg


@pytest.mark.parametrize("kind", ["jpg", "png"])
def test_truncated_files_raise(tmp_path, kind):
    raw = cv2.imencode(f".{kind}", draw("5"))[1].tobytes()
    path = tmp_path / f"cut.{kind}"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(photo.ImageReadError, match="truncated"):
        photo.read_image(path)


def _clear_or_no_digits(path: Path) -> str:
    """Read a file; must end in ImageReadError, or a result, quickly."""
    start = time.perf_counter()
    try:
        result = photo.read_digits(path, random_linear_model())
        outcome = "digits" if result.digits else "none"
    except photo.ImageReadError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        outcome = "error"
    assert time.perf_counter() - start < 20, f"{path.name} took too long"
    return outcome


def test_fuzz_random_bytes_truncations_and_degenerate_images(tmp_path):
    rng = np.random.default_rng(42)
    good_jpg = cv2.imencode(".jpg", draw("8"))[1].tobytes()
    good_png = cv2.imencode(".png", draw("8"))[1].tobytes()
    files: dict[str, bytes] = {"zero.jpg": b""}
    for i in range(12):
        files[f"random{i}.bin"] = rng.bytes(int(rng.integers(1, 5000)))
        files[f"pngsig{i}.png"] = b"\x89PNG\r\n\x1a\n" + rng.bytes(int(rng.integers(0, 3000)))
        files[f"jpgsig{i}.jpg"] = b"\xff\xd8\xff" + rng.bytes(int(rng.integers(0, 3000))) + b"\xff\xd9"
        cut = int(rng.integers(1, len(good_jpg)))
        files[f"cutjpg{i}.jpg"] = good_jpg[:cut]
        files[f"cutpng{i}.png"] = good_png[: int(rng.integers(1, len(good_png)))]
        flipped = bytearray(good_jpg)
        for k in rng.integers(100, len(flipped) - 2, 20):
            flipped[k] = int(rng.integers(0, 256))
        files[f"corrupt{i}.jpg"] = bytes(flipped)
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
        assert _clear_or_no_digits(tmp_path / name) in {"error", "none", "digits"}
    assert _clear_or_no_digits(tmp_path / "zero.jpg") == "error"
    assert _clear_or_no_digits(tmp_path / "random0.bin") == "error"


@pytest.mark.parametrize("make", [
    lambda: np.zeros((1, 1, 3), np.uint8),
    lambda: np.full((1, 1), 255, np.uint8),
    lambda: np.full((3, 500), 255, np.uint8),
    lambda: np.full((600, 800, 3), 255, np.uint8),
    lambda: np.zeros((600, 800, 3), np.uint8),
    lambda: np.full((600, 800), 128, np.uint16) * 257,
    lambda: (np.random.default_rng(0).normal(200, 4, (600, 800))).clip(0, 255).astype(np.uint8),
], ids=["1x1-black", "1x1-white", "sliver", "white", "black", "grey16", "blank-noisy-paper"])
def test_blank_images_give_no_digits(tmp_path, make):
    path = save(make(), tmp_path / "blank.png")
    result = photo.read_digits(path, random_linear_model())
    assert result.digits == [] and "no digits" in result.message


def test_huge_12_megapixel_images_do_not_hang(tmp_path):
    blank = np.full((3000, 4000, 3), 250, np.uint8)
    for suffix in (".jpg", ".png"):
        assert _clear_or_no_digits(save(blank, tmp_path / f"blank{suffix}")) == "none"
    digit = draw("3", (4000, 3000), scale=30, thickness=50)
    assert _clear_or_no_digits(save(digit, tmp_path / "digit.jpg")) == "digits"


# --------------------------------------------------------------------------- results


def test_read_digits_result_fields_and_threshold():
    img = np.hstack([draw("1"), draw("4")])
    model = random_linear_model()
    res = photo.read_digits(img, model, threshold=0.99)
    assert len(res.digits) == 2
    d = res.digits[0]
    assert d.label == d.top3[0][0] and len(d.top3) == 3
    assert d.probability == pytest.approx(d.top3[0][1])
    assert d.low_confidence  # a random model is never 99 % sure
    assert d.bbox[0] < 300 <= res.digits[1].bbox[0]  # original pixels, reading order
    assert d.input.shape == (28, 28)
    json.dumps(res.to_dict())
    assert res.text == "".join(str(x.label) for x in res.digits)
    assert photo.annotate(res).shape == img.shape


def test_labels_of_close_digits_cover_no_other_label_or_digit():
    """Two rows of digits closer than their labels are wide (the multi-row sample of notebook 05)."""
    from helpers.photo.annotate import _overlaps, place_labels

    boxes = [(100 + 80 * k, 120 + 150 * row, 40, 90) for row in range(2) for k in range(4)]
    sizes = [(110, 30)] * len(boxes)  # labels wider than a digit and its gap
    rects, all_free = place_labels(boxes, sizes, height=500)
    assert all_free
    corners = [(x, y, x + w, y + h) for x, y, w, h in boxes]
    for i, r in enumerate(rects):
        assert r[1] >= 0 and r[3] <= 500
        assert r[2] - r[0] == 110 and r[3] - r[1] == 30
        assert not any(_overlaps(r, o) for o in rects[:i] + corners[:i] + corners[i + 1:]), (i, r)
        x, y, _, h = boxes[i]
        assert r[0] == x and (r[3] <= y or r[1] >= y + h)  # beside its own box, above or below
    # Labels as wide as a whole row cannot all be placed apart: the caller is told, to shrink them.
    assert not place_labels(boxes, [(400, 30)] * len(boxes), height=500)[1]


def test_find_digits_then_make_result_equals_read_digits():
    """The command line's path (find, classify, package) gives what read_digits gives."""
    from helpers.inference import predict_proba

    img = np.hstack([draw("2"), draw("9")])
    model = random_linear_model()
    stages = photo.find_digits(img)
    packaged = photo.make_result(None, *photo.classify(stages, model), 0.5)
    direct = photo.read_digits(img, model, threshold=0.5)
    assert packaged.to_dict() == direct.to_dict() and len(packaged.digits) == 2
    blank = photo.find_digits(np.full((200, 200, 3), 255, np.uint8))
    empty = photo.make_result("blank.png", blank, predict_proba(model, blank.inputs))
    assert empty.digits == [] and "no digits" in empty.message


def test_write_annotated_numbers_clashing_names(tmp_path):
    result = photo.read_digits(draw("1"), random_linear_model())
    result.path = str(tmp_path / "x.png")
    first = photo.write_annotated(result, tmp_path / "out")
    second = photo.write_annotated(result, tmp_path / "out", avoid={first})
    assert (first.name, second.name) == ("x.annotated.png", "x.2.annotated.png")
    assert cv2.imread(str(second)).shape == (300, 300, 3)


def test_photo_imports_only_earlier_modules_and_nothing_heavy():
    order = ["image", "ink", "shape", "lines", "page", "rows", "segment", "border", "mnist_form", "whole",
             "split", "pipeline", "annotate", "synthetic"]
    for k, name in enumerate(order):
        tree = ast.parse((REPO_ROOT / "helpers" / "photo" / f"{name}.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        inside = {m.split(".")[2] for m in imported if m.startswith("helpers.photo.")}
        assert inside <= set(order[:k]), (name, inside)
        # Heavy libraries may load only inside the function that needs them (the checker's
        # training); `from helpers import training` counts as importing helpers.training.
        top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
        top |= {f"{n.module}.{a.name}" for n in tree.body if isinstance(n, ast.ImportFrom) and n.module
                for a in n.names}
        top |= {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
        assert not top & {"pandas", "tensorflow", "keras", "helpers.training", "helpers.model_cache",
                          "helpers.cli"}, name
    code = ("import sys, helpers.photo; heavy = {'pandas', 'tensorflow', 'keras', 'helpers.training', "
            "'helpers.cli'} & set(sys.modules); assert not heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- samples, USPS, the external set


def test_sample_photos_are_made_by_the_script(tmp_path):
    script = SAMPLES / "make_samples.py"
    proc = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("single.jpg", "multi.jpg", "chalk.jpg", "ruled.jpg"):
        made, committed = tmp_path / name, SAMPLES / name
        assert made.stat().st_size < 60_000 and committed.is_file()
        a, b = cv2.imread(str(made)), cv2.imread(str(committed))
        assert a.shape == b.shape and np.abs(a.astype(int) - b).mean() < 2


def test_samples_are_found_whole():
    expected = {"single.jpg": 1, "multi.jpg": 6, "chalk.jpg": 1, "ruled.jpg": 3}
    for name, n in expected.items():
        st = photo.find_digits(SAMPLES / name)
        assert len(st.boxes) == n, name
    st = photo.find_digits(SAMPLES / "chalk.jpg")
    assert not st.dark_ink


def test_usps_rows_become_mnist_form():
    rows = -np.ones((2, 256))
    rows[0].reshape(16, 16)[2:14, 7:9] = 1.0  # a 1
    rows[1].reshape(16, 16)[3:13, 3:13] = 1.0  # a filled square
    x = external_sets.usps_to_mnist(rows)
    assert x.shape == (2, 28, 28)
    for im in x:
        cy, cx = centre_of_mass(im)
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
        ys, xs = np.nonzero(im > 0.05)
        assert max(np.ptp(ys), np.ptp(xs)) + 1 in (19, 20, 21)


def test_uci_digits_become_mnist_form_and_bad_shapes_are_named():
    grid = np.zeros((1, 8, 8))
    grid[0, 1:7, 3:5] = 16  # a 1, at full ink
    x = external_sets.uci_digits_to_mnist(grid)
    assert x.shape == (1, 28, 28) and x.max() == pytest.approx(1.0)
    cy, cx = centre_of_mass(x[0])
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    ys, _ = np.nonzero(x[0] > 0.05)
    assert np.ptp(ys) + 1 in (19, 20, 21)  # the longer side fitted to 20 px
    assert external_sets.uci_digits_to_mnist(np.zeros((0, 8, 8))).shape == (0, 28, 28)
    with pytest.raises(external_sets.ExternalSetError, match="8, 8"):
        external_sets.uci_digits_to_mnist(np.zeros((2, 16, 16)))


def test_the_uci_digits_load_offline_in_mnist_form():
    raw, x, y = external_sets.load_uci_digits()
    assert raw.shape == (1797, 8, 8) and x.shape == (1797, 28, 28) and y.shape == (1797,)
    assert set(np.unique(y)) == set(range(10)) and x.min() >= 0.0 and x.max() <= 1.0


def make_external_set(root: Path) -> Path:
    """A tiny external-digits folder: labels.csv, five drawn digits, one file that is no image."""
    rows = [  # path, label, kind, what the file holds
        ("photos/3/a.png", 3, "drawn", draw("3")),
        ("photos/3/b.jpg", 3, "drawn", draw("3", (260, 320))),
        ("photos/3/c.png", 3, "photo", draw("3", ink=90, paper=200)),
        ("photos/7/d.png", 7, "photo", None),  # unreadable
        ("photos/8/e.png", 8, "scan", draw("8")),
        ("photos/1/f.png", 1, "scan", np.full((200, 200, 3), 250, np.uint8)),  # blank
    ]
    lines = ["path,label,source_repo,source_path,kind,notes"]
    for path, label, kind, img in rows:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        if img is None:
            (root / path).write_text("not an image\n")
        else:
            save(img, root / path)
        lines.append(f"{path},{label},someone/repo,digits/{Path(path).name},{kind},synthetic")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


def test_read_batch_classifies_every_digit_in_one_call(tmp_path):
    root = make_external_set(tmp_path)
    files = list(external_sets.load_external_set(root)["file"])
    model = ConstantModel(3, 0.91)
    results = photo.read_batch(files, model)
    assert model.calls == [4]  # five readable images, four with a digit; one model call
    assert isinstance(results[3], photo.ImageReadError) and files[3] in str(results[3])
    read = [r for r in results if isinstance(r, photo.ImageResult)]
    assert [r.text for r in read] == ["3", "3", "3", "3", ""]
    assert [r.path for r in read] == [f for k, f in enumerate(files) if k != 3]
    assert read[0].digits[0].probability == pytest.approx(0.91)
    assert "no digits found" in read[-1].message


def test_find_batch_in_worker_processes_finds_what_one_process_finds(tmp_path):
    files = list(external_sets.load_external_set(make_external_set(tmp_path))["file"])
    files += [str(tmp_path / "missing.png")]  # a second kind of error, made in a worker
    for single in (True, False):
        alone = photo.find_batch(files, single=single, workers=1)
        shared = photo.find_batch(files, single=single, workers=2)
        assert [type(st) for st in shared] == [type(st) for st in alone]
        errors = [(str(a), str(b)) for a, b in zip(alone, shared, strict=True) if isinstance(a, Exception)]
        assert [a == b for a, b in errors] == [True, True]
        assert "d.png: not a readable image" in errors[0][0] and "missing.png: no such file" in errors[1][0]
        for a, b in zip(alone, shared, strict=True):
            if isinstance(a, photo.Stages):
                assert a.boxes == b.boxes
                assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.ink, b.ink)


def test_evaluate_and_summarize_a_small_external_set(tmp_path):
    root = make_external_set(tmp_path)
    df = external_sets.load_external_set(root)
    assert list(df.columns) == ["path", "label", "source_repo", "source_path", "kind", "notes", "file"]
    assert df["file"].tolist() == [str(root / p) for p in df["path"]]
    table = external_sets.evaluate_external(ConstantModel(3, 0.91), root)
    assert list(table.columns) == ["path", "label", "kind", "predicted", "probability", "correct",
                                   "low_confidence", "top3", "note"]
    assert table["predicted"].tolist() == [3, 3, 3, -1, 3, -1]
    assert table["correct"].tolist() == [True, True, True, False, False, False]
    assert table["low_confidence"].tolist() == [False, False, False, True, False, True]
    assert table["probability"].tolist() == pytest.approx([0.91, 0.91, 0.91, 0.0, 0.91, 0.0])
    assert table["top3"][0][0] == (3, pytest.approx(0.91))
    assert "not a readable image" in table["note"][3] and "no digits found" in table["note"][5]
    summary = external_sets.summarize_external(table)
    assert summary.n == 6 and summary.accuracy == 0.5
    per_kind = summary.per_kind
    assert per_kind.index.tolist() == ["drawn", "photo", "scan"]
    assert per_kind["accuracy"].tolist() == [1.0, 0.5, 0.0]
    assert per_kind["correct"].tolist() == [2, 1, 0] and per_kind["n"].tolist() == [2, 2, 2]
    assert summary.per_label["accuracy"].to_dict() == {1: 0.0, 3: 1.0, 7: 0.0, 8: 0.0}
    assert summary.failures["path"].tolist() == ["photos/7/d.png", "photos/8/e.png", "photos/1/f.png"]
    text = str(summary)
    assert "external digits: 50.0% of 6 images read correctly" in text
    assert "photos/8/e.png  label 8, read 3 (91%)  [scan]" in text
    assert "photos/7/d.png  label 7, nothing found  [photo]" in text


def test_several_models_share_one_pass_of_the_pipeline_over_the_external_set(tmp_path, monkeypatch):
    root = make_external_set(tmp_path)
    calls = []
    real = photo.pipeline.find_digits
    monkeypatch.setattr(photo.pipeline, "find_digits", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    tables = external_sets.evaluate_external_models({"threes": ConstantModel(3, 0.91),
                                                     "sevens": ConstantModel(7, 0.5)}, root)
    assert len(calls) == 6, "each photo goes through the pipeline once, whatever the number of models"
    alone = external_sets.evaluate_external(ConstantModel(3, 0.91), root)
    assert tables["threes"].equals(alone)
    assert tables["sevens"]["predicted"].tolist() == [7, 7, 7, -1, 7, -1]
    assert tables["sevens"]["low_confidence"].all()


def test_external_set_in_default_mode_counts_two_digits_read_as_a_failure(tmp_path):
    root = make_external_set(tmp_path)
    save(np.hstack([draw("3"), draw("3")]), root / "photos/3/a.png")  # a 3 with a second 3 beside it
    single = external_sets.evaluate_external(ConstantModel(3, 0.91), root)
    default = external_sets.evaluate_external(ConstantModel(3, 0.91), root, single=False)
    assert single["correct"].tolist() == [True, True, True, False, False, False]
    assert default["correct"].tolist() == [False, True, True, False, False, False]
    assert default["predicted"][0] == -1 and default["note"][0] == "read '33'"
    assert "photos/3/a.png  label 3, read '33'  [drawn]" in str(external_sets.summarize_external(default))


def test_usps_accuracy_on_a_small_mat_file(tmp_path):
    rows = -np.ones((4, 256))
    for k, row in enumerate(rows):
        row.reshape(16, 16)[2:14, 6 + k : 9 + k] = 1.0  # a bar, a little further right each time
    (tmp_path / "usps").mkdir()
    savemat(tmp_path / "usps" / "usps.mat", {"Xtr": rows[:2], "ytr": [[3], [1]],
                                             "Xtst": rows, "ytst": [[3], [3], [5], [3]]})
    assert external_sets.usps_accuracy(ConstantModel(3), tmp_path) == 0.75
    x_tr, y_tr, x_te, y_te = external_sets.load_usps(tmp_path)
    assert x_tr.shape == (2, 28, 28) and x_te.shape == (4, 28, 28)
    assert y_tr.tolist() == [3, 1] and y_te.tolist() == [3, 3, 5, 3] and y_te.dtype == np.uint8
    np.testing.assert_array_equal(x_te, external_sets.usps_to_mnist(rows))


def test_missing_external_files_raise_external_set_error(tmp_path):
    with pytest.raises(external_sets.ExternalSetError, match="labels.csv"):
        external_sets.load_external_set(tmp_path)
    with pytest.raises(external_sets.ExternalSetError, match="usps.mat"):
        external_sets.usps_accuracy(ConstantModel(), tmp_path)
    with pytest.raises(external_sets.ExternalSetError, match="usps.mat"):
        external_sets.load_usps(tmp_path)
    assert external_sets.external_root(tmp_path) == tmp_path




@needs_external
def test_load_external_set_and_usps():
    df = external_sets.load_external_set()
    assert len(df) > 300 and set(df["label"]) == set(range(10))
    assert all(Path(f).is_file() for f in df["file"])
    if (external_sets.external_root() / "usps" / "usps.mat").is_file():
        x_tr, y_tr, x_te, y_te = external_sets.load_usps()
        assert x_tr.shape == (7291, 28, 28) and x_te.shape == (2007, 28, 28)
        assert np.bincount(y_te).tolist() == [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]


@pytest.mark.parametrize(("csv", "message"), [
    ("", "not a readable CSV table"),
    ("path,kind\nphotos/a.png,photo\n", "missing columns label"),
    ("path,label,kind\nphotos/a.png,seven,photo\n", "row 2: label 'seven' is not a digit 0-9"),
    ("path,label,kind\nphotos/a.png,12,photo\n", "row 2: label '12' is not a digit 0-9"),
])
def test_bad_labels_csv_is_one_clear_error(tmp_path, csv, message):
    (tmp_path / "labels.csv").write_text(csv)
    with pytest.raises(external_sets.ExternalSetError, match=message) as info:
        external_sets.load_external_set(tmp_path)
    assert str(tmp_path / "labels.csv") in str(info.value) and "\n" not in str(info.value)


def test_header_only_labels_csv_gives_an_empty_summary(tmp_path):
    (tmp_path / "labels.csv").write_text("path,label,kind\n")
    results = external_sets.evaluate_external(lambda x: np.zeros((len(x), 10), np.float32), tmp_path)
    summary = external_sets.summarize_external(results)
    assert summary.n == 0 and len(summary.failures) == 0


def test_corrupt_usps_file_is_one_clear_error(tmp_path):
    (tmp_path / "usps").mkdir()
    (tmp_path / "usps" / "usps.mat").write_bytes(b"not a matlab file at all" * 10)
    with pytest.raises(external_sets.ExternalSetError, match="usps.mat: not a readable MATLAB file"):
        external_sets.usps_accuracy(lambda x: np.zeros((len(x), 10), np.float32), tmp_path)
