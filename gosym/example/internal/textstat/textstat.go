// Package textstat counts words in text.
package textstat

import (
	"sort"
	"strings"
	"unicode"
)

// Counts accumulates line, word and per-word counts.
type Counts struct {
	Lines int
	Words int
	chars int
	freq  map[string]int
}

// Entry is one word and how often it occurs.
type Entry struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

// AddLine counts the words of one line.
func (c *Counts) AddLine(line string) {
	c.Lines++
	for _, w := range strings.FieldsFunc(line, isSeparator) {
		c.add(normalize(w))
	}
}

func (c *Counts) add(w string) {
	if w == "" {
		return
	}
	if c.freq == nil {
		c.freq = make(map[string]int)
	}
	c.freq[w]++
	c.Words++
	c.chars += len(w)
}

// Merge adds the counts of o to c.
func (c *Counts) Merge(o Counts) {
	c.Lines += o.Lines
	for w, n := range o.freq {
		for i := 0; i < n; i++ {
			c.add(w)
		}
	}
}

// Unique returns the number of distinct words.
func (c *Counts) Unique() int { return len(c.freq) }

// MeanLength returns the mean word length in bytes.
func (c *Counts) MeanLength() float64 {
	if c.Words == 0 {
		return 0
	}
	return float64(c.chars) / float64(c.Words)
}

// Top returns the n most frequent words, most frequent first, ties by word.
func (c *Counts) Top(n int) []Entry {
	out := make([]Entry, 0, len(c.freq))
	for w, k := range c.freq {
		out = append(out, Entry{w, k})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Word < out[j].Word
	})
	if n >= 0 && n < len(out) {
		out = out[:n]
	}
	return out
}

func isSeparator(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '\''
}

func normalize(w string) string {
	return strings.ToLower(strings.Trim(w, "-'"))
}
