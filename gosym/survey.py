"""The survey: one table row per binary, over thousands of binaries.

`survey_one(path)` reads one file and returns a flat row (a dict with the
keys of `COLUMNS`): its identity (build IDs), what built it (Go version,
module, main package, build settings), its shape (format, arch, sizes,
pclntab / symbol table / DWARF bytes) and every `survives` column of
`gosym cost`.  A file that is not a Go binary, or that is broken, is a row
too: `error` says why in one line and the columns that could not be read are
None.  `survey(paths)` runs it over many files with gosym.parallel (a local
process pool by default, or a Dask cluster), and `write_table` writes the
rows as CSV, JSON, JSON lines or Parquet (pyarrow), streaming.

Everything here goes through the public API: `gosym.open` (Binary, its
build info), `gosym.buildid.read_build_ids` and `gosym.cost.cost`.
"""
from __future__ import annotations

import ast
import csv
import json
import os
import stat
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import gosym
from gosym.buildid import read_build_ids
from gosym.cost import cost
from gosym.parallel import describe_error, run

# The build settings given columns of their own (key in the build info ->
# column); every setting is also in `build_settings` (JSON text).
SETTINGS: List[Tuple[str, str, str]] = [
    ("-buildmode", "build_mode", "str"), ("-compiler", "compiler", "str"),
    ("-ldflags", "ldflags", "str"), ("-gcflags", "gcflags", "str"), ("-asmflags", "asmflags", "str"),
    ("-tags", "tags", "str"), ("-trimpath", "trimpath", "bool"), ("-race", "race", "bool"),
    ("-pgo", "pgo", "str"), ("CGO_ENABLED", "cgo_enabled", "bool"), ("GOOS", "goos", "str"),
    ("GOARCH", "goarch", "str"), ("vcs", "vcs", "str"), ("vcs.revision", "vcs_revision", "str"),
    ("vcs.time", "vcs_time", "str"), ("vcs.modified", "vcs_modified", "bool"),
]

# The survives columns: the keys of gosym.cost.survival, in its order.
SURVIVES = ["function_names", "file_line", "inlined_frames", "start_lines", "dwarf_lines",
            "dwarf_types", "frame_info", "symbols", "dynamic_symbols", "go_version", "module_list",
            "build_settings", "go_build_id", "gnu_build_id", "paths_trimmed"]

#: The columns of a survey row, in order, each with its type ("str", "int",
#: "bool"); every column may be None (null) when it could not be read.
COLUMNS: List[Tuple[str, str]] = [
    ("path", "str"), ("error", "str"),
    ("format", "str"), ("arch", "str"), ("file_size", "int"), ("mapped_bytes", "int"),
    ("gnu_build_id", "str"), ("go_build_id", "str"), ("go_content_id", "str"), ("macho_uuid", "str"),
    ("go_version", "str"), ("main_package", "str"), ("module_path", "str"), ("module_version", "str"),
    ("module_deps", "int"),
] + [(col, kind) for _k, col, kind in SETTINGS] + [
    ("goarch_level", "str"), ("build_settings", "str"),
    ("nfunc", "int"), ("pclntab_version", "str"), ("pclntab_bytes", "int"), ("symtab_bytes", "int"),
    ("dwarf_bytes", "int"), ("dwarf_uncompressed_bytes", "int"),
] + [(f"survives_{k}", "bool") for k in SURVIVES]

NAMES = [c for c, _ in COLUMNS]


def _setting_value(text: str, kind: str) -> Any:
    """A build setting's value as its column holds it: unquoted the way
    runtime/debug.ParseBuildInfo does (Go quotes values holding spaces, tabs,
    quotes or "=" with strconv.Quote, e.g. -ldflags="-s -w"), booleans as
    bool.  The raw text stays in the build_settings column."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        try:
            value = ast.literal_eval(text)      # Go's escapes are a subset of Python's
        except (ValueError, SyntaxError):
            value = None
        text = value if isinstance(value, str) else text
    if kind == "bool":
        return {"true": True, "1": True, "false": False, "0": False}.get(text.strip().lower())
    return text


def survey_one(path: str) -> Dict[str, Any]:
    """survey_one reads one file and returns its survey row (keys: NAMES);
    a non-Go or broken file gives a row with `error` set, never an exception."""
    row: Dict[str, Any] = dict.fromkeys(NAMES)
    row["path"] = path
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):    # a FIFO or device would block or never end
            raise gosym.UnsupportedError("not a regular file")
        row["file_size"] = st.st_size
        with gosym.open(path) as b:
            row["format"], row["arch"] = b.format, b.arch
            ids = read_build_ids(b.container)
            row["gnu_build_id"], row["go_build_id"], row["macho_uuid"] = ids.gnu, ids.go, ids.uuid
            if ids.go:
                row["go_content_id"] = ids.go.rsplit("/", 1)[-1]
            bi = b.build_info
            if bi is not None:
                row["go_version"] = bi.go_version
                row["main_package"] = bi.path or None
                if bi.main is not None:
                    row["module_path"], row["module_version"] = bi.main.path, bi.main.version
                row["module_deps"] = len(bi.deps)
                for key, col, kind in SETTINGS:
                    if key in bi.settings:
                        row[col] = _setting_value(bi.settings[key], kind)
                goarch = bi.settings.get("GOARCH", "")
                level = f"GO{goarch.upper()}" if goarch else ""
                if level in bi.settings:
                    row["goarch_level"] = bi.settings[level]
                row["build_settings"] = json.dumps(bi.settings, sort_keys=True)
            row["nfunc"] = len(b.functions)
        rep = cost(path)
        row["mapped_bytes"] = rep["mapped_bytes"]
        row["pclntab_version"] = rep["pclntab"]["version"]
        row["pclntab_bytes"] = rep["pclntab"]["size"]
        row["symtab_bytes"] = rep["symtab_size"]
        row["dwarf_bytes"] = rep["dwarf_size"]
        row["dwarf_uncompressed_bytes"] = rep["dwarf_uncompressed_size"]
        for k in SURVIVES:
            row[f"survives_{k}"] = bool(rep["survives"].get(k))
    except (gosym.GosymError, OSError, ValueError, MemoryError) as e:
        row["error"] = describe_error(e)
    return row


def iter_paths(paths: Iterable[str], list_file: Optional[str] = None) -> Iterator[str]:
    """iter_paths expands the survey's inputs: files as given, directories
    walked recursively (regular files, in sorted order, symlinks to files
    followed), then the lines of list_file ("-": standard input; blank lines
    and lines starting with # skipped)."""
    import sys

    def expand(p: str) -> Iterator[str]:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if os.path.isfile(full):
                        yield full
        else:
            yield p

    for p in paths:
        yield from expand(p)
    if list_file is not None:
        f = sys.stdin if list_file == "-" else open(list_file, encoding="utf-8")
        try:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    yield from expand(line)
        finally:
            if f is not sys.stdin:
                f.close()


def survey(paths: Iterable[str], *, jobs: Optional[int] = None, scheduler: Any = None,
           progress: Any = None,
           locate: Optional[Callable[[str], str]] = None) -> Iterator[Dict[str, Any]]:
    """survey yields the survey row of each path, in order, read on `jobs`
    local processes or on the Dask cluster `scheduler` (gosym.parallel.run).

    locate: the hook for inputs that are not paths (a build ID to be found
    in a symbol store: locate_in_store): a picklable function run on the
    worker that turns an item into a local path; the row's `path` is the
    item."""
    func: Callable[[str], Dict[str, Any]] = survey_one if locate is None else _Located(locate)
    for res in run(func, paths, jobs=jobs, scheduler=scheduler, progress=progress):
        if res.error is not None:           # the worker died, or the task could not run
            row = dict.fromkeys(NAMES)
            row["path"], row["error"] = res.item, res.error
            yield row
        else:
            yield res.value


def locate_in_store(config: Any, build_id: str) -> str:
    """locate_in_store is the locate hook for build IDs: the path of the
    binary with this ID in the symbol store `config` (a picklable
    gosym.store.StoreConfig; one Store per process, gosym.fleet.store_for),
    or LookupError saying what the store met on the way.  Use it as
    `survey(ids, locate=functools.partial(locate_in_store, config))`."""
    from gosym.fleet import store_for

    found = store_for(config).resolve(build_id)
    if found.path is None:
        why = "; ".join(found.problems) or "not in the store's files, directories or servers"
        raise LookupError(f"build ID {build_id}: {why}")
    return found.path


class _Located:
    """A picklable task: locate the item, survey the file, report the item."""

    def __init__(self, locate: Callable[[str], str]) -> None:
        self.locate = locate

    def __call__(self, item: str) -> Dict[str, Any]:
        try:
            path = self.locate(item)
        except (gosym.GosymError, OSError, LookupError) as e:
            row = dict.fromkeys(NAMES)
            row["path"], row["error"] = item, describe_error(e)
            return row
        row = survey_one(path)
        row["path"] = item
        return row


# ------------------------------------------------------------------ output

FORMATS = ("csv", "json", "jsonl", "parquet")


def format_of(out: str) -> str:
    """format_of returns the table format an output file name asks for
    (.csv, .json, .jsonl/.ndjson, .parquet/.pq); ValueError otherwise."""
    ext = out.rsplit(".", 1)[-1].lower() if "." in os.path.basename(out) else ""
    fmt = {"ndjson": "jsonl", "pq": "parquet"}.get(ext, ext)
    if fmt not in FORMATS:
        raise ValueError(f"{out}: cannot tell the table format from the name "
                         f"(want .csv, .json, .jsonl or .parquet, or say --format)")
    return fmt


def arrow_schema() -> Any:
    """arrow_schema returns the pyarrow schema of the survey table (string,
    int64 and bool columns, all nullable); needs pyarrow."""
    pa = _pyarrow()
    types = {"str": pa.string(), "int": pa.int64(), "bool": pa.bool_()}
    return pa.schema([pa.field(name, types[kind], nullable=True) for name, kind in COLUMNS])


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise gosym.UnsupportedError("Parquet output needs pyarrow: pip install 'gosym[fleet]'") from None
    return pyarrow


def _csv_cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    return v


def write_table(rows: Iterable[Dict[str, Any]], out: Any, fmt: str, *, batch: int = 10000) -> int:
    """write_table writes survey rows to out (a text stream for csv/json/
    jsonl; a path or binary stream for parquet) as they come, and returns
    the number of rows.  CSV: empty cells for null, 1/0 for booleans."""
    n = 0
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(NAMES)
        for r in rows:
            w.writerow([_csv_cell(r[c]) for c in NAMES])
            n += 1
    elif fmt == "jsonl":
        for r in rows:
            out.write(json.dumps({c: r[c] for c in NAMES}) + "\n")
            n += 1
    elif fmt == "json":
        out.write("[")
        for r in rows:
            out.write(("\n" if n == 0 else ",\n") + json.dumps({c: r[c] for c in NAMES}))
            n += 1
        out.write("\n]\n" if n else "]\n")
    elif fmt == "parquet":
        pa = _pyarrow()
        import pyarrow.parquet as pq

        schema = arrow_schema()
        with pq.ParquetWriter(out, schema) as w:
            chunk: List[Dict[str, Any]] = []
            for r in rows:
                chunk.append(r)
                n += 1
                if len(chunk) >= batch:
                    w.write_table(pa.Table.from_pylist(chunk, schema=schema))
                    chunk = []
            if chunk or n == 0:
                w.write_table(pa.Table.from_pylist(chunk, schema=schema))
    else:
        raise ValueError(f"unknown table format {fmt!r} (want one of {', '.join(FORMATS)})")
    return n


__all__ = ["COLUMNS", "FORMATS", "NAMES", "SETTINGS", "SURVIVES", "arrow_schema", "format_of",
           "iter_paths", "locate_in_store", "survey", "survey_one", "write_table"]
