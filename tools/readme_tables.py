"""Rewrite the README's selection tables from their records in `notebooks/records/*.csv`.

Each table sits between `<!-- generated from notebooks/records/NAME.csv ... -->` and
`<!-- end of generated table -->`; tests/test_run_records.py fails when one is out of date.
Usage: `.venv/bin/python tools/readme_tables.py`.
"""

from __future__ import annotations

import re

from helpers import data, run_records

README = data.REPO_ROOT / "README.md"
BLOCK = re.compile(
    r"(<!-- generated from notebooks/records/(\w+)\.csv[^\n]*-->\n)(.*?)(\n<!-- end of generated table -->)",
    re.DOTALL,
)


def render(text: str) -> str:
    """The README text with every generated table rebuilt from its record."""
    return BLOCK.sub(lambda m: m.group(1) + run_records.selection_markdown(m.group(2)) + m.group(4), text)


if __name__ == "__main__":
    old = README.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        data.atomic_write(README, new.encode("utf-8"))
    print("README.md: tables " + ("rewritten" if new != old else "already up to date"))
