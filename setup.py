"""Declares the compiled core; all metadata lives in pyproject.toml.

Switches: GOSYM_DEBUG=1 builds with -O0 -g; GOSYM_SANITIZE=1 adds
AddressSanitizer and UndefinedBehaviorSanitizer (run Python with the ASan
runtime preloaded, e.g. LD_PRELOAD=$(gcc -print-file-name=libasan.so)).
"""
import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

compile_args = []
link_args = []
if sys.platform != "win32":
    compile_args += ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-function",
                     "-Wno-unused-parameter", "-Wno-sign-compare",
                     # Only PyInit_* is exported: calls between the C files
                     # then go direct, not through the PLT.
                     "-fvisibility=hidden", "-pthread"]
    link_args += ["-pthread"]
    if os.environ.get("GOSYM_DEBUG") == "1":
        compile_args += ["-O0", "-g", "-UNDEBUG"]
    else:
        compile_args += ["-O2"]
    if os.environ.get("GOSYM_SANITIZE") == "1":
        flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                 "-fno-sanitize-recover=undefined"]
        compile_args += flags + ["-O1", "-g"]
        link_args += flags

# The core, as four extension modules sharing cdef classes through .pxd
# files: _pclntab (the table object), _symtab (byte scans, symbol tables),
# _render (address parsing, text output) and _native (whole-table passes and
# the batch symbolizer; the module the Python layers import).  Each links
# the C it calls; the C has no global state, so copies do not conflict.
HEADERS = ["csrc/reader.h", "csrc/pclntab.h", "csrc/pclntab_int.h", "csrc/pcvalue.h",
           "csrc/goformat.h", "csrc/symtab.h", "csrc/inline.h", "csrc/account.h",
           "csrc/render.h", "gosym/_reader.pxd", "gosym/_arrays.pxd", "gosym/_csrc.pxd",
           "gosym/_pclntab.pxd", "gosym/_render.pxd"]


def core(name, csrc):
    return Extension(f"gosym.{name}", sources=[f"gosym/{name}.pyx"] + csrc, include_dirs=["csrc"],
                     extra_compile_args=compile_args, extra_link_args=link_args,
                     depends=HEADERS)


BASE = ["csrc/pclntab.c", "csrc/pcvalue.c"]
PCLN = BASE + ["csrc/inline.c", "csrc/lookup.c"]
exts = [core("_pclntab", PCLN),
        core("_symtab", BASE + ["csrc/symtab.c"]),
        core("_render", BASE + ["csrc/render.c"]),
        core("_native", PCLN + ["csrc/batch.c", "csrc/symbolize.c", "csrc/account.c"])]

# The DWARF line-table decoder: its own module, so it builds and loads apart
# from the pclntab core.
DWARF_HEADERS = ["csrc/reader.h", "csrc/pclntab.h", "csrc/dwarf_line.h", "csrc/dwarf_form.h", "gosym/_dwarf.pxd",
                 "gosym/_reader.pxd", "gosym/_arrays.pxd"]
dwarf_ext = Extension(
    "gosym._dwarf",
    sources=["gosym/_dwarf.pyx", "csrc/dwarf_line.c", "csrc/dwarf_header.c", "csrc/dwarf_form.c"],
    include_dirs=["csrc"],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    depends=DWARF_HEADERS,
)

# The column passes of `gosym check` (row starts, interning, gather,
# classify): typed loops over arrays, no C sources of their own (it
# cimports only the DWARF row flags from _dwarf.pxd).
columns_ext = Extension(
    "gosym._columns",
    sources=["gosym/_columns.pyx"],
    include_dirs=["csrc"],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    depends=DWARF_HEADERS,
)

# pprof profiles (profile.proto) decoded to columns and re-encoded: its own
# module over csrc/profile.c and profile_tab.c, used by gosym.pprof only.  It links the pclntab
# reader (BASE) to copy function names straight from a PclnTable's table.
profile_ext = Extension(
    "gosym._profile",
    sources=["gosym/_profile.pyx", "csrc/profile.c", "csrc/profile_tab.c"] + BASE,
    include_dirs=["csrc"],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    depends=["csrc/profile.h"] + HEADERS,
)

setup(ext_modules=cythonize(exts + [dwarf_ext, columns_ext, profile_ext], language_level=3,
                            compiler_directives={"embedsignature": True}))
