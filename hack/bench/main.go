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
	"time"

	"minik8s/hack/benchreport"
)

// benchmarks maps a name to its run function, which returns the markdown
// section to write.
var benchmarks = map[string]func(dur time.Duration) string{
	"apiserver": benchAPIServer,
	"scheduler": benchScheduler,
	"proxy":     benchProxy,
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
			if err := benchreport.WriteSection(*out, name, report); err != nil {
				log.Fatal(err)
			}
		}
	}
}
