# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 — Reading digits from photos
#
# Our models read MNIST almost perfectly. Now photograph a digit written on paper and ask
# them: they often fail. Not because the handwriting is harder, but because the picture is
# nothing like what the model has seen. Every MNIST image is
#
# * 28×28 pixels, **white ink on black**, with no paper, shadows or ruled lines;
# * the digit's longer side scaled to **20 pixels**, keeping its proportions;
# * placed so that its **centre of mass** is at the centre of the image;
# * written with strokes about **2–3 pixels** wide at that size.
#
# A phone photo is a few million pixels of off-white paper with dark, thin strokes
# somewhere in it, lit unevenly. Shrinking the whole photo to 28×28 reads far fewer real
# handwritten digits correctly than the pipeline below (both are measured at the end).
# So we rebuild MNIST's form from the photo, step by step, the way MNIST itself was made.
#
# In this notebook:
# 1. one photo, every step shown: read → gray → ink map → ink mask → components → crop →
#    28×28 → prediction;
# 2. a photo with several digits in two rows, ruled paper, and chalk on a slate;
# 3. a whole page: the desk beyond it, a shadow across it, rows of numbers, touching digits,
#    and what is not a digit, on the project's synthetic development photos;
# 4. your own photos, from `data/external/`;
# 5. how well it works on real handwriting that is not MNIST: scikit-learn's UCI digits (always
#    at hand), then 386 photos, scans and drawings from other projects, and the USPS digits.
#
# The sample photos are made by the project itself (`notebooks/samples/make_samples.py`
# draws hand-like strokes on synthetic paper with lighting, blur and noise). All the
# pipeline's settings come from MNIST's training set and from synthetic pictures like these;
# the real photos of part 5 are used only to measure, never to tune.

# %%
import json
import os

import cv2
import numpy as np
import pandas as pd
from IPython.display import display

from helpers import data, drawing, external_sets, inference, model_cache, photo, plots, registry, training
from helpers.photo import segment, synthetic, whole

training.set_seed(42)

SAMPLES = data.REPO_ROOT / "notebooks" / "samples"
MY_PHOTOS = data.REPO_ROOT / "data" / "external"


def rgb(img: np.ndarray) -> np.ndarray:
    """OpenCV keeps colour as BGR; matplotlib wants RGB."""
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if img.ndim == 3 else img


def show(images, titles=(), *, ncols=None, size=2.6, cmap="gray"):
    """Images side by side in one figure (at `plots.DPI`)."""
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    fig, axes = plots.panels(nrows, ncols, figsize=(size * ncols, size * nrows), photo=True)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < len(images):
            img = images[i]
            ax.imshow(rgb(img), cmap=cmap, vmin=0, vmax=1 if img.dtype != np.uint8 else 255)
            if i < len(titles):
                ax.set_title(titles[i], fontsize=9)
    return fig


# %% [markdown]
# ## The model
#
# We use the project's best model: the one with the highest accuracy on the MNIST
# *validation* split among those the series trains (`registry.best_model_name()`; today the
# convolutional network that notebook 06 explains: the notebooks run in any order, and here it
# is simply the best digit reader we have).
# `model_cache.train_series()` first trains any of them that is not in the cache yet, or that
# was made by older code: with nothing cached, up to about 30 minutes on a 2-core laptop (the
# three models' times are printed in notebooks 02, 03 and 06); with the cache, a few seconds.
# The CNN trains in mixed bfloat16 where the CPU computes bfloat16 itself, and in float32
# elsewhere (the cell prints which). This notebook's committed outputs come from a machine
# without AVX512-BF16, so its CNN was trained in float32, and its numbers differ a little from
# those notebook 06's committed outputs print for the CNN trained in bfloat16.

# %%
name = model_cache.train_series()
model = model_cache.get_model(name)
model_record = registry.load_metrics(name)
print(f"model: {name} (MNIST validation accuracy {model_record.get('val_accuracy', float('nan')):.2%}; "
      f"trained in {model_record.get('precision', 'float32')})")

# %% [markdown]
# ## 1. One digit, step by step
#
# Here is the photo: a 7 in blue ballpoint on off-white paper, lit from one side, slightly
# tilted, a little blurred and noisy, like a phone picture.

# %%
single = SAMPLES / "single.jpg"
st = photo.find_digits(single)
show([st.original], [f"{single.name}: {st.size[0]}×{st.size[1]} px"], size=3.2)

# %% [markdown]
# ### Step 1 — read the file, then gray
#
# `photo.read_image` reads PNG, JPEG, BMP, TIFF and WebP, colour or grayscale, 8 or 16
# bits. It turns the picture upright as the camera's EXIF tag says (phones store portrait
# photos sideways), paints a transparent background as paper, and gives a one-line error
# for a missing, empty, truncated or non-image file instead of a traceback. Big photos are
# shrunk to at most 1,600 px (a 12-megapixel JPEG is decoded at half size directly, which is
# much faster), tiny ones enlarged to 256 px, so every later step works at one scale.

# %%
print(f"working size: {st.gray.shape[1]}×{st.gray.shape[0]} (scale {st.scale:.3f})")
show([st.gray], ["gray"], size=3.2)

# %% [markdown]
# ### Step 2 — which way round, and where the ink is
#
# MNIST is light ink on dark; photos are usually dark ink on light paper, but chalk on a
# board or a drawing on a black canvas is the other way. First `find_page` looks for the
# paper: the largest bright region of the paper's colour (a desk beyond the page's edge is
# darker or of another colour; part 3 shows one). Then `detect_dark_ink` decides on the page
# alone, from the fact that the paper is the majority and the ink is what deviates from it.
# Three tests vote, each between −1 (light ink) and +1 (dark ink): on which side of an Otsu
# threshold most pixels fall once the lighting is removed by a wide median, the same once it
# is removed by a wide Gaussian blur, and whether the strong deviations from the background
# are darker or lighter.
#
# The light falls unevenly: the right of the page is darker than the left. A fixed
# threshold would take the dark side for ink. So we estimate the paper itself: a grey
# *closing* (for dark ink) with a kernel three pen strokes wide erases every stroke but
# keeps everything wider, the lighting and even a shadow's sharp edge. (The pen's width is
# measured first, on a rough ink map.) Dividing by it gives, for each pixel, how much darker
# it is than the paper around it — the **ink map** (for light ink: the share of the way from
# the local background to white). Each colour channel is treated on its
# own and the strongest kept, so blue ballpoint counts as much as black ink.

# %%
print("dark ink on light paper" if st.dark_ink else "light ink on dark paper")
show([st.gray, st.ink], ["gray", "ink map (0 = paper, 1 = full ink)"], size=3.2)

# %% [markdown]
# **A vote that is not clear.** `polarity_votes` adds the three votes, and `detect_dark_ink`
# compares the sum with a margin. On a page with little
# or no ink they mostly weigh the paper's grain; then their sum is close to 0 and falls either
# way. Read as light ink, a white page leaves little room between the paper and white, and the
# ink map divides by that room: grain a few grey levels brighter than its surroundings shows
# up as faint ink, and the page's bright edge against a darker desk as a stroke. So light ink
# needs a clear vote, a sum below −`LIGHT_MARGIN` (−1). Below, a blank synthetic photo (made
# as part 3 describes, and picked because its votes lean slightly light; its strip of desk is
# too small for `find_page` to set the page apart, so the vote decides), read with a plain
# majority (`LIGHT_MARGIN = 0`, the pipeline's earlier rule) and then as the pipeline reads it
# now: with the plain majority the grain stays faint here, but the page's edge is read as a
# digit; with the margin, nothing is read.

# %%
grainy = synthetic.blank_photo(np.random.default_rng(44))
gwork, _ = photo.ink.working_image(grainy.image)
ggray = cv2.cvtColor(gwork, cv2.COLOR_BGR2GRAY)
votes = photo.polarity_votes(photo.page.on_page(ggray, photo.find_page(gwork)))
print(f"blank page, polarity votes {votes:+.2f}")
margin = photo.ink.LIGHT_MARGIN
reads = {}
try:
    for m in (0.0, margin):
        photo.ink.LIGHT_MARGIN = m
        reads[m] = photo.read_digits(grainy.image, model)
finally:
    photo.ink.LIGHT_MARGIN = margin
for m, r in reads.items():
    print(f"LIGHT_MARGIN = {m:.0f}: {'dark' if r.stages.dark_ink else 'light'} ink; {r.message}; "
          f"read {[f'{d.label} at {d.probability:.0%}' for d in r.digits]}")
show([reads[0.0].stages.ink, photo.annotate(reads[0.0]), reads[margin].stages.ink, photo.annotate(reads[margin])],
     ["ink map, read as light ink", "read (margin 0)", "ink map, read as dark ink", f"read (margin {margin:.0f})"],
     size=2.8)

# %% [markdown]
# **A page found is paper.** When `find_page` tells a page apart from a darker desk, the
# pipeline does not vote at all: paper lighter than what lies around it carries dark ink. On a
# blank page the votes weigh only the grain and a fold, and can lean clearly light
# (below −1), as they do for the blank synthetic photo below; read as light ink, it gave two
# small false "digits" before this rule (a development run, not stored).

# %%
onpage = synthetic.blank_photo(np.random.default_rng(80))
print("conditions:", onpage.conditions)
pwork, _ = photo.ink.working_image(onpage.image)
pgray = cv2.cvtColor(pwork, cv2.COLOR_BGR2GRAY)
pfound = photo.find_page(pwork)
print(f"page found on {pfound.mean():.0%} of the picture; polarity votes on it "
      f"{photo.polarity_votes(photo.page.on_page(pgray, pfound)):+.2f}")
onpage_read = photo.read_digits(onpage.image, model)
print(f"{'dark' if onpage_read.stages.dark_ink else 'light'} ink; {onpage_read.message}")

# %% [markdown]
# **A pen wider than the first guess.** The rough ink map takes as paper whatever is wider
# than 4 % of the picture. In a tight crop of a digit written with a thick pen, the strokes
# are wider than that. A paper estimate made for a pen thinner than its strokes keeps most
# of each stroke as paper, so the digit fades from the ink map (the second image below), and
# the pen measured on such a map comes out far too thin. The pen is therefore measured a
# second time, on a map whose paper is what is wider than a fifth of the picture, counting
# only blobs clear of the picture's border: a shadow or the desk comes in from outside the
# picture, a written stroke usually does not (a digit that runs off the frame is not helped).
# If the width measured this way is more than twice the first measurement, it replaces it.
# Below, one of the project's harder synthetic crops (part 3 says how the development photos
# are made): a thick 3 filling the frame, with a shadow along the bottom. Its ink map with the
# paper estimated for a 2-pixel pen (an example of a thin pen), then for the width measured,
# and what is read.

# %%
thick = synthetic.hard_crop_photo(np.random.default_rng(102))
tst = photo.find_digits(thick.image)
twork, _ = photo.ink.working_image(tst.original)
width = photo.page.pen_width(twork, tst.dark_ink, photo.find_page(twork))
thin_pen = photo.ink.ink_ratio(255 - twork if tst.dark_ink else twork,
                               photo.paper_background(twork, tst.dark_ink, 2.0))
thick_read = photo.read_digits(thick.image, model)
print(f"written {thick.rows[0]} ({thick.conditions['kind']}, {thick.conditions['size']} px); "
      f"pen width measured: {width:.0f} px; read {thick_read.text!r} ({thick_read.message})")
show([thick.image, thin_pen, tst.ink, photo.annotate(thick_read)],
     ["harder crop: thick pen, shadow", "ink map, paper for a 2 px pen",
      f"ink map, paper for the {width:.0f} px pen", "read"], size=2.6)

# %% [markdown]
# ### Step 3 — the ink mask
#
# Otsu's method picks the threshold between paper and ink, but never below six times the
# paper's noise, so a blank page stays blank. Pixels above half the threshold are kept when
# they touch a pixel above it (*hysteresis*): a faint stretch of a stroke stays attached.
# On squared or ruled paper that growth would run along the printed lines and join every
# digit to them, so when the faint pixels outnumber clear ink by 1.5 to 1 it is not done.

# %%
show([st.mask], ["ink mask"], size=3.2)

# %% [markdown]
# ### Step 4 — components: digits, specks and lines
#
# Each connected blob of ink is a *component*. What is not a digit is dropped, each for a
# reason the list below names: specks; *faint* blobs (on average less than 20 % darker than
# the paper: grain, a fold, the desk's texture; on lined paper, also those less than 1.5 times
# as dark as its printed lines: what is left of them); ruled lines (long and thin); blobs touching
# the page's edge or the picture's border (*edge*: the desk or a shadow comes in from outside);
# and filled shapes
# whose strokes are over 0.35 of their size, the longer side of their box (*blob*: a shadow's
# tip), or over a fifth of it when the shape fills over 95% of its convex hull (the outline a
# rubber band around it would take: its *solidity*) and is compact, less than 2.5 times as long as
# wide at any angle (also *blob*: a lens smudge; a thick 1 is as filled, but long; module
# `photo.shape`). Pieces of
# one broken digit are put back together (a small loose piece, such as a 5's bar drawn apart
# from its body, joins the digit it lies above or below, else the nearest one, if either is
# within 0.3 of a typical digit's height), and several digits are sorted in reading order. In a
# picture with at least three groups shaped like one digit (a number), a group less than 0.3
# times the groups' median height, no taller than wide and alone in its row is a *speck* too
# (the page's edge against a striped desk, a loose bit above a digit).
#
# One exception to *edge*: a digit cropped tightly may touch the picture's border. So when every
# blob not yet dropped touches the border (by then only faint blobs and those on the page's
# edge are dropped; specks, lines and filled shapes are judged later, so any of them clear of
# the border ends the exception), such a blob is not dropped as *edge* if it could be that
# digit (the constants are in `photo.border`): at least half as wide or half as tall as the
# picture (`TIGHT_CROP`), lying on less than a quarter of the picture's outermost ring of pixels
# (`MAX_CONTACT`), not touching a side along half of its own width (or height) while reaching
# less than a quarter of the way in (`SLIVER_DEPTH`), and not hugging the border: half its
# pixels more than 4% of the picture's shorter side away from it (`HUG_DEPTH`). A digit meets
# the border where its strokes end or along one bar, and reaches far in; a sliver of desk lies
# flat along a side, and the shaded rim of a page's corner runs close along two.
#
# Green boxes are kept components, red ones dropped; blue boxes, drawn a little outside, are
# the digits the kept components form, numbered in reading order.

# %%
def boxes_on(stages: photo.Stages) -> np.ndarray:
    canvas = cv2.cvtColor(stages.mask, cv2.COLOR_GRAY2BGR) // 2
    t = max(1, canvas.shape[1] // 300)
    for c in stages.components:
        x, y, w, h = c.box
        cv2.rectangle(canvas, (x, y), (x + w, y + h), (0, 0, 255) if c.dropped else (0, 200, 0), t)
    pad = 4 * t  # digit boxes a little outside the component boxes, so both stay visible
    for k, (x, y, w, h) in enumerate(stages.boxes):
        cv2.rectangle(canvas, (x - pad, y - pad), (x + w + pad, y + h + pad), (255, 160, 0), t)
        cv2.putText(canvas, str(k + 1), (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX,
                    canvas.shape[1] / 500, (255, 160, 0), t)
    return canvas


def around_digits(image: np.ndarray, stages: photo.Stages, margin: float = 0.6) -> np.ndarray:
    """The part of `image` (the photo or the mask, any scale) that holds the digits, with a margin
    of `margin` typical digit heights, so that a whole page's labels can be read."""
    f = image.shape[1] / stages.mask.shape[1]
    xs = [(x, x + w) for x, _, w, _ in stages.boxes]
    ys = [(y, y + h) for _, y, _, h in stages.boxes]
    pad = margin * float(np.median([b - a for a, b in ys]))
    x0, x1 = min(a for a, _ in xs) - pad, max(b for _, b in xs) + pad
    y0, y1 = min(a for a, _ in ys) - pad, max(b for _, b in ys) + pad
    return image[max(0, int(y0 * f)):int(y1 * f), max(0, int(x0 * f)):int(x1 * f)]


print(f"{len(st.components)} component{'s' if len(st.components) != 1 else ''}, {len(st.boxes)} digit(s):",
      [(c.box, c.dropped or "kept") for c in st.components])
show([boxes_on(st)], ["components (digit boxes numbered)"], size=3.2)

# %% [markdown]
# ### Step 5 — the digit in MNIST's form
#
# The digit's own ink (not the paper, not the specks) is cropped. Then two things MNIST did:
#
# * **stroke width.** A pen's line is a small share of a photographed digit's height (the
#   cell below measures this photo's); shrunk to 20 px it would be a faint hairline, while
#   MNIST's strokes are a little over 2 px wide (the cell prints the 10th, 50th and 90th
#   percentile over the training set). Strokes thinner than 1.7 px or thicker than 3.2 px
#   (after shrinking) are thickened or thinned to 2.3 px *before* shrinking. These three
#   constants (`mnist_form.THIN_STROKE`, `THICK_STROKE`, `MNIST_STROKE`) came from an earlier
#   estimate with another width measure, a little below today's percentiles; the pipeline's
#   other settings were chosen with them, so they are kept;
# * **size and position.** The crop is shrunk with anti-aliasing (`INTER_AREA`) so its longer
#   side is 20 px, keeping its proportions, and placed in a 28×28 image so its centre of mass
#   is at the centre, (14, 14); it is moved by whole pixels, so the centre printed below lands
#   within half a pixel of it.
#
# Next to it, a few real MNIST training digits for comparison.

# %%
splits = data.load_splits()
widths = np.array([photo.stroke_width(x > 0.5) for x in splits.x_train])
lo, mid, hi = np.percentile(widths, [10, 50, 90])
print(f"MNIST strokes, {len(widths):,} training digits at 0.5: 10th percentile {lo:.2f} px, "
      f"median {mid:.2f} px, 90th {hi:.2f} px")
print(f"the pipeline's constants: thicken below {photo.mnist_form.THIN_STROKE} px, thin above "
      f"{photo.mnist_form.THICK_STROKE} px, to {photo.mnist_form.MNIST_STROKE} px")
bx, by, bw, bh = st.boxes[0]
pen = photo.stroke_width(st.mask[by : by + bh, bx : bx + bw])
print(f"this photo: strokes {pen:.1f} px wide on a digit {bh} px tall ({pen / bh:.1%} of its height)")
mnist_sevens = splits.x_train[splits.y_train == 7][:3]
x28 = st.inputs[0]
ys, xs = np.mgrid[0:28, 0:28]
print(f"centre of mass: row {(ys * x28).sum() / x28.sum():.2f}, col {(xs * x28).sum() / x28.sum():.2f}")
show([st.crops[0], x28, *mnist_sevens],
     ["crop, stroke matched", "28×28 input", "MNIST", "MNIST", "MNIST"], size=2.0)

# %% [markdown]
# ### Step 6 — the prediction
#
# (A note on polarity: the pictures of steps 2–5, drawn by this notebook's `show`, keep MNIST's
# stored polarity, light ink on black, because that is what the pipeline builds. The figures
# from `helpers.plots`, like the input above the bars below, use the reversed gray map of
# notebooks 01–04: dark ink on white. Both show the same numbers.)
#
# The model gives ten probabilities. `read_digits` runs all the steps above and returns, per
# digit, the label, its probability, the top 3, the box in the photo's own pixels, and a
# `low_confidence` flag when the probability is under 60 %.

# %%
result = photo.read_digits(single, model)
print(result.message)
for d in result.digits:
    top3 = ", ".join(f"{k}: {p:.3%}" for k, p in d.top3)
    print(f"read {d.label} with probability {d.probability:.3%} (top 3: {top3}); box {d.bbox}"
          f"{'  (low confidence)' if d.low_confidence else ''}")
plots.probability_bars(inference.predict_proba(model, result.stages.inputs), result.stages.inputs)

# %% [markdown]
# **Without the preparation.** For contrast, the naive way: convert to gray, invert, shrink
# the whole photo to 28×28. The digit becomes a faint, thin shape on a grey background, and the
# model reads it as another digit, and *confidently* (the bar below). A network's confidence
# says how sure it is among the ten digits it knows, not whether its input looks like what it was
# trained on: on unfamiliar input, a high probability means nothing.

# %%
def naive_input(image: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (28, 28), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return 1 - small if small.mean() > 0.5 else small  # make the ink light, as in MNIST


naive = naive_input(st.original)[None]
plots.probability_bars(inference.predict_proba(model, naive), naive)

# %% [markdown]
# ## 2. Several digits in one photo
#
# Two rows of black marker. Each digit is found, cropped and normalized on its own, and they
# come back in reading order: top row left to right, then the next row.

# %%
multi = photo.read_digits(SAMPLES / "multi.jpg", model)
print(f"read {multi.text!r}: {multi.message}")
show([photo.annotate(multi), boxes_on(multi.stages)], ["read (boxes in photo pixels)", "components"],
     size=3.6)

# %%
plots.probability_bars(inference.predict_proba(model, multi.stages.inputs), multi.stages.inputs, ncols=6)

# %% [markdown]
# Ruled notebook paper is harder: the printed lines touch and cross the digits, and the red
# margin joins them all into one blob. Long straight lines are found as long runs of ink
# (faint ones included) fitted with a straight line, so tilted photos work. Thick digits
# written across a grid join several of its lines into one run, far taller than a line: each
# line through the whole run is still found, but where only one such line is found in the
# run it is not erased: most often it is the straight edge of the desk or a shadow. A line is erased
# only when it runs on past the digits it touches, by half a digit's height or more, or
# through three digits or more: the bar of a 4, 5 or 7 lies over the rest of its own digit
# and stays. After erasing the lines, the strokes they crossed are joined up again. One
# exception is made for a tight crop of one digit, where the digit is nearly as tall as the
# picture and a thick pen joins the line to it: a line across at least 90% of the picture, at
# most half the pen's width thick, and (when it is the only line in its run) with ink on both
# sides of it, is taken for a printed line and erased; a filled shape's edge has ink on one
# side only.

# %%
ruled = photo.read_digits(SAMPLES / "ruled.jpg", model)
print(f"read {ruled.text!r}: {ruled.message}")
show([ruled.stages.original, ruled.stages.mask, photo.annotate(ruled)],
     ["photo", "ink mask, lines removed", "read"], size=3.0)

# %% [markdown]
# Chalk on a slate is light ink on a dark background, MNIST's own polarity: the ink map is
# then the share of the way from the local background to white.

# %%
chalk = photo.read_digits(SAMPLES / "chalk.jpg", model)
print(f"read {chalk.text!r}: {chalk.message}; dark ink: {chalk.stages.dark_ink}")
show([chalk.stages.original, chalk.stages.ink, chalk.digits[0].input], ["photo", "ink map", "28×28"],
     size=2.6)

# %% [markdown]
# ## 3. A whole page: the desk, a shadow, several rows, and what is not a digit
#
# Real photos of a page hold more than paper: the desk past the page's edge, a hand's
# shadow, a fold, squared paper, a smudge. To develop the steps above for those, the project
# makes its own test photos (`helpers/photo/synthetic.py`): numbers of 2–12 digits taken
# from MNIST's **training** split, written in rows on plain, ruled or squared paper in pen or
# pencil, sometimes touching; the page warped into the frame with the desk showing, lit
# unevenly, often with a hard shadow; blurred, noisy, saved as JPEG. Every setting of the
# pipeline not taken from MNIST was chosen on one such set (seed 0; the second pen measurement,
# the clear polarity vote of step 2, the conditions of the exception to *edge* of step 4, the
# lines found in runs joined by thick digits, where a loose piece goes, and the checker's
# thresholds of the second look (1.1 typical widths, 20%), and the printed line across a tight
# crop (90% of the picture, half the pen's width), on seeds 0, 2 and 3
# together); another
# (seed 1) is never used to choose:
# it is measured once for each version of the pipeline, and the records printed below compare
# those versions. Here is one photo from yet another seed, with every stage.

# %%
rng = np.random.default_rng(2026)
while True:  # the first photo with the desk, a shadow and two rows or more
    demo = synthetic.number_photo(rng)
    if demo.conditions.get("desk") and demo.conditions.get("shadow") and len(demo.rows) >= 2:
        break
page_read = photo.read_digits(demo.image, model)
pst = page_read.stages
print(f"written: {demo.rows}; read: {page_read.rows} ({page_read.message})")
print("conditions:", {k: v for k, v in demo.conditions.items() if k != "touching"})
work, _ = photo.ink.working_image(pst.original)
display(show([pst.original, photo.find_page(work) * 255, pst.ink],
             ["photo", "page found (white)", "ink map: shadow gone"], size=3.0))
show([around_digits(photo.annotate(page_read), pst, margin=1.3)], ["read (the part of the photo with digits)"], size=7.0)

# %% [markdown]
# Compare the two lines printed above: the photo is not read perfectly. In the second row the
# 1 touches the 2 before it, and the pair is read as a single 2 (a touching pair that even the
# second look described below does not separate), while the 0, wider than a typical digit, is
# cut in two by that second look and read as a 1 and a 7: two boxes over the 0 in the figure,
# the left one labelled '1 100%' below it; the right one's label, '7 98%', found no room nearby
# and sits between the rows, under the first row's first 7. In the figure after the next cell
# the numbers of these two pieces overlap as well.
# Below: why each dropped blob
# was dropped (`Component.dropped`), counted for this photo (the ruled lines are not among
# them: they were erased from the mask before the blobs were counted), the blobs themselves
# (green: kept, red: dropped; blue and numbered: the digits in reading order; look for a box
# holding two touching digits), on the whole mask and enlarged around the digits, and part of the JSON that `predict --json` prints for
# this photo: the rows as `rows` and `text`, and each digit with its `row`.

# %%
print(pd.Series([c.dropped or "kept" for c in pst.components]).value_counts().to_dict())
record = page_read.to_dict()
blobs = boxes_on(pst)
display(show([blobs, around_digits(blobs, pst)],
             ["the whole mask: red, dropped (two at the page's edges, a speck by the 5)",
              "the digits' part: green kept, red dropped; blue, numbered: the digits"],
             size=4.5))
print(json.dumps({"rows": record["rows"], "text": record["text"]}))
print('"digits"[0]:', json.dumps(record["digits"][0]))

# %% [markdown]
# **A blank page should read nothing.** Below, the same kind of photo without ink (the first
# of a few with squared paper or a shadow; this one is ruled, with a shadow); on the 100
# held-back blank photos the record further down counts the false digits that remain.
#
# **Digits that touch** are harder, and take two steps.
#
# * **The image part** cuts a group of ink only inside a number (three groups or more), when
#   it is clearly wider than a digit, and only where the cut crosses a single thin run of
#   ink, so that a wide 2 or 5 stays whole. Digits that overlap cross each other and stay one
#   group.
# * **A second look by models** (`photo.classify`, module `helpers/photo/split.py`). The digit
#   model alone cannot decide: an MNIST model reads half a 3 as a 3, and can read a touching
#   pair as one digit, as surely as a whole digit. So a second, small model
#   (`helpers/photo/whole.py`) is trained for one question only: is this one whole digit, or
#   two digits side by side, or a piece of one? Its examples are made from MNIST training
#   digits: single digits, pairs side by side (from 8% of the narrower digit's width apart to
#   overlapping by 30% of it), and digits cut in two, each brought to MNIST's form as the
#   pipeline brings what it finds. It is trained the first time it is needed (one to four minutes
#   on a 2-core machine: the cell below prints the training time from its record, to which loading
#   TensorFlow and saving add a little; a line on standard error says so; it was already
#   cached when these outputs were made).
#
# How the second look cuts:
#
# * **Which groups.** Every group at least 1.1 typical digit widths wide that this checker
#   finds less than 20% likely to be one whole digit is tried at about 16 evenly spaced
#   columns of its middle half, and cut when the two pieces of one of those upright cuts are
#   read surely (both together at least 90%: the checker has already found the group not
#   whole).
# * **Where.** The cut made is then the one, upright or leaning (0.15 or 0.3 columns per row
#   either way, about 9° or 17° from upright), whose pieces the digit model reads most surely:
#   handwriting slants, and a column between two slanted digits that touch gives one a bit of
#   the other.
# * **The typical width** must be measured, on at least three groups shaped like one digit
#   (0.35 to 1 times as wide as tall): on MNIST validation digits given alone as pictures the
#   checker took some wide lone digits, such as a flat 2, for pairs (a development run, not
#   stored). So a picture with fewer than three such groups (a lone digit, a two-digit number,
#   a drawing of one or two digits) keeps the earlier rule: a group at least 1.4 times a
#   guessed width (0.7 of the median height), read with less than 99.9% certainty, and cut
#   only when the two pieces are read at least 99% surely together (the cut is then placed the
#   same way, upright or leaning).
#
# This is *segmentation by recognition*. Below, MNIST training digits 3, 6, 1, 9, 5 with the 1
# and the 9 pushed together until their ink joins (the 3, the 6 and the 5 make three groups
# shaped like one digit, so the typical width is measured): the output gives, for each group
# the image part found, its width in typical widths and what each model makes of it, then the
# digits read after the second look. The touching pair is 1.33 typical widths wide, too narrow
# for the rule used before the checker (1.4 typical widths, then applied to every picture),
# and the digit model reads it as a 4, at only 65.7%. Touching pairs are still a limit of this pipeline: the
# record further down counts the photos with a touching pair read exactly (every row right).

# %%
blank = next(p for p in (synthetic.blank_photo(rng) for _ in range(50))
             if p.conditions.get("shadow") or p.conditions.get("paper") == "squared")
blank_read = photo.read_digits(blank.image, model)
print(f"blank page ({blank.conditions}): {blank_read.message}")


def touching(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two 28×28 digits side by side, moved together until their ink is one blob."""
    for shift in range(28, 0, -1):
        pair = np.zeros((28, 28 + shift), np.float32)
        pair[:, :28] = left
        pair[:, shift:] = np.maximum(pair[:, shift:], right)
        if cv2.connectedComponents((pair > 0.5).astype(np.uint8))[0] == 2:  # background + one blob
            return pair
    return pair


first = {d: splits.x_train[splits.y_train == d][0] for d in (3, 6, 1, 9, 5)}
row = np.hstack([first[3], first[6], touching(first[1], first[9]), first[5]])
number_img = cv2.resize(255 - (row * 255).astype(np.uint8), (row.shape[1] * 8, 224),
                        interpolation=cv2.INTER_CUBIC)
number_img = cv2.copyMakeBorder(number_img, 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=255)
number_read = photo.read_digits(number_img, model)
found = photo.find_digits(number_img)
print(f"written 36195 (1 and 9 touching): the image part finds {len(found.boxes)} groups, "
      f"{len(segment.digit_shaped(found.boxes))} of them shaped like one digit")
typical = segment.typical_width(found.boxes)
as_one = inference.predict_proba(model, found.inputs)
p_whole = inference.predict_proba(whole.checker(), found.inputs)[:, 0]
for k, (box, p, w) in enumerate(zip(found.boxes, as_one, p_whole, strict=True)):
    print(f"  group {k + 1}: {box[2] / typical:.2f} typical widths wide; the digit model reads it as "
          f"{p.argmax()} ({p.max():.1%}); the checker: {w:.1%} likely one whole digit")
record = registry.load_metrics(whole.path())
print(f"the checker: {record['params']:,} weights, trained in {record['train_seconds']:.0f} s; "
      f"{record['val_accuracy']:.2%} of its validation examples (made from MNIST validation digits) told right")
print(f"read {number_read.text!r} ({number_read.message})")
show([blank.image, boxes_on(found), photo.annotate(number_read)],
     ["blank page", "36195: groups of the image part", "36195: read, after the second look"],
     size=3.0)

# %% [markdown]
# Below are three records; the run takes several minutes, so it is not rerun here. First, this
# version's held-back run (`python benchmarks/photo_dev.py --seed 1`, stored in
# `notebooks/records/photo_dev_seed1.txt`; its first line says which machine and model). This
# version erases a ruled or margin line across a tight crop of one digit, which the pipeline
# before it either left running through the digit (the model then reads the line as part of
# it) or kept joined to the digit, which was then dropped along with it. Now a line across at
# least 90% of the picture and at most half as thick as the pen is taken for a printed line and
# erased, even when the digit is nearly as tall as the picture (part 2). Second, the pipeline before that change, on
# the same machine with the same CNN (`..._previous.txt`). Compare the two: 2 more clean
# one-digit crops and 1 more number read exactly, the same harder crops and false digits. On the
# development seeds 0, 2 and 3, where the change was chosen, clean crops went from 264 to 272 of
# 300 and harder ones from 256 to 258, with the same 622 of 733 numbers and 6 false digits
# (development runs, not stored in the repository; the README has the rule). Third, the
# pipeline before any of these page steps were added, with the CNN of that time (`..._before.txt`):

# %%
records = data.REPO_ROOT / "notebooks" / "records"
print((records / "photo_dev_seed1.txt").read_text())
for version in ("previous", "before"):
    record = (records / f"photo_dev_seed1_{version}.txt").read_text().splitlines()
    shown = ("numbers", "digit-free", "one-digit", "harder", "  touching")
    print(f"{version}:", *[line.strip() for line in record if line.startswith(shown)], sep="\n  ")

# %% [markdown]
# ## 4. Try your own
#
# Write a few digits on paper, take a photo, and drop it in `data/external/` (it is ignored
# by git); drawings kept with notebook 07's "Keep this drawing" button land there too, named
# after what they show (`drawn-7-….png`). Then run the cell below, or from a terminal:
#
# ```
# python -m helpers predict data/external/* --annotate data/runs/annotated
# ```
#
# Tips: dark pen on plain paper, digits well apart, the page filling most of the frame.

# %%
mine = sorted(p for p in MY_PHOTOS.glob("*") if p.suffix.lower() in photo.IMAGE_SUFFIXES)
if not mine:
    print(f"No photos in {MY_PHOTOS.relative_to(data.REPO_ROOT)}/ yet: add some and run this cell again.")
for path in mine:
    try:
        res = photo.read_digits(path, model)
    except photo.ImageReadError as exc:
        print(exc)
        continue
    meant = drawing.drawn_label(path)  # a drawing kept in notebook 07 says what it shows
    print(f"{path.name}: read {res.text or '(nothing)'!r}{f' (drawn as {meant!r})' if meant else ''} — {res.message}")
    display(show([photo.annotate(res)], [path.name], size=4))

# %% [markdown]
# ## 5. How well does it work on real handwriting?
#
# The synthetic photos above were made for this notebook, so they prove little. The real
# test is handwriting from elsewhere.
#
# **Digits that ship with scikit-learn.** Everyone who installed this project has one such set:
# scikit-learn's copy of the UCI handwritten digits (`sklearn.datasets.load_digits`, no
# download), 1,797 digits, the UCI set's test part, written by 13 people (another 30 wrote its
# training part, as scikit-learn's description of the set says), stored as 8×8 grids of ink
# counts 0…16. They
# go through the same last step as every photo (`photo.to_mnist`: stroke width, 20-pixel box,
# centre of mass; `external_sets.load_uci_digits`). At 8×8 a digit is a few blocks of ink, so
# this is a hard test of shape, not of the photo steps. Every model of the series, measured
# once:

# %%
uci_raw, uci_x, uci_y = external_sets.load_uci_digits()
print(f"UCI digits: {len(uci_y):,} images of {uci_raw.shape[1]}×{uci_raw.shape[2]}, "
      f"values {uci_raw.min():.0f}…{uci_raw.max():.0f}; in MNIST's form {uci_x.shape[1]}×{uci_x.shape[2]}")
uci_acc = {n: float((inference.predict_proba(model_cache.get_model(n), uci_x).argmax(1) == uci_y).mean())
           for n in registry.SERIES}
display(pd.Series(uci_acc, name="UCI digits read correctly").to_frame().style.format("{:.1%}"))
display(plots.sample_grid(uci_raw[:10] / 16, uci_y[:10], ncols=10))
display(plots.sample_grid(uci_x[:10], uci_y[:10], ncols=10))
# The committed run: mlp 80.6%, mlp-aug 88.3%, cnn-aug 93.3%.
assert min(uci_acc.values()) > 0.8, f"a model reads the UCI digits far worse than the committed run: {uci_acc}"

# %% [markdown]
# The first row is the digits as stored (8×8), the second what the models see. The table ranks
# the models on digits none of them was tuned on; the gap between the best and the worst is
# many times larger than on MNIST's own test set (about one point, notebook 06): what a model
# learned about MNIST transfers unevenly to other handwriting.
#
# **A collection of real photos, scans and drawings.** The project keeps a set of **real digits** from public
# MNIST projects (`../shared/external-digits/`, described in its `README.md` and
# `SOURCES.md`; the cell below counts them): phone photos of pen on paper, scans, drawings in
# paint programs, and small crops people made of their own writing; both polarities, from tiny
# crops to full phone photos. Each holds
# one digit, so it is read in single-digit mode (the largest blob clear of the picture's edge,
# plus the pieces near it); it is also read as `predict` reads any photo, where a speck read
# as a second digit, or a digit cut in two, counts as a failure. The set is used only to
# measure: nothing above was tuned on it.
#
# Each digit has a `kind`: photo (pen on paper, phone camera), scan, drawn (a paint program or
# canvas) or unknown (the writer's own digits, already shrunk to 28×28 before they were shared).
# The folder is not part of the repository; when it is missing, this part is skipped.

# %%
root = external_sets.external_root()
HAVE_EXTERNAL = (root / "labels.csv").is_file()
shown = os.path.relpath(root, data.REPO_ROOT)  # "../shared/external-digits": no machine paths
print(f"external set: {shown} ({'found' if HAVE_EXTERNAL else 'not found: part 5 is skipped'})")
if HAVE_EXTERNAL:
    listed = external_sets.load_external_set(root)
    sides = [max(cv2.imread(str(f), cv2.IMREAD_UNCHANGED).shape[:2]) for f in listed["file"]]
    print(f"{len(listed)} digits from {listed['source_repo'].nunique()} public projects; "
          f"longer side {min(sides)} px to {max(sides):,} px; by kind: {listed['kind'].value_counts().to_dict()}")

# %%
if HAVE_EXTERNAL:
    results = external_sets.evaluate_external(model, root)
    summary = external_sets.summarize_external(results)
    index = external_sets.load_external_set(root)
    naive_x = np.stack([naive_input(photo.read_image(f)) for f in index["file"]])
    naive_acc = float((inference.predict_proba(model, naive_x).argmax(1) == index["label"]).mean())
    print(f"{name}: {summary.accuracy:.1%} of {summary.n} real digits read correctly "
          f"(whole photo shrunk to 28×28: {naive_acc:.1%})")
    default = external_sets.summarize_external(external_sets.evaluate_external(model, root, single=False))
    print(f"read as `predict` reads any photo (not told there is one digit): {default.accuracy:.1%}; "
          f"correct means exactly one digit read, the right one")
    display(pd.concat({"single-digit mode": summary.per_kind, "default mode": default.per_kind}, axis=1)
            .style.format("{:.1%}", subset=pd.IndexSlice[:, pd.IndexSlice[:, "accuracy"]])
            .format("{:.0f}", subset=pd.IndexSlice[:, pd.IndexSlice[:, ["correct", "n"]]]))

# %%
if HAVE_EXTERNAL:
    display(summary.per_label.T.style.format("{:.0f}").format("{:.1%}", subset=pd.IndexSlice["accuracy", :]))

# %% [markdown]
# The failures (up to the first 24), as the photo and as the 28×28 image the model saw (title:
# true → read; ∅ in the first grid and −1 in the second mean nothing was found; the count is
# printed). Look at the 28×28 images: in most failures the *pipeline* went wrong before the
# model saw the digit. Many images give nothing at all: every blob was dropped by one of the
# rules of step 4 (faint, speck, edge, blob, or fainter than printed lines); in others a part
# is lost, a bar or a stem, and the model then fairly reads another digit; in a few the wrong
# blob is chosen (a small ring beside a 2) or clutter is kept (lines crossing a 1 or a 4). Those are the next
# things to improve — on synthetic pictures, and then measured here again, never tuned here.

# %%
if HAVE_EXTERNAL:
    fails = summary.failures.head(24)
    thumbs = []
    for p in fails["path"]:
        img = photo.read_image(root / p)
        f = 96 / max(img.shape[:2])
        thumbs.append(cv2.resize(img, (max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f))),
                                 interpolation=cv2.INTER_AREA))
    titles = [f"{r.label}→{r.predicted if r.predicted >= 0 else '∅'}" for r in fails.itertuples()]
    print(f"{len(summary.failures)} failures; of the {len(fails)} shown, "
          f"{int((fails['predicted'] < 0).sum())} found nothing")
    display(show(thumbs, titles, ncols=8, size=1.3))
    found = photo.find_batch([root / p for p in fails["path"]], single=True)
    seen = np.stack([st.inputs[0] if len(st.inputs) else np.zeros((28, 28)) for st in found])
    display(plots.sample_grid(seen, fails["label"].to_numpy(), predictions=fails["predicted"].to_numpy(),
                              ncols=8))

# %% [markdown]
# **USPS.** A second, independent check: test digits scanned from US mail envelopes (the
# cell prints their number, size and value range). They are brought to MNIST's form by the *same* function as the
# photos (`photo.to_mnist`: stroke width, 20-pixel box, centre of mass).

# %%
if HAVE_EXTERNAL and (root / "usps" / "usps.mat").is_file():
    x_tr, y_tr, x_te, y_te = external_sets.load_usps(root)
    usps_acc = external_sets.usps_accuracy(model, root)
    from scipy.io import loadmat

    raw = loadmat(root / "usps" / "usps.mat", variable_names=["Xtst"])["Xtst"]  # one row per digit
    side = int(np.sqrt(raw.shape[1]))
    print(f"USPS test set as stored: {len(raw):,} digits of {side}×{side} pixels, "
          f"values {raw.min():.0f}…{raw.max():.0f}")
    print(f"{name}: USPS test accuracy {usps_acc:.2%} ({len(x_te):,} digits)")
    display(plots.sample_grid(x_te[:10], y_te[:10], ncols=10))
else:
    usps_acc = None
    print("USPS: skipped (usps/usps.mat not found)")

# %% [markdown]
# Guard rails: if a later change to the pipeline or the models makes these numbers drop, the
# notebook stops here. The floors sit under what is measured above (for the single-digit
# mode by about a point).

# %%
if HAVE_EXTERNAL:
    assert summary.accuracy >= 0.90, f"external accuracy fell to {summary.accuracy:.1%}"
    assert default.accuracy >= 0.88, f"external accuracy in default mode fell to {default.accuracy:.1%}"
    # The preparation must still be worth far more than the whole-photo shrink (about 16 points at this version).
    assert summary.accuracy > naive_acc + 0.15, "the preparation no longer helps much"
    if usps_acc is not None:
        assert usps_acc >= 0.94, f"USPS accuracy fell to {usps_acc:.1%}"

# %% [markdown]
# ## Summary
#
# * An MNIST model reads photos well only once the photo is brought to MNIST's form: light
#   ink on dark, the digit alone, 20 px on its longer side, centred by mass, strokes 2–3 px.
# * Each step fixes one difference: polarity, lighting (divide by the paper), noise (a
#   threshold above the paper's noise), clutter (specks, ruled lines, edges), several digits
#   (components in reading order), size, position and stroke width.
# * A whole page adds the desk, shadows, lines, smudges and rows. The page is found first, the
#   polarity needs a clear vote (a blank page's grain is not light ink; a page found on a
#   desk has dark ink), the paper is
#   estimated a few pen strokes wide (so shadows vanish from the ink map; the pen is
#   measured twice, so a thick one in a tight crop is not taken for paper), lines are
#   erased where they run past the digits or cross a tight crop from edge to edge, at most
#   half as thick as the pen, what is not a digit is dropped for a named
#   reason, and a wide group that a second, small model finds not to be one whole digit may
#   be cut in two (where a typical digit width can be measured). On the held-back synthetic
#   photos this reads far more numbers exactly and gives far fewer false digits on blank pages
#   than the pipeline before these page steps (the third record printed in part 3), but it is far
#   from solved: pencil, ruled paper, touching pairs, shadows, folds and smudges still fail
#   often (the record's counts by condition: ruled paper worst, then pencil and touching pairs).
# * Most failures on real digits happen before the model sees the digit: the failure gallery
#   of part 5 counts, among the failures shown, those where no digit was found at all (every blob dropped by a rule of
#   step 4); in others part of the digit was lost or clutter was kept.
# * Other handwriting separates the models more than MNIST's test set does: on scikit-learn's
#   8×8 UCI digits (part 5, always available) the best and the worst model differ by more than
#   ten points (the table there).
# * A confident answer is not a correct one: on input unlike its training data (the naive
#   resize above) the model is confident and wrong.
# * From the command line: `python -m helpers predict PHOTO ... [--json] [--annotate DIR]`,
#   and `python -m helpers evaluate-external` for the numbers of part 5.

# %% [markdown]
# ## Exercises
#
# 1. **Your own digit.** Write a digit on paper, photograph it, put the photo in
#    `data/external/` and run part 4 again, or `python -m helpers predict PHOTO --annotate
#    data/runs/annotated`. Then write it again smaller, off-centre, in pencil. Which step of
#    part 1 fails first?
# 2. **Polarity.** What does the model answer if the 28×28 image it gets is dark ink on white
#    (as the photo is) instead of MNIST's light ink on black? Predict, then try it on the
#    prepared image of part 1: `flipped = 1 - result.stages.inputs`, then
#    `plots.probability_bars(inference.predict_proba(model, flipped), flipped)`. (The plots
#    draw ink dark on white, so there `flipped` looks like white ink on black.)
# 3. **Why not just resize?** Part 1 shows the naive resize reading a wrong digit at a
#    high probability. Which of MNIST's four properties listed at the top does the naive resize
#    break for that photo?

# %% [markdown]
# <details><summary>Solutions (click to open)</summary>
#
# 1. `predict` prints each digit it read with its probability and box, and `--annotate DIR` saves
#    the photo with those boxes and readings drawn. To see *which step* fails, run the cells of
#    part 1 on your photo (`photo.find_digits(path)` keeps every stage: grey image, ink map,
#    mask, components, the 28×28 inputs) and look at them in order: where does the digit stop
#    looking like itself? An off-centre digit should cause no trouble at all: the crop and the
#    centring by mass remove its position.
# 2. Inverted input is unlike anything in training: the "background" is now the brightest part.
#    The cell after these solutions asks the three models of the series. The answer comes from an
#    input unlike any the model was trained on, so neither the digit nor the probability can be
#    trusted, not even when the digit happens to be right. That is why polarity is the first
#    thing the pipeline fixes.
# 3. It fixes the polarity (it inverts a light photo) and nothing else: the paper stays a grey
#    background instead of 0, the digit fills only part of the image instead of 20 px centred by
#    mass, and its strokes shrink to a fraction of a pixel. The model has never seen such an image, and its probability
#    means nothing there: an out-of-distribution input can get any answer, confidently.
#
# </details>

# %%
# Solution 2, run: each model of the series on the inverted 28×28 input of part 1.
flipped = 1 - result.stages.inputs
for name_ in registry.SERIES:
    p_ = inference.predict_proba(model_cache.get_model(name_), flipped)[0]
    print(f"{name_:8s} reads the inverted {result.digits[0].label} as {p_.argmax()} at {p_.max():.1%}")
