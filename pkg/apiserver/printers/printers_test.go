package printers

import (
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/meta"
)

// now is the fixed "current time" of every test.
var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// ago is the timestamp d before now.
func ago(d time.Duration) meta.Time { return meta.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *meta.Time { t := ago(d); return &t }

func ptr[T any](v T) *T { return &v }

// row prints obj with the printer of group/resource and returns its cells
// keyed by column name.
func row(t *testing.T, group, resource string, obj meta.Object) map[string]any {
	t.Helper()
	p := For(group, resource)
	cells := p.Row(obj, now)
	if len(cells) != len(p.Columns) {
		t.Fatalf("%s: got %d cells for %d columns", resource, len(cells), len(p.Columns))
	}
	m := make(map[string]any, len(cells))
	for i, c := range p.Columns {
		m[c.Name] = cells[i]
	}
	return m
}

// checkCells compares the named cells of got with want, type included
// (int64 3 is not the string "3": the Table carries JSON types).
func checkCells(t *testing.T, name string, got, want map[string]any) {
	t.Helper()
	for col, w := range want {
		g, ok := got[col]
		if !ok {
			t.Errorf("%s: no column %q", name, col)
			continue
		}
		if g != w {
			t.Errorf("%s: %s: got %#v (%T); want %#v (%T)", name, col, g, g, w, w)
		}
	}
}

func TestEveryKindHasAPrinterWhoseRowFitsItsColumns(t *testing.T) {
	for _, k := range apis.All() {
		p := For(k.Group, k.Resource)
		if p == defaultPrinter {
			t.Errorf("%s: no specific printer", k.Resource)
		}
		cells := p.Row(k.New(), now)
		if len(cells) != len(p.Columns) {
			t.Errorf("%s: got %d cells for an empty object; want %d (one per column)", k.Resource, len(cells), len(p.Columns))
		}
		for i, c := range cells {
			switch c.(type) {
			case string, int64, bool:
			default:
				t.Errorf("%s: cell %d (%s) is a %T; want string, int64 or bool", k.Resource, i, p.Columns[i].Name, c)
			}
		}
	}
}

func TestColumnsFollowTheTableConventions(t *testing.T) {
	printers := map[string]*Printer{"default": defaultPrinter}
	for gr, p := range byResource {
		printers[gr.resource] = p
	}
	for name, p := range printers {
		names := 0
		seen := map[string]bool{}
		for _, c := range p.Columns {
			if c.Format == "name" {
				names++
			}
			if seen[c.Name] {
				t.Errorf("%s: column %q twice", name, c.Name)
			}
			seen[c.Name] = true
			if c.Priority != 0 && c.Priority != 1 {
				t.Errorf("%s: column %q has priority %d; want 0 or 1", name, c.Name, c.Priority)
			}
			if c.Description == "" {
				t.Errorf("%s: column %q has no description", name, c.Name)
			}
		}
		if names != 1 {
			t.Errorf("%s: got %d columns of format name; want 1", name, names)
		}
		// Events show Last Seen; roles, as in Kubernetes, Created At.
		if !seen["Age"] && !seen["Created At"] && name != "events" {
			t.Errorf("%s: no Age column", name)
		}
	}
}

func TestUnknownResourcesGetNameAndAge(t *testing.T) {
	p := For("example.com", "widgets")
	if p != defaultPrinter {
		t.Fatalf("got a specific printer for widgets; want the default")
	}
	got := p.Row(&fakeObject{ObjectMeta: meta.ObjectMeta{Name: "w", CreationTimestamp: ago(5 * time.Hour)}}, now)
	if want := []any{"w", "5h"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %v; want %v", got, want)
	}
	if got := p.Row(&fakeObject{}, now); got[1] != "<unknown>" {
		t.Errorf("age without creationTimestamp: got %v; want <unknown>", got[1])
	}
}

// fakeObject is a kind minik8s does not serve.
type fakeObject struct {
	meta.TypeMeta
	meta.ObjectMeta
}

func TestAgeIsTimeSinceCreation(t *testing.T) {
	for _, tc := range []struct {
		created meta.Time
		want    string
	}{
		{ago(0), "0s"},
		{ago(200 * time.Second), "3m20s"},
		{ago(26 * time.Hour), "26h"},
		{meta.Time{}, "<unknown>"},
	} {
		got := age(&meta.ObjectMeta{CreationTimestamp: tc.created}, now)
		if got != tc.want {
			t.Errorf("created %v: got %q; want %q", tc.created, got, tc.want)
		}
	}
}
