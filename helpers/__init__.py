"""Shared code for the MNIST notebook series; `python -m helpers --help` for the command line.

Modules, in the order data flows (a module imports only those before it):
data → augment → models → training → perturb → evaluate → plots → external → cli.
"""

import os


class UserError(Exception):
    """A problem the user can fix (a missing file, bad input); the CLI prints it as one line."""


# TensorFlow's C++ start-up messages (CUDA probing, oneDNN notices) would fill every notebook's
# output; keep only fatal ones unless the user asks for more. Set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
