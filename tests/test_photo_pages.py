"""Pages, shadows, lines and rows: the photo pipeline on whole pages, and the synthetic development set."""

from __future__ import annotations

import json
import sys

import cv2
import numpy as np
import pytest
from support import draw

from helpers import photo
from helpers.data import REPO_ROOT
from helpers.photo import lines, page, synthetic
from helpers.photo.ink import ink_mask

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import photo_dev  # noqa: E402


def label_model(labels: list[int]):
    """A stand-in model that answers `labels` in turn, sure of each."""

    def model(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), 10), np.float32)
        out[np.arange(len(x)), [labels[i % len(labels)] for i in range(len(x))]] = 1.0
        return out

    return model


def page_on_desk(text: str = "", size=(800, 650), desk=(40, 60, 90)) -> tuple[np.ndarray, np.ndarray]:
    """A white page with `text` on it, lying on a brown desk; returns the photo and the page's mask."""
    grain = np.random.default_rng(0).normal(0, 6, (size[1], size[0], 1))  # a photo's desk is never flat
    img = np.clip(np.full((size[1], size[0], 3), desk, np.float64) + grain, 0, 255).astype(np.uint8)
    page_img = draw(text, (600, 500), scale=4, thickness=9) if text else np.full((500, 600, 3), 235, np.uint8)
    img[75:575, 100:700] = page_img
    truth = np.zeros(img.shape[:2], np.uint8)
    truth[75:575, 100:700] = 1
    return img, truth


def test_page_is_found_and_the_desk_is_not_ink():
    img, truth = page_on_desk("35")
    found = page.find_page(img)
    assert found.shape == truth.shape
    assert (found & ~truth.astype(bool)).sum() == 0, "no desk is taken for page"
    assert found[125:525, 150:650].all(), "the page's inside is page"
    st = photo.find_digits(img)
    assert len(st.boxes) == 2
    assert all(x >= 100 and x + w <= 700 and y >= 75 and y + h <= 575 for x, y, w, h in st.boxes)


def test_blank_page_on_a_desk_reads_nothing():
    img, _ = page_on_desk("")
    assert photo.find_digits(img).boxes == []


@pytest.mark.parametrize("where", ["bottom", "diagonal"])
def test_hard_shadow_across_the_page_is_no_digit_and_hides_none(where):
    img = draw("47", (700, 500), scale=5, thickness=10).astype(np.float32)
    shade = np.ones(img.shape[:2], np.float32)
    if where == "bottom":
        shade[380:] = 0.45  # a hand's shadow across the bottom, a hard edge
    else:
        cv2.fillPoly(shade, [np.array([[0, 250], [700, 120], [700, 500], [0, 500]], np.int32)], 0.5)
    img = np.clip(img * cv2.GaussianBlur(shade, (0, 0), 2)[..., None], 0, 255).astype(np.uint8)
    st = photo.find_digits(img)
    assert len(st.boxes) == 2, st.boxes
    blank = np.clip(np.full_like(img, 235).astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8)
    assert photo.find_digits(blank).boxes == []


def test_a_sliver_of_grey_desk_on_a_blank_page_is_no_digit_but_a_tight_crop_is_read():
    # A grey desk is as light as paper in shadow, so the page is not told from it; a thin wedge
    # of it along one side was the photo's only blob, kept as if it were a tightly cropped digit.
    grain = np.random.default_rng(0).normal(0, 3, (800, 600, 1))
    blank = np.clip(np.full((800, 600, 3), 235.0) + grain, 0, 255)
    cv2.fillPoly(blank, [np.array([[0, 120], [22, 120], [0, 760]], np.int32)], (150, 150, 150))
    assert photo.find_digits(blank.astype(np.uint8)).boxes == []
    # The desk seen on three sides, its grain streaked: one piece as wide and tall as the picture.
    rng = np.random.default_rng(0)
    streaks = 150 * (1 + 0.12 * cv2.resize(rng.normal(0, 1, (266, 4)).astype(np.float32), (600, 800)))
    outside = np.ones((800, 600), np.uint8)
    cv2.fillPoly(outside, [np.array([[40, 20], [600, 0], [600, 800], [32, 770]], np.int32)], 0)
    framed = blank.copy()
    framed[outside > 0] = streaks[outside > 0, None]
    found = photo.find_digits(np.clip(framed, 0, 255).astype(np.uint8))
    assert [c.dropped for c in found.components if c.area > 0.1 * outside.sum()] == ["edge"]
    assert found.boxes == []
    # A strip of that desk along one side, three quarters of the picture tall: it lies along the side.
    strip = np.zeros((800, 600), np.uint8)
    cv2.fillPoly(strip, [np.array([[580, 150], [600, 150], [600, 780], [590, 780]], np.int32)], 1)
    striped = np.clip(np.full((800, 600, 3), 235.0) + grain, 0, 255)
    striped[strip > 0] = streaks[strip > 0, None]
    found = photo.find_digits(np.clip(striped, 0, 255).astype(np.uint8))
    assert [c.dropped for c in found.components if c.box[3] > 400] == ["edge"]
    assert found.boxes == []
    seven = draw("7", (160, 200), scale=6, thickness=14)
    tight = seven[int(np.nonzero(seven.min(axis=(1, 2)) < 128)[0][0]):]  # its bar on the top border
    assert len(photo.find_digits(tight).boxes) == 1



def test_the_shaded_rim_of_a_page_corner_is_no_tight_crop():
    # The page's corner inside the picture: its shaded rim runs close along the top and the right
    # side, an L that touches the border only where it leaves the picture. As the photo's only
    # blob it passed for a tightly cropped 7; its pixels all lie near the border, a digit's do not.
    grain = np.random.default_rng(0).normal(0, 3, (800, 600, 1))
    blank = np.clip(np.full((800, 600, 3), 235.0) + grain, 0, 255)
    cv2.polylines(blank, [np.array([[250, 0], [575, 12], [586, 560]], np.int32)], False, (80, 80, 80), 14)
    found = photo.find_digits(blank.astype(np.uint8))
    assert [c.dropped for c in found.components if c.area > 1000] == ["edge"]
    assert found.boxes == []


@pytest.mark.parametrize("seed", [80, 94])
def test_a_blank_page_found_on_a_desk_is_read_as_dark_ink(seed):
    # Blank synthetic photos whose polarity votes lean clearly light (the grain, a fold): read as
    # light ink, the paper's texture became "digits". A page told apart from a darker desk is paper.
    ph = synthetic.blank_photo(np.random.default_rng(seed))
    work, _ = photo.ink.working_image(ph.image)
    gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY)
    found_page = page.find_page(work)
    assert not found_page.all() and photo.polarity_votes(page.on_page(gray, found_page)) < -1
    st = photo.find_digits(ph.image)
    assert st.dark_ink and st.boxes == []

def test_ruled_line_is_removed_but_the_bar_of_a_seven_is_kept():
    seven = draw("7", (300, 300), scale=7, thickness=12)
    gray = cv2.cvtColor(seven, cv2.COLOR_BGR2GRAY)
    mask = ((gray < 128) * 255).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    top = mask[ys.min() : ys.min() + 10, xs.min() : xs.max() + 1]
    kept = lines.remove_long_lines(mask)
    assert (kept[ys.min() : ys.min() + 10, xs.min() : xs.max() + 1] > 0).sum() >= 0.9 * (top > 0).sum()
    ruled = np.pad(mask, ((0, 0), (150, 150)))
    ruled[200:203, :] = 255  # a ruled line across the page, through the stem, well past the digit
    out = lines.remove_long_lines(ruled)
    assert (out[200:203, :150] > 0).sum() == 0 and (out[200:203, 450:] > 0).sum() == 0
    assert (out[ys.min() : ys.min() + 10, 150:450] > 0).sum() >= 0.9 * (top > 0).sum(), "the bar stays"


def _tight(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].copy()


def test_a_thin_line_across_a_tight_crop_of_a_thick_digit_is_erased_but_a_bar_from_side_to_side_is_kept():
    """In a tight crop a thick digit is nearly as tall as the picture and joins the ruled line
    through it into one run far taller than a line: a line across the whole crop, at most
    half as thick as the pen, is printed all the same. A 7's bar from side to side stays, even drawn with a
    fine pen."""
    gray = cv2.cvtColor(draw("6", (260, 300), scale=7, thickness=26), cv2.COLOR_BGR2GRAY)
    six = np.pad(_tight(((gray < 128) * 255).astype(np.uint8)), ((8, 8), (40, 40)))
    h, w = six.shape
    ruled = six.copy()
    ruled[h // 2 : h // 2 + 2, :] = 255  # a ruled line through the middle, edge to edge
    ruled[:, 15:17] = 255  # and a margin line, top to bottom, left of the digit
    out = lines.remove_long_lines(ruled)
    assert (out[:, :40] > 0).sum() == 0 and (out[:, w - 40 :] > 0).sum() == 0, "the lines are erased"
    assert ((out > 0) & (six > 0)).sum() >= 0.97 * (six > 0).sum(), "the digit's strokes stay"
    # A fine pen, so that the bar is as thin as a printed line may be in a picture this size.
    gray = cv2.cvtColor(draw("7", (500, 700), scale=22, thickness=8), cv2.COLOR_BGR2GRAY)
    seven = _tight(((gray < 128) * 255).astype(np.uint8))
    kept = lines.remove_long_lines(seven)
    assert ((kept > 0) & (seven > 0)).sum() >= 0.97 * (seven > 0).sum(), "the bar stays"


def test_rows_and_text_in_the_result_and_its_json():
    top = np.hstack([draw("1"), draw("2"), draw("3")])
    bottom = np.hstack([draw("4"), draw("5"), np.full_like(draw("5"), 235)])
    img = np.vstack([top, bottom])
    res = photo.read_digits(img, label_model([1, 2, 3, 4, 5]))
    assert res.rows == ["123", "45"]
    assert res.text == "123\n45"
    assert [d.row for d in res.digits] == [0, 0, 0, 1, 1]
    record = json.loads(json.dumps(res.to_dict()))
    assert record["rows"] == ["123", "45"] and record["text"] == "123\n45"
    assert {"label", "probability", "bbox", "top3", "low_confidence"} <= set(record["digits"][0])


def test_typical_stroke_ignores_a_filled_shadow():
    mask = np.zeros((400, 600), np.uint8)
    for x in range(50, 550, 100):
        cv2.line(mask, (x, 50), (x + 30, 150), 255, 6)
    cv2.rectangle(mask, (0, 250), (600, 400), 255, -1)  # a shadow band, far wider than the pen
    assert 4 <= page.typical_stroke(mask) <= 9


def test_inner_blobs_leaves_out_what_comes_in_from_the_border():
    mask = np.zeros((200, 300), np.uint8)
    cv2.rectangle(mask, (0, 150), (300, 200), 255, -1)  # a shadow along the bottom
    cv2.line(mask, (100, 40), (180, 110), 255, 9)  # a stroke on the page
    inner = page.inner_blobs(mask)
    assert inner[150:].max() == 0
    assert np.array_equal(inner[:140], mask[:140])


def test_a_thick_pen_in_a_tight_crop_is_measured_wide_and_its_digit_found():
    # A harder development crop: a brush-thick 3 filling a 278x300 photo, a shadow along the bottom.
    crop = synthetic.hard_crop_photo(np.random.default_rng(102))
    assert crop.rows == ["3"] and crop.conditions["stroke"] > 1.2 and crop.conditions.get("shadow")
    st = photo.find_digits(crop.image)
    ones = np.ones(crop.image.shape[:2], np.uint8)
    # The first map alone measures about 2 px here: it takes most of each stroke for paper.
    assert page.pen_width(crop.image, st.dark_ink, ones) >= 20
    assert len(st.boxes) == 1
    x, y, w, h = st.boxes[0]
    assert h >= 0.5 * st.gray.shape[0] and y + h < 0.9 * st.gray.shape[0]  # the digit, not the shadow


def test_an_unclear_polarity_vote_reads_a_photo_as_dark_ink():
    # Synthetic photos whose polarity votes lean light by chance (paper grain outweighs a
    # small number): read as light ink, the grain became ink and the number was lost.
    number = synthetic.number_photo(np.random.default_rng(111))
    blank = synthetic.blank_photo(np.random.default_rng(44))
    found = []
    for ph in (number, blank):
        work, _ = photo.ink.working_image(ph.image)
        gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY)
        votes = photo.polarity_votes(page.on_page(gray, page.find_page(work)))
        assert -1 < votes < 0
        found.append(photo.find_digits(ph.image))
        assert found[-1].dark_ink
    assert number.rows == ["9774258262"] and len(found[0].boxes) == 10
    assert blank.rows == [] and found[1].boxes == []
    # A clear vote still reads chalk on a slate as light ink (`test_samples_are_found_whole`).


def test_synthetic_set_is_repeatable_and_never_uses_the_test_split():
    a = synthetic.dev_set(7, numbers=2, blanks=1, singles=2)
    b = synthetic.dev_set(7, numbers=2, blanks=1, singles=2)
    assert [p.rows for p in a] == [p.rows for p in b]
    assert all(np.array_equal(p.image, q.image) for p, q in zip(a, b, strict=True))
    numbers, blank, singles = a[:2], a[2], a[3:]
    assert all(p.rows and all(2 <= len(r) <= 12 and r.isdigit() for r in p.rows) for p in numbers)
    assert blank.rows == []
    assert all(len(p.rows) == 1 and len(p.rows[0]) == 1 for p in singles)
    assert all(p.image.dtype == np.uint8 and p.image.ndim == 3 for p in a)
    with pytest.raises(ValueError, match="never the test set"):
        synthetic.dev_set(7, numbers=1, blanks=0, singles=0, split="test")


def test_harder_crops_come_last_and_leave_a_seeds_other_pictures_unchanged():
    plain = synthetic.dev_set(7, numbers=1, blanks=1, singles=1)
    more = synthetic.dev_set(7, numbers=1, blanks=1, singles=1, hard=12)
    assert all(np.array_equal(p.image, q.image) for p, q in zip(plain, more[:3], strict=True))
    hard = more[3:]
    assert len(hard) == 12 and all(p.conditions["hard"] for p in hard)
    assert all(len(p.rows) == 1 and len(p.rows[0]) == 1 and p.image.dtype == np.uint8 for p in hard)
    # Frames of many sizes and shapes, as the crops people send are.
    shapes = {p.image.shape[:2] for p in hard}
    assert len(shapes) > 6 and any(h != w for h, w in shapes)


def test_rows_matched_counts_rows_read_exactly():
    assert photo_dev.rows_matched(["12", "34"], ["12", "35"]) == 1
    assert photo_dev.rows_matched(["7", "12", "34"], ["12", "34"]) == 2  # an extra row read
    assert photo_dev.rows_matched([], ["12"]) == 0


def squared(img: np.ndarray, step: int = 40, level: int = 175) -> np.ndarray:
    """`img` on squared paper: grey grid lines, lighter than the pen, `step` pixels apart."""
    out = img.copy()
    grid = np.zeros(img.shape[:2], bool)
    grid[::step, :] = grid[1::step, :] = True
    grid[:, ::step] = grid[:, 1::step] = True
    out[grid] = np.minimum(out[grid], level)
    return out


def test_squared_paper_grid_is_neither_ink_nor_joined_to_the_digits():
    img = squared(draw("35", (640, 480), scale=5, thickness=10))
    st = photo.find_digits(img)
    assert len(st.boxes) == 2, st.boxes
    assert all(w < 200 and h < 200 for _, _, w, h in st.boxes), "the grid is not part of a digit"
    assert photo.find_digits(squared(np.full_like(img, 235))).boxes == []


def test_ink_mask_grows_strokes_but_not_into_a_faint_grid():
    ink = np.zeros((300, 400), np.float32)
    ink[::30, :] = ink[:, ::30] = 0.2  # a printed grid, well fainter than the pen
    cv2.line(ink, (100, 100), (100, 200), 0.9, 7)
    cv2.line(ink, (100, 100), (100, 200), 0.35, 11)  # the stroke's faint edges
    cv2.line(ink, (100, 100), (100, 200), 0.9, 7)
    mask = ink_mask(ink) > 0
    assert mask[150, 95:106].all(), "the faint edges of the stroke are grown"
    assert not mask[60, :].any() and not mask[:, 300].any(), "the grid is not"
    plain = np.where(ink == 0.2, 0.0, ink).astype(np.float32)
    assert (ink_mask(plain) > 0)[150, 95:106].all()


def test_each_line_of_squared_paper_is_found_where_digits_join_two_of_them():
    """Digits written between two lines of a grid join them into one run of ink: both lines are found."""
    faint = np.zeros((800, 600), np.uint8)
    for x in range(30, 600, 60):
        cv2.line(faint, (x, 0), (x + 40, 799), 255, 4)  # tilted a little, as in a photo
    for y0 in (300, 330):
        cv2.line(faint, (215, y0), (285, y0), 255, 12)  # strokes of a digit touching both lines
    cv2.line(faint, (250, 300), (250, 400), 255, 12)
    found = sorted(int(np.nonzero(band[400])[0].mean()) for band, _ in lines._line_bands(faint, True))
    expected = [x + 20 for x in range(30, 600, 60)]
    assert len(found) == len(expected) and np.abs(np.array(found) - expected).max() <= 3, found


def test_lines_joined_by_a_row_of_thick_digits_are_found_but_a_desk_edge_is_no_line():
    """Thick digits across many lines of a grid join them into one run far wider than a line:
    each line is still found. A wedge of desk along a side is one straight edge of a filled
    shape, not a printed line, and is left to the page's rim and the edge rules."""
    faint = np.zeros((800, 600), np.uint8)
    for x in range(30, 600, 60):
        cv2.line(faint, (x, 0), (x + 40, 799), 255, 2)
    pts = np.array([[40 + 35 * i, 300 if i % 2 else 400] for i in range(13)], np.int32)
    cv2.polylines(faint, [pts], False, 255, 14)  # a row of marker strokes across seven lines
    found = sorted(int(np.nonzero(band[500])[0].mean()) for band, _ in lines._line_bands(faint, True))
    expected = [x + 25 for x in range(30, 600, 60)]
    assert len(found) == len(expected) and np.abs(np.array(found) - expected).max() <= 3, found
    wedge = np.zeros((800, 600), np.uint8)
    # The desk beyond a tilted page: a thin wedge along the left and the bottom, in one piece.
    cv2.fillPoly(wedge, [np.array([[0, 150], [0, 799], [500, 799], [14, 780]])], 255)
    assert lines._line_bands(wedge, True) == [] and lines._line_bands(wedge, False) == []


def test_a_fives_loose_bar_reaching_over_to_the_next_digit_stays_with_the_five():
    """The bar of a 5 drawn apart from its body ends nearer the next digit's box than its own
    body's; it joins the digit it lies above."""
    img = np.full((400, 900, 3), 235, np.uint8)
    ink = (30, 30, 30)
    cv2.line(img, (100, 100), (100, 250), ink, 10, cv2.LINE_AA)  # a 1
    cv2.line(img, (205, 125), (200, 175), ink, 10, cv2.LINE_AA)  # the 5's stem ...
    cv2.ellipse(img, (240, 205), (45, 45), 0, -150, 150, ink, 10, cv2.LINE_AA)  # ... and bowl
    cv2.line(img, (255, 105), (345, 105), ink, 10, cv2.LINE_AA)  # its bar, apart, reaching right
    cv2.line(img, (360, 100), (360, 250), ink, 10, cv2.LINE_AA)  # a 1 just past the bar's end
    boxes = photo.find_digits(img).boxes
    assert len(boxes) == 3, boxes
    five, one = boxes[1], boxes[2]
    assert five[1] < 105 and five[0] + five[2] >= 345, "the bar is part of the 5"
    assert one[0] >= 350 and one[2] < 20, "and not of the 1"


def test_a_seven_with_a_long_bar_stays_one_digit_in_a_number():
    """A group wider than a digit is cut into digits, but not where a piece would be a flat bar."""
    img = np.full((400, 900, 3), 235, np.uint8)
    ink = (30, 30, 30)
    for x in (100, 520, 640):
        cv2.line(img, (x, 100), (x, 250), ink, 10, cv2.LINE_AA)  # 1s
    cv2.line(img, (200, 100), (420, 100), ink, 10, cv2.LINE_AA)  # a 7, its bar wider than it is tall
    cv2.line(img, (420, 100), (330, 250), ink, 10, cv2.LINE_AA)
    boxes = photo.find_digits(img).boxes
    assert len(boxes) == 4, boxes
    assert boxes[1][2] > 200, "the 7 is one digit, its bar included"


def test_a_flat_dash_beside_a_number_is_no_digit():
    """A pen-thin stroke much wider than tall (a dash, a crease, a line's stub) is no digit."""
    img = np.full((400, 900, 3), 235, np.uint8)
    ink = (30, 30, 30)
    for x in (100, 220):
        cv2.line(img, (x, 100), (x, 220), ink, 10, cv2.LINE_AA)  # 1s
    cv2.line(img, (330, 240), (450, 244), ink, 10, cv2.LINE_AA)  # a dash beside them, a digit wide
    boxes = photo.find_digits(img).boxes
    assert len(boxes) == 2, boxes
    assert all(x < 300 for x, _, _, _ in boxes)


def aspect_model():
    """A stand-in model that reads a 0, sure of it when the input's ink is taller than wide.

    An MNIST model is unsure of two digits squeezed into one 20-pixel box, and sure of one;
    the slimmer a tall shape, the surer (so that the even cut of a pair reads best).
    """

    def model(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), 10), np.float64)
        for k, img in enumerate(x):
            ys, xs = np.nonzero(img > 0.3)
            aspect = np.ptp(xs) / max(np.ptp(ys), 1) if len(xs) else 9.0
            out[k, 0] = 1 - 1e-3 * aspect**2 if aspect <= 1 else 0.6
            out[k, 1:] = (1 - out[k, 0]) / 9
        return out

    return model


def overlapping_zeros(alone: int = 2) -> np.ndarray:
    """`alone` 0s, then a pair of 0s overlapping so that no clean cut parts them."""
    img = np.full((300, 180 * alone + 360, 3), 235, np.uint8)
    for cx in [120 + 180 * k for k in range(alone)] + [180 * alone + 170, 180 * alone + 260]:
        cv2.ellipse(img, (cx, 150), (55, 90), 0, 0, 360, (30, 30, 30), 10, cv2.LINE_AA)
    return img


def wide_checker(whole_below: float = 1.0):
    """A stand-in checker of whole digits: an input whose ink is wider than `whole_below` times
    its height is not one whole digit (probability 0.1), any other is (0.9)."""

    def checker(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), 1), np.float32)
        for k, img in enumerate(x):
            ys, xs = np.nonzero(img > 0.3)
            out[k, 0] = 0.1 if len(xs) and np.ptp(xs) > whole_below * np.ptp(ys) else 0.9
        return out

    return checker


def test_a_wide_group_the_checker_finds_not_whole_is_read_as_two_digits():
    img = overlapping_zeros(alone=3)
    stages = photo.find_digits(img)
    assert len(stages.boxes) == 4, "the overlapping pair is one group for the image part"
    split, probs = photo.classify(stages, aspect_model(), whole=wide_checker())
    assert len(split.boxes) == len(split.inputs) == len(split.crops) == len(split.rows) == len(probs) == 5
    x, y, w, h = stages.boxes[3]
    for bx, by, bw, bh in split.boxes[3:]:
        assert x <= bx and bx + bw <= x + w and y <= by and by + bh <= y + h
        assert bw < 0.7 * w and bh >= 0.7 * h
    assert split.boxes[3][0] < split.boxes[4][0], "reading order kept"
    result = photo.make_result(None, split, probs)
    assert result.text == "00000" and all(not d.low_confidence for d in result.digits)


def test_a_group_the_checker_finds_whole_is_never_cut_however_unsure_the_model():
    stages = photo.find_digits(overlapping_zeros(alone=3))
    split, _ = photo.classify(stages, aspect_model(), whole=wide_checker(whole_below=9.0))
    assert len(split.boxes) == 4, "the digit model is unsure of the pair, but the checker decides"
    one = overlapping_zeros()[:, 440:720]
    assert len(photo.read_digits(one, aspect_model(), single=True).digits) == 1, "--single never cuts"


def test_without_a_measured_digit_width_only_a_very_wide_group_the_model_is_unsure_of_is_cut():
    """Two lone 0s and a pair: no typical width to measure, so the checker is not asked."""
    stages = photo.find_digits(overlapping_zeros(alone=2))
    assert len(stages.boxes) == 3

    def refuse(x: np.ndarray) -> np.ndarray:
        raise AssertionError("the checker is asked only when a typical digit width was measured")

    split, _ = photo.classify(stages, aspect_model(), whole=refuse)
    assert len(split.boxes) == 4, "1.4 guessed widths wide and read unsurely: cut, as before the checker"

    def sure(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), 10))
        out[:, 0] = 1.0
        return out

    split, _ = photo.classify(stages, sure, whole=refuse)
    assert len(split.boxes) == 3, "read surely: kept whole"


def test_pieces_read_fairly_surely_are_enough_only_where_the_checker_found_the_group_not_whole():
    """Pieces read at 0.96 each (product 0.92): enough after the checker's verdict, not without it."""

    def fairly_sure(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), 10))
        for k, img in enumerate(x):
            ys, xs = np.nonzero(img > 0.3)
            out[k, 0] = 0.96 if len(xs) and np.ptp(xs) <= np.ptp(ys) else 0.6
            out[k, 1:] = (1 - out[k, 0]) / 9
        return out

    measured = photo.find_digits(overlapping_zeros(alone=3))
    split, _ = photo.classify(measured, fairly_sure, whole=wide_checker())
    assert len(split.boxes) == 5, "the checker found the pair not whole; pieces at 0.92 are enough"
    guessed = photo.find_digits(overlapping_zeros(alone=2))
    split, _ = photo.classify(guessed, fairly_sure, whole=wide_checker())
    assert len(split.boxes) == 3, "without a measured width the pieces must be read at 0.99"


def leaning_zeros() -> np.ndarray:
    """Three lone 0s leaning right, then two more touching: any upright cut takes a bit of one
    with the other; a cut leaning as they do parts them."""
    img = np.full((300, 1000, 3), 235, np.uint8)
    for cx in (100, 250, 400, 600, 692):
        cv2.ellipse(img, (cx, 150), (40, 90), 17, 0, 360, (30, 30, 30), 10, cv2.LINE_AA)
    return img


def template_model(template: np.ndarray):
    """A stand-in model that reads a 0 the surer the closer its input is to `template` (a lone 0 as
    the model sees it): at least 0.96, so that any two pieces together reach
    `split.PIECES_SURE_NOT_WHOLE`, and the pieces most like whole 0s are read most surely."""

    def model(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), 10))
        out[:, 0] = 1 - 0.04 * np.abs(np.asarray(x) - template).mean(axis=(1, 2)) / 0.2
        out[:, 0] = out[:, 0].clip(0.96, 1.0)
        out[:, 1:] = (1 - out[:, :1]) / 9
        return out

    return model


def test_a_touching_pair_of_leaning_digits_is_cut_along_their_slant():
    """Whether to cut is decided by upright cuts, as before; the cut that parts the two rings
    leans (`split.SLANTS`), and each piece's box is one whole 0's."""
    stages = photo.find_digits(leaning_zeros())
    assert len(stages.boxes) == 4, "the touching pair is one group for the image part"
    split, _ = photo.classify(stages, template_model(stages.inputs[0]), whole=wide_checker())
    assert len(split.boxes) == 5
    lone = stages.boxes[0][2]
    for _, _, w, _ in split.boxes[3:]:
        assert abs(w - lone) <= 4, f"a piece {w} px wide, a 0 {lone}: it took a bit of its neighbour"


def test_a_low_flat_mark_in_a_row_of_its_own_is_no_digit():
    """The page's edge against a striped desk, a loose bit above a number: a mark much lower than
    the digits (`segment.STRAY_LOW`) and alone in its row is dropped."""
    img = draw("2468", size=(1000, 520), scale=5.0, thickness=12, org=(120, 300))
    wave = np.array([(600 + 4 * k, 60 + round(7 * np.sin(k / 4))) for k in range(31)], np.int32)
    cv2.polylines(img, [wave], False, (30, 30, 30), 8, cv2.LINE_AA)  # a low wavy mark, far above
    stages = photo.find_digits(img)
    assert len(stages.boxes) == 4, stages.boxes
    assert all(y > 150 for _, y, _, _ in stages.boxes)
    assert any(c.dropped == "speck" and c.box[1] < 100 for c in stages.components)


def test_a_round_filled_blot_beside_a_number_is_no_digit():
    """A lens smudge: a round blot, filled (solidity near 1) with strokes a third of its size, under
    `shape.BLOB_STROKE`; a thick leaning 1 beside it, as filled but long, stays a digit."""
    img = draw("2468", size=(1000, 520), scale=5.0, thickness=12, org=(120, 300))
    cv2.line(img, (640, 300), (700, 170), (20, 20, 20), 26, cv2.LINE_AA)  # a thick leaning 1
    blot = np.zeros(img.shape[:2], np.float32)
    cv2.ellipse(blot, (850, 420), (22, 42), 0, 0, 360, 1.0, -1)
    blot = cv2.GaussianBlur(blot, (0, 0), 3)
    img = (img * (1 - 0.7 * blot[..., None])).astype(np.uint8)
    stages = photo.find_digits(img)
    assert len(stages.boxes) == 5, stages.boxes
    assert 600 < stages.boxes[4][0] < 700, "the thick 1 is read, the blot is not"
    assert any(c.dropped == "blob" and c.box[0] > 800 for c in stages.components)
