"""/proc/PID/maps: which mapping holds a runtime address, and the load bias.

Each line of proc(5)'s maps file is `START-END PERMS OFFSET DEV INODE [PATH]`,
addresses and offset in hex; PATH is everything after the inode (it may hold
spaces) and ends in " (deleted)" when the file was removed after mapping.
The bias of a mapped file is its runtime address minus its link-time virtual
address: the mapping at START holds the file bytes from OFFSET, and the
binary's own loadable segments (ELF PT_LOAD, Mach-O segments) say which
virtual address that file offset was linked at.  Subtract the bias from a
runtime pc before `Binary.symbolize` / `gosym lookup` (or pass `bias=`).

    with gosym.open("/usr/local/bin/app") as b:
        entry, bias = gosym.maps.bias_from_maps(b, open(f"/proc/{pid}/maps").read())
        res = b.symbolize(runtime_pcs, bias=bias)
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterable, List, Optional, Tuple, Union

from gosym.errors import GosymError
from gosym.records import Record

if TYPE_CHECKING:
    from gosym.binary import Binary
    from gosym.container import Container

DELETED = " (deleted)"
# A mapping begins at a page boundary at or below its segment's file offset;
# 64 KiB covers every page size Linux uses (4K, 16K, 64K).
MAX_PAGE = 0x10000


class MapsEntry(Record, frozen=True):
    """MapsEntry is one line of /proc/PID/maps: [start, end) mapped with
    perms ("r-xp") from file offset `offset` of `path` ("" when anonymous;
    pseudo-paths such as "[vdso]" as written)."""

    start: int                    #: first address of the mapping
    end: int                      #: address past the mapping
    perms: str                    #: permissions, e.g. "r-xp"
    offset: int                   #: file offset mapped at `start`
    dev: str                      #: device, "major:minor" in hex
    inode: int                    #: inode (0 when anonymous)
    path: str                     #: mapped file, "" when anonymous, or a pseudo-path such as "[vdso]"
    deleted: bool = False         #: the file was removed after mapping (" (deleted)" is cut from `path`)

    @property
    def executable(self) -> bool:
        """executable tells whether the mapping's permissions include x."""
        return len(self.perms) >= 3 and self.perms[2] == "x"

    def contains(self, address: int) -> bool:
        """contains tells whether address lies in [start, end)."""
        return self.start <= address < self.end


def _hex(text: str) -> Optional[int]:
    if not text or len(text) > 16:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def parse_line(line: str) -> Optional[MapsEntry]:
    """parse_line reads one maps line; None when it is not one."""
    parts = line.rstrip("\n").split(None, 5)
    if len(parts) < 5:
        return None
    rng, perms, off, dev, inode = parts[:5]
    lo, sep, hi = rng.partition("-")
    start, end, offset = _hex(lo), _hex(hi), _hex(off)
    if not sep or start is None or end is None or offset is None or end < start:
        return None
    if not inode.isdigit() or len(perms) != 4:
        return None
    # The path is the rest of the line after the inode's padding; split()
    # above has already dropped the blanks before it, and kept inner ones.
    path = parts[5] if len(parts) > 5 else ""
    deleted = path.endswith(DELETED)
    if deleted:
        path = path[:-len(DELETED)]
    return MapsEntry(start, end, perms, offset, dev, int(inode), path, deleted)


def parse_maps(text: Union[str, bytes]) -> List[MapsEntry]:
    """parse_maps reads /proc/PID/maps text into entries in file order,
    skipping lines that are not maps lines (linear in the text)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    out = []
    for line in text.splitlines():
        e = parse_line(line)
        if e is not None:
            out.append(e)
    return out


def _entries(maps: Union[str, bytes, Iterable[MapsEntry]]) -> List[MapsEntry]:
    if isinstance(maps, (str, bytes)):
        return parse_maps(maps)
    return list(maps)


def _same_file(entry: MapsEntry, path: str, ident: Optional[Tuple[int, int]]) -> bool:
    if entry.path == path:
        return True
    if ident is not None and entry.inode == ident[1] and entry.inode != 0:
        major, _, minor = entry.dev.partition(":")
        try:
            return os.makedev(int(major, 16), int(minor, 16)) == ident[0]
        except (ValueError, OverflowError):
            return False
    return False


def _file_ident(path: str) -> Tuple[str, Optional[Tuple[int, int]]]:
    """The absolute real path of a file and its (st_dev, st_ino), when it exists."""
    try:
        st = os.stat(path)
        return os.path.realpath(path), (st.st_dev, st.st_ino)
    except OSError:
        return os.path.abspath(path), None


def find_mapping(maps: Union[str, bytes, Iterable[MapsEntry]], address: Optional[int] = None,
                 path: Optional[str] = None) -> Optional[MapsEntry]:
    """find_mapping returns the mapping holding a runtime address, or with
    only `path`, that file's executable mapping (else its first); with both,
    the mapping must also be of that file.  None when nothing fits.  A path
    matches the maps path as written, its real path, or the same device and
    inode (a symlink or relative path to the same file)."""
    entries = _entries(maps)
    ident = None
    real = None
    if path is not None:
        real, ident = _file_ident(path)
    cands = [e for e in entries
             if path is None or e.path == path or _same_file(e, real or path, ident)]
    if address is not None:
        for e in cands:
            if e.contains(address):
                return e
        return None
    for e in cands:
        if e.executable:
            return e
    return cands[0] if cands else None


def _elf_perms(flags: int) -> str:
    """An ELF p_flags value (PF_R 4, PF_W 2, PF_X 1) spelled as maps perms."""
    return ("r" if flags & 4 else "-") + ("w" if flags & 2 else "-") + ("x" if flags & 1 else "-")


def load_bias(container: "Container", start: int, offset: int,
              perms: Optional[str] = None) -> Optional[int]:
    """load_bias is the runtime address minus the link-time address for a
    mapping of the file at `start` holding the bytes from file offset
    `offset` (and, if known, with maps `perms` such as "r-xp"); None when no
    loadable segment holds that offset.  The segment is found by offset, not
    assumed to be the first: a mapping starts at the page at or below its
    segment's file offset, and may share that page with the end of the
    previous segment; then the segment whose ELF flags agree with `perms`,
    else the one that starts in the mapping's first page, is taken."""
    if container.format == "PE" and offset == 0:
        return start - container.image_base   # the image is mapped whole from its headers
    cands = [s for s in container.segments if s.file_size and
             (s.offset <= offset < s.offset + s.file_size or offset < s.offset < offset + MAX_PAGE)]
    if not cands:
        return None
    want = perms[:3] if perms and container.format == "ELF" else None

    def rank(s):
        agrees = want is not None and _elf_perms(s.flags) == want
        return (not agrees, s.offset < offset, abs(s.offset - offset))
    hit = min(cands, key=rank)
    # Runtime start holds file offset `offset`, linked at hit.addr - (hit.offset - offset).
    return start - (hit.addr - hit.offset + offset)


def bias_from_maps(binary: "Binary", maps: Union[str, bytes, Iterable[MapsEntry]],
                   address: Optional[int] = None,
                   path: Optional[str] = None) -> Tuple[MapsEntry, int]:
    """bias_from_maps finds the binary's mapping in a process's maps (the one
    holding `address` if given, else its executable mapping; the file is
    `path`, default the binary's own path) and returns (entry, bias).
    Raises GosymError when the binary is not mapped there or the mapping's
    offset is in none of its segments."""
    entries = _entries(maps)
    if path is None:
        path = binary.path
    entry = find_mapping(entries, address, path)
    if entry is None and path is not None and address is None:
        # Copied binaries: the same file name, a different directory.
        base = os.path.basename(path)
        entry = next((e for e in entries if e.executable and os.path.basename(e.path) == base), None)
    if entry is None:
        where = f" at {address:#x}" if address is not None else ""
        raise GosymError(f"{path or 'the binary'} is not mapped{where} in these maps")
    bias = load_bias(binary.container, entry.start, entry.offset, entry.perms)
    if bias is None:
        raise GosymError(f"maps offset {entry.offset:#x} of {entry.path or 'the mapping'} "
                         "is in none of the binary's loadable segments")
    return entry, bias
