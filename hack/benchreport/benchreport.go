// Package benchreport writes a benchmark's figures into its own section of
// docs/benchmarks.md, leaving the other sections alone, so each benchmark
// (hack/bench, the node agent's e2e benchmark) can be re-run on its own.
package benchreport

import (
	"os"
	"strings"
)

// WriteSection replaces the text between <!-- name:begin --> and
// <!-- name:end --> in path, appending the section if absent.
func WriteSection(path, name, text string) error {
	begin, end := "<!-- "+name+":begin -->", "<!-- "+name+":end -->"
	old, _ := os.ReadFile(path)
	s := string(old)
	block := begin + "\n" + text + end
	if i, j := strings.Index(s, begin), strings.Index(s, end); i >= 0 && j > i {
		s = s[:i] + block + s[j+len(end):]
	} else {
		if s == "" {
			s = "# Benchmarks\n\nFigures measured on this project's 2-core machines. Each section says how to reproduce it.\n"
		}
		s += "\n" + block + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
