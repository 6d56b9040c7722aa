package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"example.com/wordstat/internal/textstat"
)

// report is what wordstat prints.
type report struct {
	Lines   int              `json:"lines"`
	Words   int              `json:"words"`
	Unique  int              `json:"unique"`
	MeanLen float64          `json:"mean_word_length"`
	Top     []textstat.Entry `json:"top"`
}

func newReport(c *textstat.Counts, n int) report {
	return report{
		Lines:   c.Lines,
		Words:   c.Words,
		Unique:  c.Unique(),
		MeanLen: c.MeanLength(),
		Top:     c.Top(n),
	}
}

// WriteText prints the report as an aligned table.
func (r report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%d lines, %d words, %d distinct, mean length %.2f\n",
		r.Lines, r.Words, r.Unique, r.MeanLen)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	for i, e := range r.Top {
		fmt.Fprintf(tw, "%d.\t%s\t%d\t\n", i+1, e.Word, e.Count)
	}
	tw.Flush()
}
