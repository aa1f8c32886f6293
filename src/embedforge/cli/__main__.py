"""``python -m embedforge.cli``."""

from . import run

run()
