"""Declares the compiled core; all metadata lives in pyproject.toml.

Switches: GOSYM_DEBUG=1 builds with -O0 -g; GOSYM_SANITIZE=1 adds
AddressSanitizer and UndefinedBehaviorSanitizer (run Python with the ASan
runtime preloaded, e.g. LD_PRELOAD=$(gcc -print-file-name=libasan.so)).
"""
import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

CSRC = ["csrc/pclntab.c", "csrc/pcvalue.c", "csrc/batch.c", "csrc/symtab.c", "csrc/inline.c",
        "csrc/symbolize.c", "csrc/account.c", "csrc/render.c"]

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

ext = Extension(
    "gosym._native",
    sources=["gosym/_native.pyx"] + CSRC,
    include_dirs=["csrc"],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    depends=["csrc/reader.h", "csrc/pclntab.h", "csrc/pclntab_int.h", "csrc/pcvalue.h", "csrc/goformat.h",
             "csrc/symtab.h", "csrc/inline.h", "csrc/account.h", "csrc/render.h",
             "gosym/_reader.pxd", "gosym/_arrays.pxd",
             "gosym/_native.pxd"],
)

# The DWARF line-table decoder: its own module, so it builds and loads apart
# from the pclntab core.
dwarf_ext = Extension(
    "gosym._dwarf",
    sources=["gosym/_dwarf.pyx", "csrc/dwarf_line.c"],
    include_dirs=["csrc"],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    depends=["csrc/reader.h", "csrc/pclntab.h", "csrc/dwarf_line.h", "gosym/_dwarf.pxd",
             "gosym/_reader.pxd", "gosym/_arrays.pxd"],
)

setup(ext_modules=cythonize([ext, dwarf_ext], language_level=3,
                            compiler_directives={"embedsignature": True}))
