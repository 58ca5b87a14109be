"""Shared code for the MNIST notebook series; `python -m helpers --help` for the command line.

Modules, in the order data flows (a module imports only those before it):
data → augment → models → training → perturb → evaluate → plots → external → cli.
"""


class UserError(Exception):
    """A problem the user can fix (a missing file, bad input); the CLI prints it as one line."""
