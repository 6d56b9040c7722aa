"""Pieces several gosym commands share: the --debug-file options, the
address option type, a progress printer.  Public API only."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import argparse


def add_debug_file_args(p: argparse.ArgumentParser) -> None:
    """add_debug_file_args adds --debug-file and --no-build-id-check to a
    command that reads DWARF."""
    p.add_argument("--debug-file", metavar="FILE", default=None,
                   help="read DWARF from this separate debug file (objcopy --only-keep-debug, "
                        "-dbgsym packages); its build ID must match the binary's")
    p.add_argument("--no-build-id-check", action="store_true",
                   help="use --debug-file even when its build ID differs from the binary's")


def address_option(text: str) -> int:
    """address_option is the argparse type of an address option: hex with
    0x, or decimal."""
    import argparse

    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address: {text!r} (want e.g. 0x400000)") from None
    if not 0 <= v < 1 << 64:
        raise argparse.ArgumentTypeError(f"address out of range: {text!r}")
    return v


def count_progress(enabled: bool) -> Callable[[int, int], None]:
    """count_progress returns tick(done, total), which prints a stderr
    progress line for long passes every 5% (nothing when not enabled)."""
    state = {"last": -1}

    def tick(done: int, total: int) -> None:
        if not enabled or total <= 0:
            return
        pct = done * 100 // total
        if pct != state["last"] and pct % 5 == 0:
            state["last"] = pct
            sys.stderr.write(f"\rgosym: {done}/{total} functions ({pct}%)")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
    return tick
