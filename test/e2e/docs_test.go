package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPrinciplesNameRealDemonstrations: every test docs/principles.md
// names as a demonstration exists, so each one runs in CI.
func TestPrinciplesNameRealDemonstrations(t *testing.T) {
	doc, err := os.ReadFile("../../docs/principles.md")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllSubmatch(b, -1) {
			defined[string(m[1])] = true
		}
		return nil
	})
	named := regexp.MustCompile("`(Test\\w+)").FindAllSubmatch(doc, -1)
	if len(named) < 20 {
		t.Fatalf("docs/principles.md names %d tests; want a demonstration for every principle", len(named))
	}
	for _, m := range named {
		if !defined[string(m[1])] {
			t.Errorf("docs/principles.md names %s, which no test defines", m[1])
		}
	}
}
