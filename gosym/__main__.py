"""python -m gosym: the command-line interface (see gosym.cli)."""
from gosym.cli import entry

entry()
