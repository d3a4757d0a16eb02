package labels

import (
	"strings"
	"testing"

	"minik8s/pkg/apis/meta"
)

func TestParseAndMatch(t *testing.T) {
	tests := []struct {
		selector string
		labels   map[string]string
		want     bool
		str      string // canonical String()
	}{
		{"", map[string]string{"a": "b"}, true, ""},
		{"a=b", map[string]string{"a": "b"}, true, "a=b"},
		{"a==b", map[string]string{"a": "b"}, true, "a=b"},
		{"a=b", map[string]string{"a": "c"}, false, "a=b"},
		{"a!=b", map[string]string{"a": "c"}, true, "a!=b"},
		{"a!=b", map[string]string{}, true, "a!=b"},
		{"a!=b", map[string]string{"a": "b"}, false, "a!=b"},
		{"a in (x, y)", map[string]string{"a": "y"}, true, "a in (x,y)"},
		{"a in (y,x)", map[string]string{"a": "z"}, false, "a in (x,y)"},
		{"a notin (x)", map[string]string{"a": "y"}, true, "a notin (x)"},
		{"a notin (x)", map[string]string{}, true, "a notin (x)"},
		{"a", map[string]string{"a": ""}, true, "a"},
		{"a", map[string]string{"b": ""}, false, "a"},
		{"!a", map[string]string{"b": ""}, true, "!a"},
		{" !a ", map[string]string{"a": "x"}, false, "!a"},
		{"a=", map[string]string{"a": ""}, true, "a="},
		{"b=2,a=1", map[string]string{"a": "1", "b": "2"}, true, "a=1,b=2"},
		{"b=2, a=1", map[string]string{"a": "1"}, false, "a=1,b=2"},
		{"app.kubernetes.io/name=web,tier in (fe,be),!canary", map[string]string{"app.kubernetes.io/name": "web", "tier": "fe"}, true,
			"app.kubernetes.io/name=web,!canary,tier in (be,fe)"},
	}
	for _, tt := range tests {
		s, err := Parse(tt.selector)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.selector, err)
			continue
		}
		if got := s.Matches(tt.labels); got != tt.want {
			t.Errorf("Parse(%q).Matches(%v) = %v; want %v", tt.selector, tt.labels, got, tt.want)
		}
		if got := s.String(); got != tt.str {
			t.Errorf("Parse(%q).String() = %q; want %q", tt.selector, got, tt.str)
		}
	}
}

func TestParseErrorsNameTheBadPart(t *testing.T) {
	tests := []struct{ selector, want string }{
		{"a=b,", "found end of string after ','"},
		{"a in x", "found 'x', expected: '('"},
		{"a in (x", "found end of string in value set"},
		{"a b", "found 'b' after key \"a\""},
		{"=b", "found '=', expected: identifier"},
		{"a in ()x", "found 'x'"},
		{"-a=b", `invalid label key "-a"`},
		{"a=b c", "found 'c'"},
		{"a=-b", `invalid label value "-b"`},
		{"a!b", "found '!' after key \"a\""},
	}
	for _, tt := range tests {
		_, err := Parse(tt.selector)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v; want one containing %q", tt.selector, err, tt.want)
		}
	}
}

func TestSelectorFromLabelSelector(t *testing.T) {
	web := map[string]string{"app": "web", "tier": "fe"}
	tests := []struct {
		name string
		ls   *meta.LabelSelector
		want bool
	}{
		{"nil matches nothing", nil, false},
		{"empty matches everything", &meta.LabelSelector{}, true},
		{"matchLabels", &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, true},
		{"matchLabels mismatch", &meta.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, false},
		{"In", &meta.LabelSelector{MatchExpressions: []meta.LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"fe", "be"}}}}, true},
		{"NotIn", &meta.LabelSelector{MatchExpressions: []meta.LabelSelectorRequirement{{Key: "tier", Operator: "NotIn", Values: []string{"fe"}}}}, false},
		{"Exists", &meta.LabelSelector{MatchExpressions: []meta.LabelSelectorRequirement{{Key: "app", Operator: "Exists"}}}, true},
		{"DoesNotExist", &meta.LabelSelector{MatchExpressions: []meta.LabelSelectorRequirement{{Key: "app", Operator: "DoesNotExist"}}}, false},
	}
	for _, tt := range tests {
		s, err := SelectorFromLabelSelector(tt.ls)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := s.Matches(web); got != tt.want {
			t.Errorf("%s: Matches(%v) = %v; want %v", tt.name, web, got, tt.want)
		}
	}
	bad := &meta.LabelSelector{MatchExpressions: []meta.LabelSelectorRequirement{{Key: "a", Operator: "Like"}}}
	if _, err := SelectorFromLabelSelector(bad); err == nil {
		t.Errorf("operator Like: got no error; want one")
	}
	bad = &meta.LabelSelector{MatchExpressions: []meta.LabelSelectorRequirement{{Key: "a", Operator: "In"}}}
	if _, err := SelectorFromLabelSelector(bad); err == nil {
		t.Errorf("In without values: got no error; want one")
	}
}

func TestSelectorFromSet(t *testing.T) {
	s := SelectorFromSet(map[string]string{"b": "2", "a": "1"})
	if got, want := s.String(), "a=1,b=2"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	if !s.Matches(map[string]string{"a": "1", "b": "2", "c": "3"}) {
		t.Errorf("Matches(a=1,b=2,c=3) = false; want true")
	}
	if !SelectorFromSet(nil).Empty() {
		t.Errorf("SelectorFromSet(nil).Empty() = false; want true")
	}
}

var fuzzSamples = []map[string]string{
	{},
	{"a": "b"},
	{"a": "", "b": "c"},
	{"app": "web", "tier": "fe", "x.io/y": "z"},
	{"in": "notin"},
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a=b", "a!=b,c", "a in (x,y),!b", "x notin ()", "a==", "k.io/n in (,a)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			return
		}
		out := s.String()
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q, which does not parse: %v", in, out, err)
		}
		for _, l := range fuzzSamples {
			if s.Matches(l) != back.Matches(l) {
				t.Fatalf("Parse(%q) and Parse(%q) disagree on %v", in, out, l)
			}
		}
	})
}
