// Command oracle is the independent reference reader used by gosym's
// differential tests. It only uses the Go standard library: the pclntab is
// decoded by debug/gosym; this program's own work is limited to finding the
// pclntab in the file and finding the text base that debug/gosym needs for
// Go 1.18+ tables.
//
// Usage:
//
//	oracle [-funcs] [-pcs FILE|-] [-scan] BINARY
//
// -funcs adds "functions", -pcs adds "lookups" for the hex pcs listed one per
// line in FILE (or stdin), -scan ignores section names and symbols so that
// the scanning code can be checked against the other ways of finding things.
//
// It prints one JSON object on stdout. Exit status: 0 on success, 1 on any
// error (one line on stderr), 2 when BINARY is not a Go binary (no pclntab
// was found, or the file is not ELF, Mach-O or PE).
//
// Locating the pclntab (pclntab.found_by):
//
//	"section": ELF .gopclntab or .data.rel.ro.gopclntab, Mach-O __gopclntab;
//	"symbol":  runtime.pclntab .. runtime.epclntab from the symbol table
//	           (ELF .symtab, Mach-O LC_SYMTAB, PE COFF symbols);
//	"scan":    search of the file-backed, loaded sections for a header
//	           (magic in either byte order, two zero bytes, quantum 1/2/4,
//	           pointer size 4/8) that also passes structural checks
//	           (nfunc > 0, offsets inside the data and in order, function
//	           table entries sorted).
//
// Text base (pclntab.text_base / text_base_from), needed since Go 1.18 where
// function entries are 32-bit offsets from runtime.text:
//
//  1. "runtime.text": the runtime.text symbol, if the symbol table has it;
//  2. "moduledata": the text field of runtime.firstmoduledata, found by its
//     symbol, else by the section holding it (ELF .go.module, Mach-O
//     __go_module, Go 1.26+), else by scanning the loaded, non-executable
//     data for a pointer-sized word equal to the pclntab's address (the first
//     field of moduledata) that is followed by the pointers moduledata must
//     hold (validated against the pclntab header's offsets);
//  3. "header": the textStart field of the pclntab header (Go 1.18-1.25;
//     written as 0 since Go 1.26, in which case this step is skipped).
//
// For pre-1.18 tables the entries are absolute and text_base is null
// ("n/a").
//
// Relocations: in ELF files, RELA relocations of the machine's RELATIVE type
// (R_X86_64_RELATIVE, R_AARCH64_RELATIVE, ...) and, in 64-bit files, absolute
// relocations (R_X86_64_64, ...) against symbols defined in the file are
// collected from every SHT_RELA section (linkers may leave the word in the
// file 0, e.g. moduledata.maxpc of a c-archive linked into a .so). Every
// pointer word this program reads from the file (moduledata fields) and every
// pointer-sized word of the pclntab it hands to debug/gosym is replaced by
// the relocation's value computed with a load bias of 0. For REL relocations
// (386, arm, mips) and RELR the value is already in place in the file.
//
// moduledata layouts (runtime/symtab.go), in pointer-sized words:
//
//	Go 1.16+ (pclntab magics 0xfffffffa, 0xfffffff0, 0xfffffff1):
//	  0 pcHeader, 1-3 funcnametab, 4-6 cutab, 7-9 filetab, 10-12 pctab,
//	  13-15 pclntable, 16-18 ftab, 19 findfunctab, 20 minpc, 21 maxpc,
//	  22 text, 23 etext
//	Go 1.5-1.15 (magic 0xfffffffb):
//	  0-2 pclntable, 3-5 ftab, 6-8 filetab, 9 findfunctab, 10 minpc,
//	  11 maxpc, 12 text, 13 etext
package main

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
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
	"sort"
	"strconv"
	"strings"
)

// notGoError marks "this is not a Go binary" failures (exit status 2).
type notGoError struct{ msg string }

func (e notGoError) Error() string { return e.msg }

// region is a file-backed, loaded piece of the image: a section, or an ELF
// PT_LOAD segment when the file has no section headers.
type region struct {
	name  string
	addr  uint64
	off   uint64 // offset in the whole file
	data  []byte // file contents of the region
	exec  bool
	debug bool // not loaded (debug info, symbol tables...)
}

type image struct {
	format    string
	arch      string
	order     binary.ByteOrder
	ptrSize   int
	regions   []*region
	syms      map[string]uint64
	relocs    map[uint64]uint64 // address -> value (RELA RELATIVE addend)
	relocKeys []uint64          // sorted keys of relocs
	textSect  *region
}

// Symbols this program cares about.
var wantSyms = map[string]bool{
	"runtime.text":            true,
	"runtime.etext":           true,
	"runtime.pclntab":         true,
	"runtime.epclntab":        true,
	"runtime.firstmoduledata": true,
}

func (im *image) addSym(name string, value uint64) {
	name = strings.TrimPrefix(name, "_") // Mach-O / PE 386 C-style prefix
	if !wantSyms[name] {
		return
	}
	if _, dup := im.syms[name]; !dup {
		im.syms[name] = value
	}
}

func (im *image) regionAt(addr uint64) *region {
	for _, r := range im.regions {
		if !r.debug && addr >= r.addr && addr-r.addr < uint64(len(r.data)) {
			return r
		}
	}
	return nil
}

// readPtr reads a pointer-sized word at a virtual address, preferring the
// value of a RELATIVE relocation at that address.
func (im *image) readPtr(addr uint64) (uint64, bool) {
	if v, ok := im.relocs[addr]; ok {
		return v, true
	}
	r := im.regionAt(addr)
	if r == nil {
		return 0, false
	}
	o := addr - r.addr
	if o+uint64(im.ptrSize) > uint64(len(r.data)) {
		return 0, false
	}
	if im.ptrSize == 4 {
		return uint64(im.order.Uint32(r.data[o:])), true
	}
	return im.order.Uint64(r.data[o:]), true
}

// bytesAt returns a copy of size bytes at addr with relocations applied.
func (im *image) bytesAt(addr, size uint64) ([]byte, error) {
	r := im.regionAt(addr)
	if r == nil {
		return nil, fmt.Errorf("address %#x is not in the file", addr)
	}
	o := addr - r.addr
	if size > uint64(len(r.data))-o {
		size = uint64(len(r.data)) - o
	}
	b := make([]byte, size)
	copy(b, r.data[o:o+size])
	i := sort.Search(len(im.relocKeys), func(i int) bool { return im.relocKeys[i] >= addr })
	for ; i < len(im.relocKeys) && im.relocKeys[i]+uint64(im.ptrSize) <= addr+size; i++ {
		k := im.relocKeys[i]
		if im.ptrSize == 4 {
			im.order.PutUint32(b[k-addr:], uint32(im.relocs[k]))
		} else {
			im.order.PutUint64(b[k-addr:], im.relocs[k])
		}
	}
	return b, nil
}

func (im *image) sectionNamed(names ...string) *region {
	for _, n := range names {
		for _, r := range im.regions {
			if r.name == n {
				return r
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------- loading

func load(content []byte) (*image, error) {
	switch {
	case len(content) >= 4 && string(content[:4]) == "\x7fELF":
		return loadELF(content)
	case len(content) >= 2 && string(content[:2]) == "MZ":
		return loadPE(content)
	case len(content) >= 4:
		m := binary.BigEndian.Uint32(content)
		switch m {
		case macho.Magic32, macho.Magic64, 0xcefaedfe, 0xcffaedfe:
			return loadMachO(content, 0)
		case macho.MagicFat:
			ff, err := macho.NewFatFile(bytes.NewReader(content))
			if err != nil {
				return nil, fmt.Errorf("Mach-O fat file: %v", err)
			}
			if len(ff.Arches) == 0 {
				return nil, errors.New("Mach-O fat file with no architectures")
			}
			a := ff.Arches[0]
			return loadMachO(content[a.Offset:a.Offset+a.Size], uint64(a.Offset))
		}
	}
	return nil, notGoError{"not an ELF, Mach-O or PE file"}
}

var elfArch = map[elf.Machine]string{
	elf.EM_X86_64:    "amd64",
	elf.EM_386:       "386",
	elf.EM_ARM:       "arm",
	elf.EM_AARCH64:   "arm64",
	elf.EM_S390:      "s390x",
	elf.EM_RISCV:     "riscv64",
	elf.EM_LOONGARCH: "loong64",
}

// RELATIVE relocation type per machine, for RELA sections.
var elfRelative = map[elf.Machine]uint32{
	elf.EM_X86_64:    uint32(elf.R_X86_64_RELATIVE),
	elf.EM_AARCH64:   uint32(elf.R_AARCH64_RELATIVE),
	elf.EM_PPC64:     uint32(elf.R_PPC64_RELATIVE),
	elf.EM_S390:      uint32(elf.R_390_RELATIVE),
	elf.EM_RISCV:     uint32(elf.R_RISCV_RELATIVE),
	elf.EM_LOONGARCH: uint32(elf.R_LARCH_RELATIVE),
	elf.EM_386:       uint32(elf.R_386_RELATIVE),
	elf.EM_ARM:       uint32(elf.R_ARM_RELATIVE),
}

func loadELF(content []byte) (*image, error) {
	f, err := elf.NewFile(bytes.NewReader(content))
	if err != nil {
		return nil, fmt.Errorf("ELF: %v", err)
	}
	im := &image{format: "ELF", order: f.ByteOrder, syms: map[string]uint64{}, relocs: map[uint64]uint64{}}
	if f.Class == elf.ELFCLASS64 {
		im.ptrSize = 8
	} else {
		im.ptrSize = 4
	}
	switch f.Machine {
	case elf.EM_PPC64:
		if f.ByteOrder == binary.LittleEndian {
			im.arch = "ppc64le"
		} else {
			im.arch = "ppc64"
		}
	case elf.EM_MIPS:
		a := "mips"
		if f.Class == elf.ELFCLASS64 {
			a = "mips64"
		}
		if f.ByteOrder == binary.LittleEndian {
			a += "le"
		}
		im.arch = a
	default:
		im.arch = elfArch[f.Machine]
		if im.arch == "" {
			im.arch = strings.ToLower(strings.TrimPrefix(f.Machine.String(), "EM_"))
		}
	}
	fileData := func(off, size uint64) []byte {
		if off > uint64(len(content)) {
			return nil
		}
		if size > uint64(len(content))-off {
			size = uint64(len(content)) - off
		}
		return content[off : off+size]
	}
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOBITS || s.Type == elf.SHT_NULL || s.Size == 0 {
			continue
		}
		r := &region{name: s.Name, addr: s.Addr, off: s.Offset, data: fileData(s.Offset, s.Size)}
		r.exec = s.Flags&elf.SHF_EXECINSTR != 0
		r.debug = s.Flags&elf.SHF_ALLOC == 0
		if s.Flags&elf.SHF_COMPRESSED != 0 {
			r.debug = true
		}
		im.regions = append(im.regions, r)
		if s.Name == ".text" && im.textSect == nil {
			im.textSect = r
		}
		if s.Type == elf.SHT_RELA {
			im.addELFRela(f, s, r.data)
		}
	}
	if len(f.Sections) == 0 {
		for i, p := range f.Progs {
			if p.Type != elf.PT_LOAD || p.Filesz == 0 {
				continue
			}
			im.regions = append(im.regions, &region{
				name: fmt.Sprintf("PT_LOAD[%d]", i), addr: p.Vaddr, off: p.Off,
				data: fileData(p.Off, p.Filesz), exec: p.Flags&elf.PF_X != 0,
			})
		}
	}
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			if s.Section != elf.SHN_UNDEF {
				im.addSym(s.Name, s.Value)
			}
		}
	}
	im.relocKeys = make([]uint64, 0, len(im.relocs))
	for k := range im.relocs {
		im.relocKeys = append(im.relocKeys, k)
	}
	sort.Slice(im.relocKeys, func(i, j int) bool { return im.relocKeys[i] < im.relocKeys[j] })
	return im, nil
}

// 64-bit absolute relocation type per machine (R_X86_64_64, ...): the value
// is symbol + addend, used when the symbol is defined in the file.
var elfAbs64 = map[elf.Machine]uint32{
	elf.EM_X86_64:    uint32(elf.R_X86_64_64),
	elf.EM_AARCH64:   uint32(elf.R_AARCH64_ABS64),
	elf.EM_PPC64:     uint32(elf.R_PPC64_ADDR64),
	elf.EM_S390:      uint32(elf.R_390_64),
	elf.EM_RISCV:     uint32(elf.R_RISCV_64),
	elf.EM_LOONGARCH: uint32(elf.R_LARCH_64),
}

// addELFRela records the values that the RELA section s (contents data) gives
// to pointer words: RELATIVE relocations (value = addend) and, in 64-bit
// files, absolute relocations against symbols defined in the file (value =
// symbol + addend; the linker uses these e.g. for moduledata.maxpc in a
// c-archive linked into a shared object).
func (im *image) addELFRela(f *elf.File, s *elf.Section, data []byte) {
	rel, ok := elfRelative[f.Machine]
	if !ok {
		return
	}
	if f.Class == elf.ELFCLASS64 {
		abs, hasAbs := elfAbs64[f.Machine]
		var syms []elf.Symbol
		symsLoaded := false
		for i := 0; i+24 <= len(data); i += 24 {
			off := f.ByteOrder.Uint64(data[i:])
			info := f.ByteOrder.Uint64(data[i+8:])
			add := f.ByteOrder.Uint64(data[i+16:])
			switch typ, symIdx := uint32(info), info>>32; {
			case typ == rel:
				im.relocs[off] = add
			case hasAbs && typ == abs && symIdx != 0:
				if !symsLoaded {
					symsLoaded = true
					if int(s.Link) < len(f.Sections) {
						switch f.Sections[s.Link].Type {
						case elf.SHT_DYNSYM:
							syms, _ = f.DynamicSymbols()
						case elf.SHT_SYMTAB:
							syms, _ = f.Symbols()
						}
					}
				}
				// debug/elf drops the null symbol 0 from its lists.
				if symIdx-1 < uint64(len(syms)) {
					if sym := syms[symIdx-1]; sym.Section != elf.SHN_UNDEF {
						im.relocs[off] = sym.Value + add
					}
				}
			}
		}
	} else {
		for i := 0; i+12 <= len(data); i += 12 {
			off := f.ByteOrder.Uint32(data[i:])
			info := f.ByteOrder.Uint32(data[i+4:])
			add := f.ByteOrder.Uint32(data[i+8:])
			if info&0xff == rel {
				im.relocs[uint64(off)] = uint64(add)
			}
		}
	}
}

func loadMachO(content []byte, base uint64) (*image, error) {
	f, err := macho.NewFile(bytes.NewReader(content))
	if err != nil {
		return nil, fmt.Errorf("Mach-O: %v", err)
	}
	im := &image{format: "Mach-O", order: f.ByteOrder, syms: map[string]uint64{}}
	switch f.Cpu {
	case macho.CpuAmd64:
		im.arch = "amd64"
	case macho.Cpu386:
		im.arch = "386"
	case macho.CpuArm64:
		im.arch = "arm64"
	case macho.CpuArm:
		im.arch = "arm"
	case macho.CpuPpc64:
		im.arch = "ppc64"
	default:
		im.arch = strings.ToLower(f.Cpu.String())
	}
	if f.Magic == macho.Magic64 {
		im.ptrSize = 8
	} else {
		im.ptrSize = 4
	}
	for _, s := range f.Sections {
		typ := s.Flags & 0xff
		if s.Offset == 0 || typ == 0x1 || typ == 0xc || typ == 0x12 || s.Size == 0 {
			continue // zerofill
		}
		end := uint64(s.Offset) + s.Size
		if end > uint64(len(content)) {
			end = uint64(len(content))
		}
		r := &region{name: s.Name, addr: s.Addr, off: base + uint64(s.Offset), data: content[s.Offset:end]}
		r.exec = s.Flags&0x80000400 != 0
		r.debug = s.Seg == "__DWARF" || s.Flags&0x02000000 != 0
		im.regions = append(im.regions, r)
		if s.Seg == "__TEXT" && s.Name == "__text" {
			im.textSect = r
		}
	}
	if f.Symtab != nil {
		for _, s := range f.Symtab.Syms {
			if s.Type&0x0e == 0x0e && s.Sect != 0 { // N_SECT
				im.addSym(s.Name, s.Value)
			}
		}
	}
	return im, nil
}

func loadPE(content []byte) (*image, error) {
	f, err := pe.NewFile(bytes.NewReader(content))
	if err != nil {
		return nil, fmt.Errorf("PE: %v", err)
	}
	im := &image{format: "PE", order: binary.LittleEndian, syms: map[string]uint64{}}
	var imageBase uint64
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		imageBase = uint64(oh.ImageBase)
		im.ptrSize = 4
	case *pe.OptionalHeader64:
		imageBase = oh.ImageBase
		im.ptrSize = 8
	default:
		return nil, errors.New("PE: no optional header")
	}
	switch f.Machine {
	case pe.IMAGE_FILE_MACHINE_AMD64:
		im.arch = "amd64"
	case pe.IMAGE_FILE_MACHINE_I386:
		im.arch = "386"
	case pe.IMAGE_FILE_MACHINE_ARM64:
		im.arch = "arm64"
	case pe.IMAGE_FILE_MACHINE_ARMNT, pe.IMAGE_FILE_MACHINE_ARM:
		im.arch = "arm"
	default:
		im.arch = fmt.Sprintf("pe-machine-%#x", f.Machine)
	}
	for _, s := range f.Sections {
		size := uint64(s.Size)
		if s.VirtualSize != 0 && uint64(s.VirtualSize) < size {
			size = uint64(s.VirtualSize)
		}
		if size == 0 || s.Offset == 0 {
			continue
		}
		end := uint64(s.Offset) + size
		if end > uint64(len(content)) {
			end = uint64(len(content))
		}
		r := &region{name: s.Name, addr: imageBase + uint64(s.VirtualAddress), off: uint64(s.Offset), data: content[s.Offset:end]}
		r.exec = s.Characteristics&(pe.IMAGE_SCN_CNT_CODE|pe.IMAGE_SCN_MEM_EXECUTE) != 0
		r.debug = s.Characteristics&pe.IMAGE_SCN_MEM_DISCARDABLE != 0
		im.regions = append(im.regions, r)
		if s.Name == ".text" && im.textSect == nil {
			im.textSect = r
		}
	}
	for _, s := range f.Symbols {
		if s.SectionNumber <= 0 || int(s.SectionNumber) > len(f.Sections) {
			continue
		}
		sec := f.Sections[s.SectionNumber-1]
		im.addSym(s.Name, imageBase+uint64(sec.VirtualAddress)+uint64(s.Value))
	}
	return im, nil
}

// ---------------------------------------------------------------- pclntab

const (
	magic12  = 0xfffffffb
	magic116 = 0xfffffffa
	magic118 = 0xfffffff0
	magic120 = 0xfffffff1
)

var versionOf = map[uint32]string{magic12: "1.2", magic116: "1.16", magic118: "1.18", magic120: "1.20"}

type header struct {
	order     binary.ByteOrder
	magic     uint32
	version   string
	quantum   int
	ptrSize   int
	nfunc     uint64
	nfiles    uint64
	textStart *uint64
	offsets   []uint64 // funcname, cu, filetab, pctab, pcln (1.16+)
}

func (h *header) word(data []byte, i int) uint64 {
	o := 8 + i*h.ptrSize
	if h.ptrSize == 4 {
		return uint64(h.order.Uint32(data[o:]))
	}
	return h.order.Uint64(data[o:])
}

// parseHeader checks the fixed header fields. strict adds the structural
// checks used when the table is found by scanning.
func parseHeader(data []byte, strict bool) (*header, bool) {
	if len(data) < 16 || data[4] != 0 || data[5] != 0 {
		return nil, false
	}
	q, p := data[6], data[7]
	if (q != 1 && q != 2 && q != 4) || (p != 4 && p != 8) {
		return nil, false
	}
	h := &header{quantum: int(q), ptrSize: int(p)}
	le, be := binary.LittleEndian.Uint32(data), binary.BigEndian.Uint32(data)
	if _, ok := versionOf[le]; ok {
		h.order, h.magic = binary.LittleEndian, le
	} else if _, ok := versionOf[be]; ok {
		h.order, h.magic = binary.BigEndian, be
	} else {
		return nil, false
	}
	h.version = versionOf[h.magic]
	hdrWords := map[string]int{"1.2": 1, "1.16": 7, "1.18": 8, "1.20": 8}[h.version]
	hdrSize := 8 + hdrWords*h.ptrSize
	if len(data) < hdrSize {
		return nil, false
	}
	h.nfunc = h.word(data, 0)
	switch h.version {
	case "1.18", "1.20":
		h.nfiles = h.word(data, 1)
		ts := h.word(data, 2)
		h.textStart = &ts
		for i := 3; i < 8; i++ {
			h.offsets = append(h.offsets, h.word(data, i))
		}
	case "1.16":
		h.nfiles = h.word(data, 1)
		for i := 2; i < 7; i++ {
			h.offsets = append(h.offsets, h.word(data, i))
		}
	case "1.2":
		ftabEnd := uint64(hdrSize) + (2*h.nfunc+1)*uint64(h.ptrSize)
		if h.nfunc < 1<<28 && ftabEnd+4 <= uint64(len(data)) {
			fileoff := uint64(h.order.Uint32(data[ftabEnd:]))
			if fileoff+4 <= uint64(len(data)) {
				h.nfiles = uint64(h.order.Uint32(data[fileoff:]))
			}
		}
	}
	if !strict {
		return h, true
	}
	// Structural checks.
	n := uint64(len(data))
	if h.nfunc == 0 || h.nfunc > 1<<24 {
		return nil, false
	}
	var ftab uint64
	fieldSize := uint64(h.ptrSize)
	switch h.version {
	case "1.2":
		ftab = uint64(hdrSize)
	default:
		prev := uint64(hdrSize)
		for _, o := range h.offsets {
			if o < prev || o >= n {
				return nil, false
			}
			prev = o
		}
		ftab = h.offsets[4]
		if h.version != "1.16" {
			fieldSize = 4
		}
	}
	if ftab+(2*h.nfunc+1)*fieldSize > n {
		return nil, false
	}
	get := func(o uint64) uint64 {
		if fieldSize == 4 {
			return uint64(h.order.Uint32(data[o:]))
		}
		return h.order.Uint64(data[o:])
	}
	var last uint64
	for i := uint64(0); i <= h.nfunc; i++ {
		e := get(ftab + 2*i*fieldSize)
		if i > 0 && e < last {
			return nil, false
		}
		last = e
		if i < h.nfunc {
			fo := get(ftab + (2*i+1)*fieldSize)
			base := ftab
			if h.version == "1.2" {
				base = 0
			}
			if base+fo >= n {
				return nil, false
			}
		}
	}
	return h, true
}

type pclnLoc struct {
	addr, size uint64
	sizeFrom   string
	foundBy    string
	region     *region
}

// scanOnly (flag -scan) ignores section names and symbols: the pclntab and
// moduledata are found by scanning and the text base comes from moduledata or
// the header. Tests use it to check the scanning code against the other ways.
var scanOnly bool

func findPclntab(im *image) (*pclnLoc, *header, error) {
	// 1. By section name.
	if r := im.sectionNamed(".gopclntab", ".data.rel.ro.gopclntab", "__gopclntab"); r != nil && !scanOnly {
		if h, ok := parseHeader(r.data, false); ok {
			return &pclnLoc{addr: r.addr, size: uint64(len(r.data)), sizeFrom: "section", foundBy: "section", region: r}, h, nil
		}
	}
	// 2. By symbols.
	if a, ok := im.syms["runtime.pclntab"]; ok && !scanOnly {
		if e, ok := im.syms["runtime.epclntab"]; ok && e > a {
			if r := im.regionAt(a); r != nil {
				if h, ok := parseHeader(r.data[a-r.addr:], false); ok {
					return &pclnLoc{addr: a, size: e - a, sizeFrom: "symbol", foundBy: "symbol", region: r}, h, nil
				}
			}
		}
	}
	// 3. By scanning the loaded data: non-executable regions first.
	for _, wantExec := range []bool{false, true} {
		for _, r := range im.regions {
			if r.debug || r.exec != wantExec {
				continue
			}
			if off, h, ok := scanRegion(r.data); ok {
				return &pclnLoc{addr: r.addr + off, size: uint64(len(r.data)) - off, sizeFrom: "region-end", foundBy: "scan", region: r}, h, nil
			}
		}
	}
	return nil, nil, notGoError{"no Go pclntab found (not a Go binary?)"}
}

func scanRegion(data []byte) (uint64, *header, bool) {
	for _, m := range []uint32{magic120, magic118, magic116, magic12} {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			var pat [6]byte
			order.PutUint32(pat[:], m)
			for start := 0; ; {
				i := bytes.Index(data[start:], pat[:])
				if i < 0 {
					break
				}
				at := start + i
				if h, ok := parseHeader(data[at:], true); ok {
					return uint64(at), h, true
				}
				start = at + 1
			}
		}
	}
	return 0, nil, false
}

// ---------------------------------------------------------------- moduledata

type moduledata struct {
	FoundBy string `json:"found_by"`
	Section string `json:"section"`
	Addr    uint64 `json:"addr"`
	Layout  string `json:"layout"`
	Minpc   uint64 `json:"minpc"`
	Maxpc   uint64 `json:"maxpc"`
	Text    uint64 `json:"text"`
	Etext   uint64 `json:"etext"`
	// End of the pclntab according to moduledata (pclntable slice end).
	PclnEnd uint64 `json:"pclntab_end"`
}

// checkModuledata validates a moduledata candidate at addr against the
// pclntab header at hdrAddr and returns its fields.
func checkModuledata(im *image, addr, hdrAddr uint64, h *header) (*moduledata, bool) {
	ps := uint64(im.ptrSize)
	w := func(i int) uint64 {
		v, ok := im.readPtr(addr + uint64(i)*ps)
		if !ok {
			return ^uint64(0)
		}
		return v
	}
	md := &moduledata{Addr: addr}
	if h.version == "1.2" {
		md.Layout = "1.5"
		if w(0) != hdrAddr || w(1) != w(2) || w(1) == 0 {
			return nil, false
		}
		if w(3) != hdrAddr+8+uint64(h.ptrSize) || w(4) != h.nfunc+1 {
			return nil, false
		}
		md.PclnEnd = hdrAddr + w(1)
		md.Minpc, md.Maxpc, md.Text, md.Etext = w(10), w(11), w(12), w(13)
		return md, true
	}
	md.Layout = "1.16"
	if w(0) != hdrAddr {
		return nil, false
	}
	// funcnametab, cutab, filetab, pctab, pclntable slices start at the
	// header's offsets.
	for i, o := range h.offsets {
		if w(1+3*i) != hdrAddr+o {
			return nil, false
		}
	}
	if w(16) != hdrAddr+h.offsets[4] { // ftab aliases pclntable
		return nil, false
	}
	md.PclnEnd = w(13) + w(14)
	md.Minpc, md.Maxpc, md.Text, md.Etext = w(20), w(21), w(22), w(23)
	return md, true
}

func findModuledata(im *image, hdrAddr uint64, h *header) *moduledata {
	if a, ok := im.syms["runtime.firstmoduledata"]; ok && !scanOnly {
		if md, ok := checkModuledata(im, a, hdrAddr, h); ok {
			md.FoundBy = "symbol"
			if r := im.regionAt(a); r != nil {
				md.Section = r.name
			}
			return md
		}
	}
	if r := im.sectionNamed(".go.module", "__go_module"); r != nil && !scanOnly {
		if md, ok := checkModuledata(im, r.addr, hdrAddr, h); ok {
			md.FoundBy = "section"
			md.Section = r.name
			return md
		}
	}
	ps := uint64(im.ptrSize)
	// Scan: relocation targets first (PIE files whose words are zero).
	for _, k := range im.relocKeys {
		if im.relocs[k] == hdrAddr {
			if md, ok := checkModuledata(im, k, hdrAddr, h); ok {
				md.FoundBy = "scan"
				if r := im.regionAt(k); r != nil {
					md.Section = r.name
				}
				return md
			}
		}
	}
	var pat [8]byte
	if ps == 4 {
		im.order.PutUint32(pat[:], uint32(hdrAddr))
	} else {
		im.order.PutUint64(pat[:], hdrAddr)
	}
	for _, r := range im.regions {
		if r.debug || r.exec {
			continue
		}
		for start := 0; ; {
			i := bytes.Index(r.data[start:], pat[:ps])
			if i < 0 {
				break
			}
			at := uint64(start + i)
			start += i + 1
			if (r.addr+at)%ps != 0 {
				continue
			}
			if md, ok := checkModuledata(im, r.addr+at, hdrAddr, h); ok {
				md.FoundBy = "scan"
				md.Section = r.name
				return md
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------- output

type sectionOut struct {
	Name   string `json:"name"`
	Addr   uint64 `json:"addr"`
	Offset uint64 `json:"offset"`
	Size   uint64 `json:"size"`
}

type pclnOut struct {
	FoundBy         string  `json:"found_by"`
	Section         *string `json:"section"`
	Addr            uint64  `json:"addr"`
	Offset          uint64  `json:"offset"`
	Size            uint64  `json:"size"`
	SizeFrom        string  `json:"size_from"`
	Magic           string  `json:"magic"`
	Version         string  `json:"version"`
	ByteOrder       string  `json:"byte_order"`
	Quantum         int     `json:"quantum"`
	PtrSize         int     `json:"ptr_size"`
	Nfunc           uint64  `json:"nfunc"`
	Nfiles          uint64  `json:"nfiles"`
	HeaderTextStart *uint64 `json:"header_text_start"`
	TextBase        *uint64 `json:"text_base"`
	TextBaseFrom    string  `json:"text_base_from"`
}

type funcOut struct {
	Name     string `json:"name"`
	Entry    uint64 `json:"entry"`
	End      uint64 `json:"end"`
	Package  string `json:"package"`
	Receiver string `json:"receiver"`
	Base     string `json:"base"`
}

type lookupOut struct {
	PC    uint64  `json:"pc"`
	Func  *string `json:"func"`
	File  *string `json:"file"`
	Line  *int    `json:"line"`
	Entry *uint64 `json:"entry"`
}

type output struct {
	Format      string            `json:"format"`
	Arch        string            `json:"arch"`
	ByteOrder   string            `json:"byte_order"`
	PtrSize     int               `json:"ptr_size"`
	GoVersion   string            `json:"go_version"`
	TextSection *sectionOut       `json:"text_section"`
	Symbols     map[string]uint64 `json:"symbols"`
	Pclntab     pclnOut           `json:"pclntab"`
	Moduledata  *moduledata       `json:"moduledata"`
	Functions   *[]funcOut        `json:"functions,omitempty"`
	Lookups     *[]lookupOut      `json:"lookups,omitempty"`
}

func orderName(o binary.ByteOrder) string {
	if o == binary.BigEndian {
		return "big"
	}
	return "little"
}

func readPCs(path string) ([]uint64, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var pcs []uint64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
		v, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("pcs line %d: bad hex number %q", ln, sc.Text())
		}
		pcs = append(pcs, v)
	}
	return pcs, sc.Err()
}

func run(args []string) (*output, error) {
	fs := flag.NewFlagSet("oracle", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pcsPath := fs.String("pcs", "", "file of hex pcs, one per line ('-' = stdin)")
	funcs := fs.Bool("funcs", false, "list functions")
	fs.BoolVar(&scanOnly, "scan", false, "ignore section names and symbols (find everything by scanning)")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("usage: oracle [-funcs] [-pcs FILE|-] [-scan] BINARY: %v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return nil, errors.New("usage: oracle [-funcs] [-pcs FILE|-] [-scan] BINARY")
	}
	path := pos[0]
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	im, err := load(content)
	if err != nil {
		return nil, err
	}
	out := &output{Format: im.format, Arch: im.arch, ByteOrder: orderName(im.order), PtrSize: im.ptrSize, Symbols: im.syms}
	if bi, err := buildinfo.Read(bytes.NewReader(content)); err == nil {
		out.GoVersion = bi.GoVersion
	}
	if t := im.textSect; t != nil {
		out.TextSection = &sectionOut{Name: t.name, Addr: t.addr, Offset: t.off, Size: uint64(len(t.data))}
	}

	loc, h, err := findPclntab(im)
	if err != nil {
		return nil, err
	}
	md := findModuledata(im, loc.addr, h)
	out.Moduledata = md
	if loc.foundBy == "scan" && md != nil && md.PclnEnd > loc.addr && md.PclnEnd-loc.addr <= loc.size {
		loc.size, loc.sizeFrom = md.PclnEnd-loc.addr, "moduledata"
	}
	p := &out.Pclntab
	p.FoundBy = loc.foundBy
	p.Section = &loc.region.name
	p.Addr = loc.addr
	p.Offset = loc.region.off + (loc.addr - loc.region.addr)
	p.Size, p.SizeFrom = loc.size, loc.sizeFrom
	p.Magic = fmt.Sprintf("%#08x", h.magic)
	p.Version, p.ByteOrder = h.version, orderName(h.order)
	p.Quantum, p.PtrSize = h.quantum, h.ptrSize
	p.Nfunc, p.Nfiles = h.nfunc, h.nfiles
	p.HeaderTextStart = h.textStart

	var base uint64
	switch {
	case h.version == "1.2" || h.version == "1.16":
		p.TextBaseFrom = "n/a"
	default:
		if v, ok := im.syms["runtime.text"]; ok && !scanOnly {
			base, p.TextBaseFrom = v, "runtime.text"
		} else if md != nil && md.Text != 0 {
			base, p.TextBaseFrom = md.Text, "moduledata"
		} else if ts, ok := im.readPtr(loc.addr + 8 + 2*uint64(h.ptrSize)); ok && ts != 0 && h.ptrSize == im.ptrSize {
			// The header's textStart, relocated if the file leaves it 0.
			base, p.TextBaseFrom = ts, "header"
		} else {
			return nil, errors.New("cannot determine the text base: no runtime.text symbol, no moduledata, header textStart is 0")
		}
		b := base
		p.TextBase = &b
	}

	data, err := im.bytesAt(loc.addr, loc.size)
	if err != nil {
		return nil, err
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, base))
	if err != nil {
		return nil, fmt.Errorf("debug/gosym: %v", err)
	}
	if len(tab.Funcs) == 0 {
		return nil, errors.New("debug/gosym decoded no functions from the pclntab")
	}
	if *funcs {
		fo := make([]funcOut, len(tab.Funcs))
		for i := range tab.Funcs {
			f := &tab.Funcs[i]
			fo[i] = funcOut{Name: f.Name, Entry: f.Entry, End: f.End,
				Package: f.PackageName(), Receiver: f.ReceiverName(), Base: f.BaseName()}
		}
		out.Functions = &fo
	}
	if *pcsPath != "" {
		pcs, err := readPCs(*pcsPath)
		if err != nil {
			return nil, err
		}
		lo := make([]lookupOut, len(pcs))
		for i, pc := range pcs {
			lo[i].PC = pc
			file, line, fn := tab.PCToLine(pc)
			if fn == nil {
				continue
			}
			name, entry := fn.Name, fn.Entry
			lo[i].Func, lo[i].File, lo[i].Line, lo[i].Entry = &name, &file, &line, &entry
		}
		out.Lookups = &lo
	}
	return out, nil
}

func main() {
	code := 0
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "oracle: internal error: %v\n", r)
			os.Exit(1)
		}
		os.Exit(code)
	}()
	out, err := run(os.Args[1:])
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		fmt.Fprintf(os.Stderr, "oracle: %s\n", msg)
		var ng notGoError
		if errors.As(err, &ng) {
			code = 2
		} else {
			code = 1
		}
		return
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "oracle: writing output: %v\n", err)
		code = 1
		return
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "oracle: writing output: %v\n", err)
		code = 1
	}
}
