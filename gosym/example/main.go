// Command wordstat is gosym's bundled example program for `gosym matrix`: a
// small, realistic command-line tool (flags, file reading, text processing,
// sorting, JSON and text output) using only the standard library.
//
// Usage:
//
//	wordstat [-top N] [-json] [-sleep DURATION] [FILE ...]
//
// With no FILE it analyses a built-in text, so it runs with no input. With
// -sleep it stays alive that long after printing (so its memory map can be
// read from /proc/PID/maps).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"example.com/wordstat/internal/textstat"
)

const builtin = `Go binaries carry their own symbol data: the pclntab maps every
program counter to a function, a file and a line, so that stack traces and
profilers work even in a stripped binary. The linker can also write DWARF
debugging information and an ELF symbol table; flags such as -s and -w
remove those, but not the pclntab, which the runtime itself needs.`

func main() {
	top := flag.Int("top", 10, "print the `N` most frequent words")
	asJSON := flag.Bool("json", false, "print the report as JSON")
	sleep := flag.Duration("sleep", 0, "stay alive this long after printing")
	flag.Parse()

	var readers []namedReader
	if flag.NArg() == 0 {
		readers = append(readers, namedReader{"<builtin>", strings.NewReader(builtin)})
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wordstat:", err)
			os.Exit(1)
		}
		defer f.Close()
		readers = append(readers, namedReader{name, f})
	}

	var total textstat.Counts
	for _, r := range readers {
		c, err := countAll(r.r)
		if err != nil {
			fmt.Fprintf(os.Stderr, "wordstat: %s: %v\n", r.name, err)
			os.Exit(1)
		}
		total.Merge(c)
	}

	rep := newReport(&total, *top)
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(os.Stderr, "wordstat:", err)
			os.Exit(1)
		}
	} else {
		rep.WriteText(os.Stdout)
	}
	if *sleep > 0 {
		time.Sleep(*sleep)
	}
}

type namedReader struct {
	name string
	r    io.Reader
}

func countAll(r io.Reader) (textstat.Counts, error) {
	var c textstat.Counts
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		c.AddLine(sc.Text())
	}
	return c, sc.Err()
}
