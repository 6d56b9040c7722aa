// Command gobench times Go's own debug/gosym on one binary, phase by phase,
// for benches/bench_pclntab.py, which runs gosym on the same binary and the
// same pcs and prints the ratios.  Standard library only.
//
//	gobench -bin PATH -text BASE -pcs FILE [-small N] [-rows FILE] [-repeat R]
//	        [-budget SECONDS] [-dump PREFIX] [-dumpn N]
//
// -pcs and -rows are files of little-endian uint64 pcs.  The JSON report on
// stdout gives, per phase, the minimum over -repeat runs in nanoseconds (a
// phase stops repeating once its runs add up to -budget seconds; "runs"
// says how many it had).  With -dump, the answers of PCToLine for the first
// -dumpn pcs of -pcs and every pc of -rows are written (outside the timed
// phases) to PREFIX.lookup / PREFIX.rows as packed records, with the
// strings they refer to in PREFIX.strings (one per line, numbered from 0);
// see writeDump.
package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"debug/gosym"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type report struct {
	GoVersion   string           `json:"go_version"`
	Format      string           `json:"format"`
	Found       string           `json:"found_by"`
	PclntabSize int              `json:"pclntab_size"`
	TextBase    uint64           `json:"text_base"`
	NFunc       int              `json:"nfunc"`
	NPCs        int              `json:"npcs"`
	NSmall      int              `json:"nsmall"`
	NRows       int              `json:"nrows"`
	Repeat      int              `json:"repeat"`
	PhasesNS    map[string]int64 `json:"phases_ns"`
	Runs        map[string]int   `json:"runs"`
	RSSKB       map[string]int64 `json:"rss_kb"`
	Sink        uint64           `json:"sink"`
}

// sink keeps the compiler from dropping work whose result is unused.
var sink uint64

func main() {
	bin := flag.String("bin", "", "Go binary to read")
	textArg := flag.String("text", "", "text base (runtime.text), decimal or 0x-hex")
	pcsPath := flag.String("pcs", "", "file of little-endian uint64 pcs")
	small := flag.Int("small", 100000, "pcs in the small lookup phase (a prefix of -pcs)")
	rowsPath := flag.String("rows", "", "file of little-endian uint64 row-start pcs (line-table walk)")
	repeat := flag.Int("repeat", 3, "runs per phase; the minimum is reported")
	budget := flag.Float64("budget", 30, "stop repeating a phase once its runs took this many seconds")
	dump := flag.String("dump", "", "write PCToLine answers to PREFIX.{lookup,rows,strings}")
	dumpN := flag.Int("dumpn", 100000, "pcs of -pcs whose answers -dump writes")
	flag.Parse()
	if *bin == "" || *textArg == "" {
		fail(errors.New("need -bin and -text"))
	}
	textBase, err := strconv.ParseUint(*textArg, 0, 64)
	if err != nil {
		fail(fmt.Errorf("bad -text: %v", err))
	}
	if *repeat < 1 {
		*repeat = 1
	}
	pcs, err := readPCs(*pcsPath)
	if err != nil {
		fail(err)
	}
	rows, err := readPCs(*rowsPath)
	if err != nil {
		fail(err)
	}
	if *small > len(pcs) {
		*small = len(pcs)
	}

	rep := report{
		GoVersion: runtime.Version(), TextBase: textBase, NPCs: len(pcs), NSmall: *small,
		NRows: len(rows), Repeat: *repeat,
		PhasesNS: map[string]int64{}, Runs: map[string]int{}, RSSKB: map[string]int64{},
	}
	budgetNS := int64(*budget * 1e9)
	best := func(name string, f func()) {
		rep.PhasesNS[name], rep.Runs[name] = bestOf(*repeat, budgetNS, f)
	}
	rep.RSSKB["start"] = procStatus("VmRSS")

	// Phase: open the file and find the pclntab bytes.
	var data []byte
	best("open_locate", func() {
		d, format, found, err := locate(*bin)
		if err != nil {
			fail(err)
		}
		data, rep.Format, rep.Found = d, format, found
	})
	rep.PclntabSize = len(data)
	rep.RSSKB["after_open_locate"] = procStatus("VmHWM")

	// Phase: build the table from the bytes (NewLineTable + NewTable, which
	// decodes every function's entry, end and name).
	var tab *gosym.Table
	best("build", func() {
		t, err := gosym.NewTable(nil, gosym.NewLineTable(data, textBase))
		if err != nil {
			fail(err)
		}
		tab = t
	})
	rep.NFunc = len(tab.Funcs)
	rep.RSSKB["after_build"] = procStatus("VmHWM")

	// Phase: open + locate + build in one go, what a program starting from a
	// path pays before its first lookup.
	best("open_build", func() {
		d, _, _, err := locate(*bin)
		if err != nil {
			fail(err)
		}
		if _, err := gosym.NewTable(nil, gosym.NewLineTable(d, textBase)); err != nil {
			fail(err)
		}
	})

	// Phase: walk the function table reading Name, Entry and End.
	best("iterate", func() {
		var s uint64
		for i := range tab.Funcs {
			f := &tab.Funcs[i]
			s += uint64(len(f.Name)) + f.Entry + f.End
		}
		sink += s
	})

	// Phases: random-pc lookups with PCToLine (file, line and function).
	lookup := func(p []uint64) func() {
		return func() {
			var s uint64
			for _, pc := range p {
				file, line, fn := tab.PCToLine(pc)
				if fn != nil {
					s += uint64(len(file)) + uint64(line) + fn.Entry
				}
			}
			sink += s
		}
	}
	if *small > 0 {
		best("lookup_small", lookup(pcs[:*small]))
	}
	if len(pcs) > 0 {
		best("lookup_large", lookup(pcs))
	}

	// Phase: the full line-table walk.  debug/gosym has no row iterator, so
	// this is PCToLine at the first pc of every row that gosym's lines()
	// reports (the pcs come from the harness): the same rows, answered the
	// only way debug/gosym can.
	if len(rows) > 0 {
		best("lines", lookup(rows))
	}
	rep.RSSKB["end"] = procStatus("VmHWM")

	if *dump != "" {
		if *dumpN > len(pcs) {
			*dumpN = len(pcs)
		}
		if err := writeDump(*dump, tab, pcs[:*dumpN], rows); err != nil {
			fail(err)
		}
	}
	rep.Sink = sink
	out, _ := json.MarshalIndent(rep, "", "  ")
	os.Stdout.Write(append(out, '\n'))
}

// bestOf runs f up to n times, fewer once the runs add up to budget ns,
// and returns the fastest run in nanoseconds and the number of runs.
func bestOf(n int, budget int64, f func()) (int64, int) {
	var min, total int64 = -1, 0
	runs := 0
	for runs < n && (runs == 0 || total < budget) {
		runtime.GC()
		t0 := time.Now()
		f()
		d := time.Since(t0).Nanoseconds()
		runs++
		total += d
		if min < 0 || d < min {
			min = d
		}
	}
	return min, runs
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gobench:", err)
	os.Exit(1)
}

func readPCs(path string) ([]uint64, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("%s: size %d is not a multiple of 8", path, len(b))
	}
	out := make([]uint64, len(b)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out, nil
}

// procStatus reads a kB field of /proc/self/status (0 where there is none).
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, ln := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(ln, field+":") {
			f := strings.Fields(ln[len(field)+1:])
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// locate opens the binary and returns its pclntab bytes: the .gopclntab /
// __gopclntab section, else the bytes between the runtime.pclntab and
// runtime.epclntab symbols (PE, and ELF/Mach-O without the section).
func locate(path string) ([]byte, string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", "", err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return nil, "", "", err
	}
	switch {
	case bytes.Equal(magic[:], []byte(elf.ELFMAG)):
		ef, err := elf.NewFile(f)
		if err != nil {
			return nil, "", "", err
		}
		for _, name := range []string{".gopclntab", ".data.rel.ro.gopclntab"} {
			if s := ef.Section(name); s != nil && s.Type != elf.SHT_NOBITS {
				d, err := s.Data()
				return d, "ELF", "section", err
			}
		}
		syms, err := ef.Symbols()
		if err != nil {
			return nil, "ELF", "", err
		}
		var start, end uint64
		for _, s := range syms {
			switch s.Name {
			case "runtime.pclntab":
				start = s.Value
			case "runtime.epclntab":
				end = s.Value
			}
		}
		for _, s := range ef.Sections {
			if start != 0 && s.Addr <= start && end <= s.Addr+s.Size && s.Type != elf.SHT_NOBITS {
				d, err := s.Data()
				if err != nil {
					return nil, "ELF", "", err
				}
				return d[start-s.Addr : end-s.Addr], "ELF", "symbol", nil
			}
		}
		return nil, "ELF", "", errors.New("no pclntab")
	case isMachO(magic):
		mf, err := macho.NewFile(f)
		if err != nil {
			return nil, "", "", err
		}
		if s := mf.Section("__gopclntab"); s != nil {
			d, err := s.Data()
			return d, "Mach-O", "section", err
		}
		return nil, "Mach-O", "", errors.New("no __gopclntab section")
	case magic[0] == 'M' && magic[1] == 'Z':
		pf, err := pe.NewFile(f)
		if err != nil {
			return nil, "", "", err
		}
		return pePclntab(pf)
	}
	return nil, "", "", fmt.Errorf("%s: not ELF, Mach-O or PE", path)
}

func isMachO(m [4]byte) bool {
	le := binary.LittleEndian.Uint32(m[:])
	be := binary.BigEndian.Uint32(m[:])
	for _, v := range []uint32{macho.Magic32, macho.Magic64} {
		if le == v || be == v {
			return true
		}
	}
	return false
}

// pePclntab slices the pclntab out of the section holding the
// runtime.pclntab symbol (PE symbol values are section-relative).
func pePclntab(f *pe.File) ([]byte, string, string, error) {
	var start, end *pe.Symbol
	for _, s := range f.Symbols {
		switch s.Name {
		case "runtime.pclntab":
			start = s
		case "runtime.epclntab":
			end = s
		}
	}
	if start == nil || end == nil || start.SectionNumber != end.SectionNumber ||
		start.SectionNumber < 1 || int(start.SectionNumber) > len(f.Sections) || end.Value < start.Value {
		return nil, "PE", "", errors.New("no runtime.pclntab/runtime.epclntab symbols")
	}
	sect := f.Sections[start.SectionNumber-1]
	d, err := sect.Data()
	if err != nil {
		return nil, "PE", "", err
	}
	if int(end.Value) > len(d) {
		return nil, "PE", "", errors.New("runtime.epclntab past its section")
	}
	return d[start.Value:end.Value], "PE", "symbol", nil
}

// writeDump writes PCToLine's answers, one 12-byte little-endian record
// (function-name id uint32, file id uint32, line int32) per pc, in the order
// of the pcs, to PREFIX.lookup (for -pcs) and PREFIX.rows (for -rows).  Ids
// number the lines of PREFIX.strings from 0; a miss is id 0xffffffff,
// line -1.  Strings holding a newline would break the numbering and are
// written with it replaced by a space.
func writeDump(prefix string, tab *gosym.Table, pcs, rows []uint64) error {
	ids := map[string]uint32{}
	var order []string
	id := func(s string) uint32 {
		if v, ok := ids[s]; ok {
			return v
		}
		v := uint32(len(order))
		ids[s] = v
		order = append(order, s)
		return v
	}
	write := func(path string, p []uint64) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		var rec [12]byte
		for _, pc := range p {
			file, line, fn := tab.PCToLine(pc)
			nid, fid := ^uint32(0), ^uint32(0)
			if fn != nil {
				nid, fid = id(fn.Name), id(file)
			} else {
				line = -1
			}
			binary.LittleEndian.PutUint32(rec[0:], nid)
			binary.LittleEndian.PutUint32(rec[4:], fid)
			binary.LittleEndian.PutUint32(rec[8:], uint32(int32(line)))
			w.Write(rec[:])
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write(prefix+".lookup", pcs); err != nil {
		return err
	}
	if err := write(prefix+".rows", rows); err != nil {
		return err
	}
	f, err := os.Create(prefix + ".strings")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, s := range order {
		w.WriteString(strings.ReplaceAll(s, "\n", " "))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
