package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The reliability figures table lives between these markers in
// docs/reliability.md; tests update their own row when
// MINIK8S_RELIABILITY_OUT names that file.
const (
	figuresBegin = "<!-- figures:begin -->"
	figuresEnd   = "<!-- figures:end -->"
)

var figuresMu sync.Mutex

// reliabilityRow logs a fault case's figures and, with
// MINIK8S_RELIABILITY_OUT set, replaces (or appends) the row of case name
// in that file's figures table.
func reliabilityRow(t *testing.T, name, injected, converged string, took time.Duration) {
	t.Helper()
	row := fmt.Sprintf("| %s | %s | %s | %s |", name, injected, converged, took.Round(100*time.Millisecond))
	t.Logf("SUMMARY %s", row)
	path := os.Getenv("MINIK8S_RELIABILITY_OUT")
	if path == "" {
		return
	}
	figuresMu.Lock()
	defer figuresMu.Unlock()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("reliability figures: %v", err)
		return
	}
	doc := string(b)
	i, j := strings.Index(doc, figuresBegin), strings.Index(doc, figuresEnd)
	if i < 0 || j < i {
		t.Errorf("reliability figures: %s has no %s ... %s table", path, figuresBegin, figuresEnd)
		return
	}
	var rows []string
	replaced := false
	for _, line := range strings.Split(strings.TrimSpace(doc[i+len(figuresBegin):j]), "\n") {
		if strings.HasPrefix(line, "| "+name+" |") {
			line, replaced = row, true
		}
		if line != "" {
			rows = append(rows, line)
		}
	}
	if !replaced {
		rows = append(rows, row)
	}
	doc = doc[:i+len(figuresBegin)] + "\n" + strings.Join(rows, "\n") + "\n" + doc[j:]
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Errorf("reliability figures: %v", err)
	}
}
