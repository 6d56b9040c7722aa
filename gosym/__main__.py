"""python -m gosym: the command-line interface (see gosym.cli)."""
import sys

from gosym.cli import main

sys.exit(main())
