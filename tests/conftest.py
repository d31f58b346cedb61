"""Shared test settings: page tests run each script headless through AppTest."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import os  # noqa: E402

# Pages send chart specifications without Altair's schema validation (it is most of a
# rerun's cost); under test every chart a page draws is validated.
os.environ.setdefault("CHARTS_VALIDATE", "1")
