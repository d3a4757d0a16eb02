// Command bench measures minik8s on this machine and writes the figures to
// docs/benchmarks.md, each benchmark into its own section (between
// "<!-- name:begin -->" and "<!-- name:end -->" markers), leaving the
// others alone.
//
//	go run ./hack/bench -out docs/benchmarks.md apiserver
//
// Benchmarks: apiserver (API server vs raw etcd).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"
)

// benchmarks maps a name to its run function, which returns the markdown
// section to write.
var benchmarks = map[string]func(dur time.Duration) string{
	"apiserver": benchAPIServer,
	"scheduler": benchScheduler,
}

func main() {
	out := flag.String("out", "", "write the results into this markdown file (default: print only)")
	dur := flag.Duration("duration", 5*time.Second, "how long each timed phase runs")
	flag.Parse()
	log.SetFlags(0)
	names := flag.Args()
	if len(names) == 0 {
		names = []string{"apiserver"}
	}
	for _, name := range names {
		run, ok := benchmarks[name]
		if !ok {
			log.Fatalf("unknown benchmark %q", name)
		}
		report := run(*dur)
		fmt.Print(report)
		if *out != "" {
			if err := writeSection(*out, name, report); err != nil {
				log.Fatal(err)
			}
		}
	}
}

// writeSection replaces the text between <!-- name:begin --> and
// <!-- name:end --> in path (appending the section if absent).
func writeSection(path, name, text string) error {
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
