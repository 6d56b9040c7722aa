"""Where a binary's bytes go, per package, module, file or function: `gosym cost --by`.

For each group: its code bytes (each function's code, from the pclntab: the
pc extent of its pc-value tables, which the compiler writes to the
function's last byte), the pclntab bytes it owns (function-table pair,
_func record, name, pc-value tables; Binary.function_costs, the one byte
accounting in csrc/account.c) and, where the binary has DWARF, the bytes of
the .debug_line programs of its compile units (Go writes one unit per
package, so only --by package and --by module have them).

Three more lines make the totals exact:

- "(alignment padding)": the bytes between a function's last byte and the
  next function's entry (the linker aligns every entry; Go's `nm -size`
  leaves them out of the symbol too);
- "(linker stubs)": functions with no pc-value tables, which the linker
  makes (trampolines on arm, ppc64 and riscv64; marker symbols such as
  go:textfipsstart): their whole range, as their code size is not recorded;
- "(C / non-Go code)": the bytes of the text section outside every Go
  function's range (cgo's C code, the C library's startup code), and the
  line programs of non-Go compile units;
- "(unattributed)": pclntab bytes no one function owns (header, cu and file
  tables, go:func.* on Go 1.26+, padding) and, for --by file/function, the
  line programs.

So the groups' code plus padding plus non-Go code is the text section's size,
their pclntab bytes plus the unattributed line are the pclntab's size, and
their line-program bytes plus the rest are .debug_line's (uncompressed) size.

Grouping follows Go's symbol names: the package is the path before the first
dot after the last slash, type arguments ignored (`pkg.F[go.shape.int]`),
closures and methods with their package (`pkg.F.func1`, `pkg.(*T).M`), the
linker's escaped dots unescaped (`gopkg.in/yaml%2ev3` is gopkg.in/yaml.v3);
compiler-generated `type:`/`go:` symbols (`type.`/`go.` before Go 1.20) form
the groups "type:" and "go:".  A module is the build info's module with the
longest path prefix of the package; the standard library is "std" and the
toolchain's commands (cmd/...) are "cmd".
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

import gosym

GROUPINGS = ("package", "module", "file", "function")
PADDING = "(alignment padding)"
NON_GO = "(C / non-Go code)"
UNATTRIBUTED = "(unattributed)"
STUBS = "(linker stubs)"
SPECIAL = (PADDING, STUBS, NON_GO, UNATTRIBUTED)
DW_LANG_GO = 0x16

# Compiler and linker symbols spelled with a dot before Go 1.20 ("go.itab.*T,I").
_OLD_GO_PREFIXES = ("go.buildid", "go.itab.", "go.shape.", "go.info.", "go.string.", "go.func.",
                    "go.importpath.", "go.cuinfo.", "go.map.", "go.constinfo.", "go.builtin.",
                    "go.runtime.", "go.track.", "go.link.", "go.dwarf", "go.weak.")
_ESCAPE = re.compile(r"%([0-9a-fA-F]{2})")


def _unescape(path: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), path) if "%" in path else path


def package_of(name: str) -> str:
    """package_of returns the package a Go symbol name belongs to, by the rules
    in this module's docstring ("type:" and "go:" for compiler symbols, "" for
    a name with no package)."""
    if name.startswith(("type:", "type.")):
        return "type:"
    if name.startswith("go:") or name.startswith(_OLD_GO_PREFIXES):
        return "go:"
    if "[" not in name:      # no type arguments: string methods, no loop
        dot = name.find(".", name.rfind("/") + 1)
        return _unescape(name[:dot]) if dot >= 0 else ""
    depth = 0
    slash = -1
    for k, ch in enumerate(name):    # the last slash outside type arguments
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "/" and depth == 0:
            slash = k
    depth = 0
    for k in range(slash + 1, len(name)):
        ch = name[k]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "." and depth == 0:
            return _unescape(name[:k])
    return ""


def module_of(package: str, modules: List[str], main: str = "") -> str:
    """module_of returns the module (from `modules`, longest match first) that
    holds package ("main" is the main module's), "std" for the standard
    library, "cmd" for the toolchain's commands, else "(unknown module)"."""
    if package in ("type:", "go:"):
        return package
    if package == "main" and main:
        return main
    for m in modules:
        if package == m or package.startswith(m + "/"):
            return m
    first = package.split("/", 1)[0]
    if first == "cmd":
        return "cmd"      # GOROOT/src/cmd is the module "cmd" (the toolchain's commands)
    if package and "." not in first and package != "main" and not package.startswith("main/"):
        return "std"
    return "(unknown module)"


def _text_range(b: "gosym.Binary", lo: int, hi: int) -> Tuple[int, int, str]:
    """The section holding the Go code: (start, end, name); the functions'
    own span when no section contains the first entry (raw images)."""
    for s in b.container.sections:
        size = s.mem_size or s.size
        if s.addr and s.addr <= lo < s.addr + size:
            return s.addr, s.addr + size, s.name
    return lo, hi, ""


def _dwarf_lines(b: "gosym.Binary") -> Optional[Tuple[int, List[Tuple[Optional[str], int]]]]:
    """(.debug_line size, [(package or None for a non-Go unit, bytes)]), each
    program running to the next program's offset; None without DWARF."""
    try:
        dw = b.dwarf
        if dw is None:
            return None
        sec = dw.section("line")
        if sec is None:
            return None
        offs = list(dw.line_offsets())
        units = {u.stmt_list: u for u in dw.units() if u.stmt_list is not None}
    except gosym.GosymError:
        return None
    out: List[Tuple[Optional[str], int]] = []
    for k, off in enumerate(offs):
        end = offs[k + 1] if k + 1 < len(offs) else sec.size
        u = units.get(off)
        pkg = _unescape(u.name) if u is not None and u.language == DW_LANG_GO and u.name else None
        out.append((pkg, max(0, min(end, sec.size) - off)))
    return sec.size, out


def _row(name: str) -> Dict[str, Any]:
    return {"name": name, "code": 0, "pclntab": 0, "dwarf_line": 0, "functions": 0}


def by_group(b: "gosym.Binary", by: str = "package") -> Dict[str, Any]:
    """by_group splits one opened binary's code, pclntab and DWARF line-program
    bytes by package, module, file or function (the `gosym cost --by --json`
    document): rows sorted by code + pclntab bytes, the special lines last,
    and totals that the rows sum to exactly."""
    if by not in GROUPINGS:
        raise ValueError(f"--by takes one of {', '.join(GROUPINGS)}, not {by!r}")
    fc = b.function_costs()
    cols = b.functions.columns(files=(by == "file"))
    n = len(cols.entry)
    names = list(cols.name)
    modules: List[str] = []
    bi = b.build_info
    main = ""
    if bi is not None:   # the main package's module; a toolchain command has no main module
        main = bi.main.path if bi.main is not None else module_of(bi.path, [])
        modules = sorted({m.path for m in ([bi.main] if bi.main else []) + list(bi.deps)},
                         key=len, reverse=True)
    key_memo: Dict[str, str] = {}

    def key(i: int) -> str:
        if by == "function":
            return names[i]
        if by == "file":
            return (cols.file or [""] * n)[i] or "(no file)"
        pkg = key_memo.get(names[i])
        if pkg is None:
            pkg = key_memo[names[i]] = package_of(names[i]) or "(no package)"
        return module_of(pkg, modules, main) if by == "module" else pkg

    rows: Dict[str, Dict[str, Any]] = {}
    padding = 0
    lo = cols.entry[0] if n else 0
    hi = cols.end[n - 1] if n else 0
    stubs = _row(STUBS)
    for i in range(n):
        if fc.code[i] == 0:
            stubs["code"] += max(0, cols.end[i] - cols.entry[i])
            stubs["pclntab"] += fc.record[i] + fc.name[i] + fc.pcvalue[i] + fc.funcdata[i]
            stubs["functions"] += 1
            continue
        k = key(i)
        r = rows.get(k)
        if r is None:
            r = rows[k] = _row(k)
        code = min(fc.code[i], max(0, cols.end[i] - cols.entry[i]))
        r["code"] += code
        r["pclntab"] += fc.record[i] + fc.name[i] + fc.pcvalue[i] + fc.funcdata[i]
        r["functions"] += 1
        padding += cols.end[i] - cols.entry[i] - code
    t_lo, t_hi, t_name = _text_range(b, lo, hi)
    inside = max(0, min(hi, t_hi) - max(lo, t_lo))
    text_size = t_hi - t_lo
    # Function ranges outside the section (not seen in Go's layouts) are
    # counted where they are: the text total then grows by them.
    outside = (hi - lo) - inside
    pcln_size = b.pclntab.size
    owned = sum(r["pclntab"] for r in rows.values()) + stubs["pclntab"]
    pad, nongo, unatt = _row(PADDING), _row(NON_GO), _row(UNATTRIBUTED)
    pad["code"] = padding
    nongo["code"] = text_size - inside
    unatt["pclntab"] = pcln_size - owned
    dl = _dwarf_lines(b)
    dwarf_size = None
    if dl is not None:
        dwarf_size, progs = dl
        for pkg, nbytes in progs:
            if pkg is None:
                nongo["dwarf_line"] += nbytes
                continue
            k = module_of(pkg, modules, main) if by == "module" else pkg
            if by in ("package", "module") and k in rows:
                rows[k]["dwarf_line"] += nbytes
            else:
                unatt["dwarf_line"] += nbytes
        unatt["dwarf_line"] += dwarf_size - sum(nb for _, nb in progs)
    groups = sorted(rows.values(), key=lambda r: (-(r["code"] + r["pclntab"]), r["name"]))
    groups += [r for r in (pad, stubs, nongo, unatt) if r["code"] or r["pclntab"] or r["dwarf_line"]]
    if dwarf_size is None:
        for r in groups:
            r["dwarf_line"] = None
    return {
        "path": b.path, "by": by,
        "totals": {"text": text_size + outside, "text_section": t_name, "pclntab": pcln_size,
                   "dwarf_line": dwarf_size, "functions": n},
        "groups": groups,
    }


def cost_by(path: str, by: str = "package") -> Dict[str, Any]:
    """cost_by opens path and returns by_group's document for it."""
    with gosym.open(path) as b:
        return by_group(b, by)
