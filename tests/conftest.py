"""Shared test settings: page tests run each script headless through AppTest."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
