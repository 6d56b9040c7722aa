"""gosym reads the symbol data of Go binaries: pclntab, symbol tables, build info.

::

    import gosym
    with gosym.open("app") as b:
        print(b.go_version, len(b.functions))
        for frame in b.lookup(0x401000):
            print(frame.function, frame.file, frame.line)
"""
from __future__ import annotations

try:
    from gosym import _native  # noqa: F401
except ImportError as _e:  # pragma: no cover - only on a broken install
    raise ImportError(
        "gosym's compiled core (gosym._native) is missing or failed to load: "
        f"{_e}. Reinstall with `pip install .` from a source checkout (needs a C "
        "compiler); gosym has no pure-Python fallback."
    ) from _e

from typing import TYPE_CHECKING, Any

from gosym.addresses import parse_address, parse_addresses
from gosym.binary import Binary, Frame, open
from gosym.buildinfo import BuildInfo, Module
from gosym.errors import FormatError, GosymError, GosymWarning, NotGoBinaryError, UnsupportedError
from gosym.pclntab import Func, Functions, PclntabInfo, PclntabVersion
from gosym.results import FunctionColumns, FunctionCosts, LineColumns, LineRow, LookupColumns, Symbolized

if TYPE_CHECKING:
    from gosym import maps, parallel, pprof, survey  # noqa: F401
    from gosym.dwarf import CompileUnit, Dwarf, LineInfo, LineRows, LineTable, open_dwarf  # noqa: F401

# Imported on first use, so that `import gosym` (and a profiler's `gosym
# lookup` process) does not pay for the DWARF reader, pprof or maps code.
_LAZY = {
    "CompileUnit": "gosym.dwarf", "Dwarf": "gosym.dwarf", "LineInfo": "gosym.dwarf",
    "LineRows": "gosym.dwarf", "LineTable": "gosym.dwarf", "open_dwarf": "gosym.dwarf",
    "maps": None, "pprof": None, "parallel": None, "survey": None,
}


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module 'gosym' has no attribute {name!r}")
    module = _LAZY[name]
    value = (importlib.import_module(f"gosym.{name}") if module is None
             else getattr(importlib.import_module(module), name))
    globals()[name] = value
    return value

__version__ = "0.1.0"

# The public surface: these names, and what their objects return.  Every
# other module-level name in gosym is internal (the CLI in gosym.cli uses
# nothing else; tests/unit/test_api.py checks both).
__all__ = [
    "Binary", "BuildInfo", "Frame", "FormatError", "Func", "FunctionColumns", "FunctionCosts",
    "Functions",
    "GosymError", "GosymWarning", "LineColumns", "LineRow", "LookupColumns", "Module",
    "NotGoBinaryError", "PclntabInfo", "PclntabVersion", "Symbolized", "UnsupportedError",
    "open", "parse_address", "parse_addresses", "__version__",
    "CompileUnit", "Dwarf", "LineInfo", "LineRows", "LineTable", "open_dwarf",
]
