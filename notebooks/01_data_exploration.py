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
# # 01 — Exploring MNIST
#
# A neural network learns only what its data shows it, so we start by looking at the data.
# MNIST holds 70,000 handwritten digits (0–9), each a 28×28 grayscale image, written by
# about 500 people (US Census Bureau staff and high-school students). It was assembled by
# Yann LeCun, Corinna Cortes and Christopher Burges and is licensed CC BY-SA 3.0.
#
# In this notebook:
# 1. load the data through a verified local cache,
# 2. check shapes, types and the class balance,
# 3. look at the digits: samples, the "average" digit of each class, pixel intensities,
# 4. normalize the pixels, and measure by experiment why it matters (and when it stops mattering),
# 5. set aside a validation split — from the training set, never the test set.

# %%
import keras
import numpy as np
import pandas as pd
from keras import layers

from helpers import data, plots, training

# %% [markdown]
# ## 1. Loading
#
# `data.load_mnist()` returns the same arrays as `keras.datasets.mnist.load_data()`. The first
# call fetches the four original IDX files, checks each against its SHA-256 and caches them in
# `data/mnist/`; later calls read the cache.

# %%
(x_train, y_train), (x_test, y_test) = data.load_mnist()

# %%
# NBVAL_CHECK_OUTPUT
for name, array in [("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)]:
    print(f"{name:8} shape {str(array.shape):15} dtype {array.dtype}  min {array.min():3d}  max {array.max():3d}")

# %% [markdown]
# Each image is a 28×28 grid of bytes: 0 is the background, 255 the strongest ink (MNIST stores
# light ink on black). Our figures draw them the other way round, with a reversed gray map: 0
# shows white and 255 black, so digits look like ink on paper; every notebook keeps that, and
# notebook 05 says where it shows a picture in MNIST's stored polarity. The labels
# are plain integers 0–9. Training and test sets come from different writers, so test accuracy
# tells us how well a model reads handwriting it has never seen.
#
# ## 2. Class balance
#
# If one digit were rare, a model could ignore it and still score well. Let's count.

# %%
# NBVAL_CHECK_OUTPUT
counts = pd.DataFrame(
    {
        "train": np.bincount(y_train, minlength=10),
        "test": np.bincount(y_test, minlength=10),
    },
    index=pd.RangeIndex(10, name="digit"),
)
counts["train %"] = (100 * counts["train"] / counts["train"].sum()).round(2)
counts["test %"] = (100 * counts["test"] / counts["test"].sum()).round(2)
counts

# %% [markdown]
# The classes are close to balanced: every digit is between 8.9% and 11.4% of each set (1 is the
# most common, 5 the rarest). Plain accuracy is therefore a fair summary, and we need no class
# weights. Notebook 04 still reports per-class metrics, because an average can hide a weak class.
#
# ## 3. Looking at the digits
#
# Ten random training samples of each class:

# %%
plots.samples_per_class(x_train, y_train, n=10, seed=0)

# %% [markdown]
# The same digit is written in many ways: 7s with and without a bar, open and closed 4s, slanted
# and upright 1s. Notice also what MNIST's makers did to every image: the digit was scaled to fit a
# 20×20 box and centred by its centre of mass in the 28×28 frame. The box is centred by mass,
# not by its edges, so a lopsided digit reaches into the outer 4-pixel band — how often, and
# with how much of its ink?

# %%
# NBVAL_CHECK_OUTPUT
band = np.ones((28, 28), bool)
band[4:24, 4:24] = False  # the outer 4 pixels on every side
share = float((x_train[:, band] > 0).any(axis=1).mean())
print(f"training digits with some ink in the outer 4-pixel band: {share:.1%}")
ink_in_band = float(x_train[:, band].sum(dtype=np.float64) / x_train.sum(dtype=np.float64))
print(f"share of all ink that lies in that band:                 {ink_in_band:.1%}")

# %% [markdown]
# So the border is *not* empty for most digits, but it holds only a small share of the ink
# (printed above): the ink sits mostly in the middle 20×20, which is what a model learns to expect. Notebook 05 repeats exactly these steps
# on real handwriting.
#
# The mean image of each class shows what a "typical" digit looks like — and how much the
# strokes vary (blurry regions are where writers disagree):

# %%
plots.class_means(x_train, y_train)

# %% [markdown]
# ### Pixel intensities
#
# Most pixels are background (exactly 0); ink pixels cluster near 255, with anti-aliased edges in
# between.

# %%
plots.pixel_histogram(x_train)

# %%
# NBVAL_CHECK_OUTPUT
share_zero = float(np.mean(x_train == 0))
share_ink = float(np.mean(x_train > 128))
print(f"background pixels (exactly 0): {share_zero:.1%}")
print(f"ink pixels (> 128):            {share_ink:.1%}")

# %% [markdown]
# ## 4. Normalization
#
# Networks train best when inputs are small numbers on a common scale: with raw values up to 255,
# the first layer's weighted sums are huge, gradients are badly scaled and learning is slow or
# unstable. Two common choices:
#
# | scheme | formula | range | mean / std |
# | --- | --- | --- | --- |
# | raw | $x$ | 0 … 255 | 33.3 / 78.6 |
# | **scaled (we use this)** | $x / 255$ | 0 … 1 | 0.131 / 0.308 |
# | standardized | $(x/255 - 0.1307) / 0.3081$ | −0.42 … 2.82 | 0 / 1 |
#
# We use plain scaling to [0, 1]: it keeps "0 = background" (so the zero padding added by
# shifts and rotations in notebook 03 stays background), it is what real photos are turned into in
# notebook 05, and batch normalization inside the network takes care of centring. The table's
# numbers are computed here, over all 60,000 training images as they are usually quoted (the
# experiment below standardizes with the statistics of its 55,000-image training split only):

# %%
# NBVAL_CHECK_OUTPUT
x_scaled = data.scale(x_train)  # float32, x / 255
mean, std = float(x_scaled.mean()), float(x_scaled.std())
x_standard = (x_scaled - mean) / std
print(f"raw          mean {x_train.mean():7.3f}  std {x_train.std():7.3f}  range {x_train.min()} … {x_train.max()}")
print(f"scaled       mean {mean:7.4f}  std {std:7.4f}  range {x_scaled.min():.0f} … {x_scaled.max():.0f}")
print(f"standardized mean {x_standard.mean():7.4f}  std {x_standard.std():7.4f}  range {x_standard.min():.2f} … {x_standard.max():.2f}")

# %% [markdown]
# ### Does it matter? An experiment
#
# The claim above is easy to test. We train the same small network (two hidden layers of 256
# units, notebook 02 explains each piece) for 3 epochs on each of the three inputs, once as it
# is and once with **batch normalization** after each hidden Dense layer, and compare the
# **validation** accuracy (images it did not train on; section 5 explains the split). Same seed,
# so every run starts from the same weights. Six short runs: about a minute on a 2-core laptop.
#
# Predict first: which input will do worst without batch normalization, and by how much? And with it?

# %%
splits = data.load_splits()  # scaled to 0–1; the last 5,000 training images held out (section 5)
train_mean, train_std = float(splits.x_train.mean()), float(splits.x_train.std())
inputs = {
    "raw 0–255": lambda x: x * 255.0,
    "scaled 0–1": lambda x: x,
    "standardized": lambda x: (x - train_mean) / train_std,  # statistics of the training split only
}


def small_mlp(batchnorm: bool) -> keras.Model:
    hidden = []
    for _ in range(2):
        hidden.append(layers.Dense(256, use_bias=not batchnorm))
        if batchnorm:
            hidden.append(layers.BatchNormalization())
        hidden.append(layers.Activation("relu"))
    return keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten(), *hidden,
                             layers.Dense(10, activation="softmax")])


runs = {"without batch normalization": {}, "with batch normalization": {}}
for batchnorm, group in zip((False, True), runs.values(), strict=True):
    for name, transform in inputs.items():
        training.set_seed(42)
        model = small_mlp(batchnorm)
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        group[name] = model.fit(transform(splits.x_train), splits.y_train, batch_size=128, epochs=3,
                                validation_data=(transform(splits.x_val), splits.y_val), verbose=0).history

table = pd.DataFrame(
    [{"batch norm": "yes" if "with " in title else "no", "input": name,
      "training loss, epoch 1": h["loss"][0], "training loss, epoch 3": h["loss"][-1],
      "val accuracy, epoch 1": h["val_accuracy"][0], "val accuracy, epoch 3": h["val_accuracy"][-1]}
     for title, group in runs.items() for name, h in group.items()]
).set_index(["batch norm", "input"])
table.reset_index().style.hide(axis="index").format(precision=4)

# %%
plots.history_panels(runs)

# %%
no_bn = table.loc["no"]
print(f"without batch normalization, raw pixels end {100 * (no_bn['val accuracy, epoch 3'].max() - no_bn.loc['raw 0–255', 'val accuracy, epoch 3']):.1f} points "
      "below the best input on validation")
print(f"with it, the three runs' training losses differ by at most "
      f"{table.loc['yes', 'training loss, epoch 3'].max() - table.loc['yes', 'training loss, epoch 3'].min():.1e}")

# %% [markdown]
# What the experiment shows (the printed numbers above are this run's):
#
# - **Without batch normalization, raw pixels hurt.** The first layer's sums are 255 times too
#   large, the first epoch's training loss is far higher (the "training loss, epoch 1" column), and after 3 epochs the network still
#   reads clearly fewer validation digits than on scaled or standardized input. Scaled and
#   standardized inputs are close to each other.
# - **With batch normalization the input's scale stops mattering**: the three runs have
#   practically the same training loss. That is no coincidence: batch normalization right after
#   the first Dense layer subtracts each unit's mean over the batch and divides by its standard
#   deviation, so multiplying the input by 255, or shifting it, is undone before the ReLU. The
#   small differences left are not chance (same seed, deterministic ops) but rounding, and the
#   small constant batch normalization adds to the variance before dividing.
# - Batch normalization did **not** make this small network more accurate: with it, validation
#   accuracy dips from epoch 2 to epoch 3 and ends a little below the scaled run without it.
#   What it bought here is insensitivity to the input's scale, not accuracy.
#
# So normalization matters, *unless* something in the network normalizes for you. The models of
# this series use batch normalization *and* scaled input: scaling costs nothing, keeps
# "0 = background", and lets a model without batch normalization train well too.
#
# %% [markdown]
# ## 5. Train / validation / test
#
# Every choice we make — number of layers, dropout, when to stop training — is a kind of fitting.
# If we made those choices by looking at test accuracy, the test set would stop being an honest
# measure. So we hold out the **last 5,000 training images as a validation set** for all such
# decisions, and touch the test set only to report final numbers. `data.load_splits()` does this
# and scales the pixels; every later notebook uses it.

# %%
# NBVAL_CHECK_OUTPUT
splits = data.load_splits()
for name in ("train", "val", "test"):
    x, y = getattr(splits, f"x_{name}"), getattr(splits, f"y_{name}")
    print(f"{name:5} {x.shape} {x.dtype}  labels {np.bincount(y, minlength=10).tolist()}")

# %% [markdown]
# ## What we learned
#
# - 60,000 training and 10,000 test images, 28×28, one byte per pixel; ten nearly balanced classes.
# - Digits are size-normalized to 20×20 and centred by mass — a fact we will rely on for real photos.
# - Normalization matters, measured: without batch normalization, raw 0–255 pixels train a
#   small network clearly worse than scaled or standardized ones; with batch normalization the
#   input's scale is undone inside the network and the three inputs train alike.
# - Inputs are scaled to [0, 1]; choices are made on a 5,000-image validation split.
#

# %% [markdown]
# ## Exercises
#
# Predict the answer first, then run the code to check.
#
# 1. **Another optimizer.** In the normalization experiment, replace `keras.optimizers.Adam(1e-3)`
#    with plain stochastic gradient descent, `keras.optimizers.SGD(0.1)`, and rerun that cell and
#    the next. Which input suffers most without batch normalization now, and with it?
# 2. **A wrong normalization at prediction time.** Train one small network without batch
#    normalization on scaled 0–1 input, then ask it about *raw* 0–255 validation images, as a
#    program that forgets to divide by 255 would. Will accuracy collapse?
# 3. **Whose statistics?** The standardized input subtracts the mean of the *training* split.
#    Why not the mean of all 70,000 images, test included?

# %% [markdown]
# <details><summary>Solutions (click to open)</summary>
#
# 1. Plain SGD takes every weight's gradient at face value, without Adam's per-weight scaling,
#    so a first layer whose sums are 255 times too large gets steps 255 times too large. Expect
#    the raw-input run without batch normalization to blow up (a huge first loss, then accuracy
#    at chance: the network stops learning), and standardized input to pull ahead of scaled
#    input, since SGD also dislikes inputs that are all positive. With batch normalization the
#    three runs again train alike, for the reason given above.
# 2. Run:
#
#    ```python
#    training.set_seed(42)
#    model = small_mlp(batchnorm=False)
#    model.compile(optimizer=keras.optimizers.Adam(1e-3),
#                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
#    model.fit(splits.x_train, splits.y_train, batch_size=128, epochs=3, verbose=0)
#    for name, x in [("0–1, as trained", splits.x_val), ("raw 0–255", splits.x_val * 255)]:
#        loss, acc = model.evaluate(x, splits.y_val, verbose=0)
#        confidence = model.predict(x, verbose=0).max(axis=1).mean()
#        print(f"{name:16}  accuracy {acc:.4f}  loss {loss:.3f}  mean confidence {confidence:.4f}")
#    ```
#
#    Accuracy hardly moves, but the loss explodes and nearly every answer becomes ~100% sure.
#    A ReLU network without batch normalization is almost *scale-invariant* in its answer
#    (multiply the input by 255 and, biases aside, every layer's output is multiplied by 255 too,
#    so the largest output stays the largest) but not in its confidence, which softmax takes from
#    the gaps between outputs, now 255 times wider. A wrong normalization can hide in accuracy
#    and show only in the probabilities.
# 3. Statistics of the test images are information about the test set. Using them in training
#    lets the test set shape the model, and the test score stops being an honest estimate for
#    new images. Everything fitted, even a mean, is fitted on training data.
#
# </details>

# %% [markdown]
# Next, **02 — model design**: a fully connected network that reads these 784 numbers.
