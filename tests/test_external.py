"""Tests of helpers.external: reading photos of handwritten digits into MNIST's form.

Fast tests use synthetic images (OpenCV-drawn digits) and a tiny hand-made model
file, so they need neither TensorFlow nor a trained model. Tests marked `slow`
use the project's trained models (`training.get_model`).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
from PIL import Image

from helpers import cli, external
from helpers.data import REPO_ROOT

SAMPLES = REPO_ROOT / "notebooks" / "samples"

# --------------------------------------------------------------------------- helpers


def draw(text: str = "4", size: tuple[int, int] = (300, 300), *, scale: float = 6.0,
         thickness: int = 14, org: tuple[int, int] | None = None, ink: int = 20,
         paper: int = 235) -> np.ndarray:
    """Dark digits on light paper (BGR uint8), drawn with an OpenCV font."""
    w, h = size
    img = np.full((h, w, 3), paper, np.uint8)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    org = org or ((w - tw) // 2, (h + th) // 2)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (ink,) * 3, thickness, cv2.LINE_AA)
    return img


def mean_class_model() -> external.NumpyModel:
    """A tiny stand-in model: softmax over random linear scores (enough for plumbing tests)."""
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.05, (784, 10)).astype(np.float32)
    return external.NumpyModel([("Flatten", {}, []), ("Dense", {"activation": "softmax"},
                                                     [w, np.zeros(10, np.float32)])])


def write_tiny_keras(path: Path) -> Path:
    """A minimal .keras file (Flatten → Dense softmax) that `NumpyModel.load` reads, without Keras."""
    tensor = lambda src: {"class_name": "__keras_tensor__", "config": {"keras_history": [src, 0, 0]}}  # noqa: E731
    config = {"class_name": "Functional", "config": {"name": "tiny", "layers": [
        {"class_name": "InputLayer", "name": "image", "config": {"name": "image"}, "inbound_nodes": []},
        {"class_name": "Flatten", "name": "flatten", "config": {"name": "flatten"},
         "inbound_nodes": [{"args": [tensor("image")], "kwargs": {}}]},
        {"class_name": "Dense", "name": "digit",
         "config": {"name": "digit", "units": 10, "activation": "softmax", "use_bias": True},
         "inbound_nodes": [{"args": [tensor("flatten")], "kwargs": {}}]},
    ]}}
    buf = io.BytesIO()
    rng = np.random.default_rng(1)
    with h5py.File(buf, "w") as h5:
        g = h5.create_group("layers/dense/vars")
        g.attrs["name"] = "digit"
        g["0"] = rng.normal(0, 0.05, (784, 10)).astype(np.float32)
        g["1"] = np.zeros(10, np.float32)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", buf.getvalue())
    return path


def centre_of_mass(x: np.ndarray) -> tuple[float, float]:
    ys, xs = np.mgrid[0:28, 0:28]
    return float((ys * x).sum() / x.sum()), float((xs * x).sum() / x.sum())


def save(img: np.ndarray, path: Path, *params: int) -> Path:
    assert cv2.imwrite(str(path), img, list(params))
    return path


# --------------------------------------------------------------------------- MNIST form


def test_mnist_form_fits_20px_box_and_centres_mass():
    st = external.find_digits(draw("7", (400, 300)))
    assert len(st.inputs) == 1
    x = st.inputs[0]
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.max() == pytest.approx(1.0) and x.min() >= 0.0
    ys, xs = np.nonzero(x > 0.02)
    assert max(np.ptp(ys) + 1, np.ptp(xs) + 1) in (19, 20, 21)  # longer side fitted to 20 px
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_thin_pen_strokes_are_thickened_to_mnist_width():
    thin = external.find_digits(draw("2", (600, 600), scale=12, thickness=3)).inputs[0]
    width = external.stroke_width(cv2.resize(thin, (112, 112), interpolation=cv2.INTER_LINEAR) >= 0.5) / 4
    assert 1.5 <= width <= 3.5  # MNIST's strokes: 1.7-3.2 px (10th-90th percentile)


def test_to_mnist_keeps_aspect_ratio_of_a_one():
    ink = np.zeros((200, 200), np.float32)
    ink[20:180, 95:108] = 1.0  # a tall bar
    x, _ = external.to_mnist(ink)
    ys, xs = np.nonzero(x > 0.05)
    assert np.ptp(ys) + 1 >= 19 and np.ptp(xs) + 1 <= 5


# --------------------------------------------------------------------------- finding ink


def test_polarity_dark_on_light_and_light_on_dark_give_the_same_input():
    dark = draw("3")
    light = 255 - dark
    a, b = external.find_digits(dark), external.find_digits(light)
    assert a.dark_ink and not b.dark_ink
    assert len(a.inputs) == len(b.inputs) == 1
    assert np.abs(a.inputs[0] - b.inputs[0]).mean() < 0.05


def test_uneven_lighting_is_flattened():
    img = draw("5", (500, 400)).astype(np.float32)
    ramp = np.linspace(1.0, 0.35, img.shape[1], dtype=np.float32)[None, :, None]  # lamp on the left
    shaded = (img * ramp).clip(0, 255).astype(np.uint8)
    st = external.find_digits(shaded)
    assert st.dark_ink
    assert len(st.boxes) == 1
    # The shaded half of the page is not ink.
    assert st.mask[:, -60:].mean() < 5
    ref = external.find_digits(draw("5", (500, 400))).inputs[0]
    assert np.abs(st.inputs[0] - ref).mean() < 0.05


def test_specks_and_ruled_lines_are_dropped():
    img = draw("6", (600, 400), scale=5)
    rng = np.random.default_rng(3)
    for _ in range(12):
        x, y = int(rng.integers(0, 600)), int(rng.integers(0, 400))
        if abs(x - 300) > 120 or abs(y - 200) > 120:
            cv2.circle(img, (x, y), 2, (40, 40, 40), -1)
    for y in (30, 370):  # rules clear of the digit
        cv2.line(img, (0, y), (599, y + 4), (150, 120, 110), 2)
    st = external.find_digits(img)
    assert len(st.boxes) == 1
    assert "speck" in {c.dropped for c in st.components}
    # The rules are either erased from the mask or dropped as lines.
    kept = [c for c in st.components if not c.dropped]
    assert all(c.box[2] < 300 for c in kept)


def test_ruled_line_through_digits_is_removed_and_strokes_rejoined():
    img = draw("707", (700, 300), scale=5, thickness=10)
    clean = external.find_digits(img)
    for y in (150, 60):
        cv2.line(img, (0, y), (699, y + 6), (120, 100, 90), 3, cv2.LINE_AA)
    st = external.find_digits(img)
    assert len(st.boxes) == 3
    for a, b in zip(st.boxes, clean.boxes, strict=True):
        assert abs(a[3] - b[3]) <= 0.15 * b[3]  # whole digits, not the line or half digits


def test_broken_digit_is_merged():
    img = draw("8", (300, 400), scale=7, thickness=12)
    h = img.shape[0]
    img[h // 2 - 3 : h // 2 + 3] = 235  # a gap across the middle: two pieces
    st = external.find_digits(img)
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
    st = external.find_digits(img)
    assert len(st.boxes) == 6
    centres = [(y + h / 2, x + w / 2) for x, y, w, h in st.boxes]
    assert all(cy < 300 for cy, _ in centres[:3]) and all(cy > 300 for cy, _ in centres[3:])
    assert [cx for _, cx in centres[:3]] == sorted(cx for _, cx in centres[:3])
    assert [cx for _, cx in centres[3:]] == sorted(cx for _, cx in centres[3:])


def test_reading_order_rows_with_uneven_heights():
    boxes = [(300, 12, 40, 60), (10, 0, 40, 70), (150, 20, 40, 50), (20, 120, 40, 60), (160, 110, 40, 70)]
    assert external.reading_order(boxes) == [1, 2, 0, 3, 4]


def test_single_mode_takes_the_digit_not_far_specks():
    img = draw("9", (400, 400), scale=6)
    cv2.circle(img, (20, 20), 6, (30, 30, 30), -1)
    cv2.circle(img, (380, 370), 5, (30, 30, 30), -1)
    st = external.find_digits(img, single=True)
    assert len(st.boxes) == 1
    x, y, w, h = st.boxes[0]
    assert x > 60 and y > 60 and x + w < 360 and y + h < 360


# --------------------------------------------------------------------------- reading files


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tif", ".webp"])
def test_every_format_reads_the_same_digit(tmp_path, suffix):
    img = draw("4")
    path = save(img, tmp_path / f"d{suffix}")
    got = external.read_image(path)
    assert got.shape == img.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - img).mean() < 3
    assert len(external.find_digits(path).boxes) == 1


def test_grayscale_file(tmp_path):
    path = save(cv2.cvtColor(draw("4"), cv2.COLOR_BGR2GRAY), tmp_path / "g.png")
    assert external.read_image(path).shape == (300, 300, 3)
    assert len(external.find_digits(path).boxes) == 1


def test_16_bit_png_and_tiff_match_8_bit(tmp_path):
    img8 = cv2.cvtColor(draw("2"), cv2.COLOR_BGR2GRAY)
    img16 = img8.astype(np.uint16) * 257
    ref = external.find_digits(img8).inputs[0]
    for suffix in (".png", ".tif"):
        path = save(img16, tmp_path / f"d16{suffix}")
        assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).dtype == np.uint16
        np.testing.assert_array_equal(external.read_image(path)[..., 0], img8)
        assert np.abs(external.find_digits(path).inputs[0] - ref).max() < 1e-5


@pytest.mark.parametrize("ink", [0, 255])
def test_rgba_transparent_background_is_paper(tmp_path, ink):
    """Strokes on a transparent sheet, black or white: either way the digit is found."""
    strokes = cv2.cvtColor(draw("3", paper=0, ink=255), cv2.COLOR_BGR2GRAY)  # 255 on stroke
    rgba = np.zeros((*strokes.shape, 4), np.uint8)
    rgba[..., :3] = ink
    rgba[..., 3] = strokes  # opaque only where the pen went
    path = save(rgba, tmp_path / "t.png")
    st = external.find_digits(path)
    assert len(st.boxes) == 1
    ref = external.find_digits(draw("3")).inputs[0]
    assert np.abs(st.inputs[0] - ref).mean() < 0.05


def test_rgba_mostly_opaque_sheet_fills_transparent_corners_with_paper(tmp_path):
    rgba = cv2.cvtColor(draw("3"), cv2.COLOR_BGR2BGRA)
    rgba[:40, :40, 3] = 0  # a transparent corner, hidden colour black
    rgba[:40, :40, :3] = 0
    st = external.find_digits(save(rgba, tmp_path / "c.png"))
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
    got, size = external.load_image(path)
    assert got.shape == expected.shape
    assert size == (expected.shape[1], expected.shape[0])
    assert np.abs(got.astype(int) - expected).mean() < 1


def test_large_jpeg_reduced_decode_keeps_boxes_in_full_resolution(tmp_path):
    img = draw("4", (4000, 3000), scale=40, thickness=60)
    path = save(img, tmp_path / "big.jpg", cv2.IMWRITE_JPEG_QUALITY, 85)
    st = external.find_digits(path)
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
        with pytest.raises(external.ImageReadError) as info:
            external.read_image(path)
        msg = str(info.value)
        assert str(path) in msg and words in msg and "\n" not in msg


@pytest.mark.parametrize("kind", ["jpg", "png"])
def test_truncated_files_raise(tmp_path, kind):
    raw = cv2.imencode(f".{kind}", draw("5"))[1].tobytes()
    path = tmp_path / f"cut.{kind}"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(external.ImageReadError, match="truncated"):
        external.read_image(path)


def _clear_or_no_digits(path: Path) -> str:
    """Read a file; must end in ImageReadError, or a result, quickly."""
    start = time.perf_counter()
    try:
        result = external.read_digits(path, mean_class_model())
        outcome = "digits" if result.digits else "none"
    except external.ImageReadError as exc:
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
    result = external.read_digits(path, mean_class_model())
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
    model = mean_class_model()
    res = external.read_digits(img, model, threshold=0.99)
    assert len(res.digits) == 2
    d = res.digits[0]
    assert d.label == d.top3[0][0] and len(d.top3) == 3
    assert d.probability == pytest.approx(d.top3[0][1])
    assert d.low_confidence  # a random model is never 99 % sure
    assert d.bbox[0] < 300 <= res.digits[1].bbox[0]  # original pixels, reading order
    assert d.input.shape == (28, 28)
    json.dumps(res.to_dict())
    assert res.text == "".join(str(x.label) for x in res.digits)
    assert external.annotate(res).shape == img.shape


def test_numpy_model_layers_match_reference_formulas():
    rng = np.random.default_rng(2)
    x = rng.random((3, 6, 6, 2)).astype(np.float32)
    k = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)
    got = external._conv2d(x, k, "same")
    pad = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    ref = np.zeros((3, 6, 6, 4), np.float32)
    for i in range(6):
        for j in range(6):
            ref[:, i, j] = np.einsum("nabc,abcd->nd", pad[:, i : i + 3, j : j + 3], k)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- command line


@pytest.fixture
def tiny_model(tmp_path) -> Path:
    return write_tiny_keras(tmp_path / "tiny.keras")


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
    assert set(d) == {"label", "probability", "top3", "bbox", "low_confidence"}
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


def test_cli_predict_all_bad_files_never_loads_a_model(tmp_path, capsys):
    rc = cli.main(["predict", str(tmp_path / "nope.png"), "--model", "no-such-model"])
    assert rc == 1 and "nope.png" in capsys.readouterr().err


def test_cli_evaluate_external_without_the_folder(tmp_path, capsys):
    assert cli.main(["evaluate-external", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path) in err and len(err.strip().splitlines()) == 1


def test_cli_predict_cold_start_does_not_import_tensorflow(tmp_path, tiny_model):
    good = save(draw("6"), tmp_path / "six.png")
    code = ("import sys; from helpers import cli; rc = cli.main(['predict', sys.argv[1], '--model', "
            "sys.argv[2]]); assert 'tensorflow' not in sys.modules; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(good), str(tiny_model)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "1 digit read" in proc.stdout


# --------------------------------------------------------------------------- samples, USPS


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
        st = external.find_digits(SAMPLES / name)
        assert len(st.boxes) == n, name
    st = external.find_digits(SAMPLES / "chalk.jpg")
    assert not st.dark_ink


def test_usps_rows_become_mnist_form():
    rows = -np.ones((2, 256))
    rows[0].reshape(16, 16)[2:14, 7:9] = 1.0  # a 1
    rows[1].reshape(16, 16)[3:13, 3:13] = 1.0  # a filled square
    x = external.usps_to_mnist(rows)
    assert x.shape == (2, 28, 28)
    for im in x:
        cy, cx = centre_of_mass(im)
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
        ys, xs = np.nonzero(im > 0.05)
        assert max(np.ptp(ys), np.ptp(xs)) + 1 in (19, 20, 21)


needs_external = pytest.mark.skipif(
    not (external.external_root() / "labels.csv").is_file(),
    reason=f"external-digits set not found at {external.external_root()} "
    f"(set ${external.EXTERNAL_ENV} to measure on real handwriting)",
)


@needs_external
def test_load_external_set_and_usps():
    df = external.load_external_set()
    assert len(df) > 300 and set(df["label"]) == set(range(10))
    assert all(Path(f).is_file() for f in df["file"])
    if (external.external_root() / "usps" / "usps.mat").is_file():
        x_tr, y_tr, x_te, y_te = external.load_usps()
        assert x_tr.shape == (7291, 28, 28) and x_te.shape == (2007, 28, 28)
        assert np.bincount(y_te).tolist() == [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]


# --------------------------------------------------------------------------- with trained models


@pytest.fixture(scope="module")
def default_model():
    from helpers import training

    name = training.best_model_name()
    return name, training.get_model(name)


@pytest.mark.slow
def test_numpy_model_matches_keras_for_every_cached_model(default_model):
    from helpers import data, training

    x = data.load_splits().x_val[:200]
    for name in training.RECIPES:
        if training.is_current(name):
            keras_p = training.predict_proba(training.load_model(name), x)
            numpy_p = external.NumpyModel.load(training.model_path(name))(x)
            np.testing.assert_allclose(numpy_p, keras_p, atol=1e-4)
    assert external._models_dir() == training.models_dir()


@pytest.mark.slow
def test_samples_are_read_correctly(default_model):
    _, model = default_model
    expected = {"single.jpg": "7", "multi.jpg": "314159", "chalk.jpg": "5", "ruled.jpg": "207"}
    for name, text in expected.items():
        got = external.read_digits(SAMPLES / name, model).text
        assert len(got) == len(text), name
        assert sum(a == b for a, b in zip(got, text, strict=True)) >= len(text) - 1, (name, got)


@pytest.mark.slow
def test_cli_predict_default_model_subprocess(tmp_path):
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
    summary = external.summarize_external(external.evaluate_external(model))
    print(f"\n{name}: {summary}")
    assert summary.accuracy >= EXTERNAL_FLOOR, f"{name}: external accuracy {summary.accuracy:.1%}"


@pytest.mark.slow
@needs_external
def test_usps_accuracy_floor(default_model):
    name, model = default_model
    acc = external.usps_accuracy(model)
    assert acc >= USPS_FLOOR, f"{name}: USPS test accuracy {acc:.1%}"
