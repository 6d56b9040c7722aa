import array
import subprocess
import sys

import gosym

# A real Go binary: the Go 1.27.3 compiler, fetched into ~/.cache/gosym.
path = subprocess.run([sys.executable, "tests/corpus/fetch.py", "-q", "--path",
                       "go1.27.3-compile-linux-amd64"], capture_output=True, text=True).stdout.strip()

with gosym.open(path) as b:                       # mmap; reads headers only
    print(b.format, b.arch, b.go_version)         # ELF amd64 go1.27.3
    print(b.pclntab.version, b.pclntab.nfunc)     # 1.20 20291
    f = b.functions.get("cmd/compile/internal/ssa.(*Func).NewBlock")
    print(f.name, hex(f.entry), hex(f.end), f.file, f.start_line, f.package, f.receiver, f.base_name)
    pc = f.entry + 0x67                           # inside an inlined call
    for frame in b.lookup(pc):                    # innermost first; [] on a miss (bad data: FormatError)
        print(frame.function, frame.file, frame.line, frame.inlined)
    for row in f.lines()[:3]:                     # the function's pc -> file:line table
        print(hex(row.pc), hex(row.end), row.file, row.line)
    cols = b.functions.columns()                  # whole table in one C pass (arrays; names on access)
    pcs = array.array("Q", [pc, cols.entry[5], 0x10])
    res = b.symbolize(pcs)                        # batch, inlined frames included: columns, GIL released
    print(res.count[0], res.frames(0)[0].function, res.count[2])   # a miss has 0 frames
    idx, line, file_off = b.lookup_many(pcs)      # batch, physical function only
    print(cols.name[idx[1]], line[1], b.file_name(file_off[1]))
