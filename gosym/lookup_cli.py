"""Former home of `gosym lookup`, now gosym/cli/lookup.py: these names stay
importable from here for code written against the old layout."""
from gosym.cli.lookup import (STYLES, answer_batch, answer_bytes, cmd_lookup, format_answer,  # noqa: F401
                              parse_addr, run, run_stream)
