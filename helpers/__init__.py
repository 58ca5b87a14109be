"""Shared code for the MNIST notebook series; `python -m helpers --help` for the command line.

The layers, in the order data flows; a module imports only modules of the layers above it,
or those before it in its own layer (tests/test_layers.py checks this):

1. data       `data` (MNIST download, verification, splits; the one atomic file write)
2. models     `configs` (model, augmentation and training settings), `registry` (recipes,
              names, paths, which cached model is current and best; no TensorFlow),
              `augment`, `models`, `training` (Keras: build and fit), `inference` (the one
              `load_model` and `predict_proba`: Keras or LiteRT), `model_cache` (train and
              save, or get the current cached model), `run_records` (short comparison runs,
              trained once and recorded)
3. evaluation `perturb` (shifted, rotated, noisy... copies), `evaluate` (metrics), `plots`
4. photos     `photo` (a package: image → ink → lines → segment → mnist_form → pipeline →
              annotate), `external_sets` (the external digits and USPS, and their scores)
   `drawing` (strokes drawn on a canvas → picture → what each model reads)
5. interface  `draw_widget` (the canvas in JupyterLab: an anywidget, notebook 07), `cli` (every
              command and everything it prints)

Keras is imported only where a model is built, trained or run (`augment`, `models`,
`training`, `model_cache`, and `inference` when it loads a Keras model), so `predict` starts
without TensorFlow.
"""

import os


class UserError(Exception):
    """A problem the user can fix (a missing file, bad input); the CLI prints it as one line."""


# TensorFlow's C++ start-up messages (CUDA probing, oneDNN notices) would fill every notebook's
# output; keep only fatal ones unless the user asks for more. Set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
