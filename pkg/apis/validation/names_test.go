package validation

import (
	"strings"
	"testing"

	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/meta"
)

func TestNameChecks(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		check func(string) []string
		name  string
		value string
		want  string // a substring of the first message, "" when valid
	}{
		{IsDNS1123Label, "label", "my-name", ""},
		{IsDNS1123Label, "label", "My-Name", "a lowercase RFC 1123 label must consist of"},
		{IsDNS1123Label, "label", "a.b", "must not contain dots"},
		{IsDNS1123Label, "label", long, "must be no more than 63 characters"},
		{IsDNS1123Subdomain, "subdomain", "example.com", ""},
		{IsDNS1123Subdomain, "subdomain", "-bad", "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
		{IsDNS1123Subdomain, "subdomain", strings.Repeat("a.", 127), "must be no more than 253 characters"},
		{IsQualifiedName, "qualified", "app.kubernetes.io/name", ""},
		{IsQualifiedName, "qualified", "MyName", ""},
		{IsQualifiedName, "qualified", "/name", "prefix part must be non-empty"},
		{IsQualifiedName, "qualified", "Example.com/name", "prefix part a lowercase RFC 1123 subdomain"},
		{IsQualifiedName, "qualified", "a/b/c", "a qualified name must consist of"},
		{IsQualifiedName, "qualified", "-x", "name part must consist of alphanumeric characters"},
		{IsQualifiedName, "qualified", long, "name part must be no more than 63 characters"},
		{IsValidLabelValue, "value", "", ""},
		{IsValidLabelValue, "value", "v1.2_3", ""},
		{IsValidLabelValue, "value", "bad value", "a valid label must be an empty string or consist of"},
		{IsEnvVarName, "env", "MY_VAR", ""},
		{IsEnvVarName, "env", "1VAR", "a valid environment variable name"},
		{IsConfigMapKey, "key", "app.conf", ""},
		{IsConfigMapKey, "key", "a/b", "a valid config key"},
		{IsValidPortName, "port", "http", ""},
		{IsValidPortName, "port", "8080", "must contain at least one letter"},
	}
	for _, tt := range tests {
		msgs := tt.check(tt.value)
		switch {
		case tt.want == "" && len(msgs) > 0:
			t.Errorf("%s(%q) = %q; want valid", tt.name, tt.value, msgs)
		case tt.want != "" && (len(msgs) == 0 || !strings.Contains(msgs[0], tt.want)):
			t.Errorf("%s(%q) = %q; want a message containing %q", tt.name, tt.value, msgs, tt.want)
		}
	}
}

func TestValidateObjectMeta(t *testing.T) {
	yes := true
	tests := []struct {
		name       string
		m          meta.ObjectMeta
		namespaced bool
		want       []string // error strings
	}{
		{"valid", meta.ObjectMeta{Name: "a", Namespace: "default"}, true, nil},
		{"generateName only", meta.ObjectMeta{GenerateName: "web-", Namespace: "default"}, true, nil},
		{"no name", meta.ObjectMeta{Namespace: "default"}, true, []string{"metadata.name: Required value: name or generateName is required"}},
		{"no namespace", meta.ObjectMeta{Name: "a"}, true, []string{"metadata.namespace: Required value"}},
		{"namespace on cluster-scoped", meta.ObjectMeta{Name: "a", Namespace: "x"}, false, []string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{"bad label", meta.ObjectMeta{Name: "a", Labels: map[string]string{"a": "b c"}}, false, []string{`metadata.labels: Invalid value: "b c": a valid label`}},
		{"bad finalizer", meta.ObjectMeta{Name: "a", Finalizers: []string{"mine"}}, false, []string{`metadata.finalizers[0]: Invalid value: "mine": name is neither a standard finalizer name nor is it fully qualified`}},
		{"two controllers", meta.ObjectMeta{Name: "a", OwnerReferences: []meta.OwnerReference{
			{APIVersion: "v1", Kind: "A", Name: "a", UID: "1", Controller: &yes},
			{APIVersion: "v1", Kind: "B", Name: "b", Controller: &yes}}}, false,
			[]string{"metadata.ownerReferences[1].uid: Invalid value", "metadata.ownerReferences: Invalid value"}},
		{"huge annotations", meta.ObjectMeta{Name: "a", Annotations: map[string]string{"a": strings.Repeat("x", 256*1024)}}, false,
			[]string{"metadata.annotations: Too long: must have at most 262144 bytes"}},
	}
	for _, tt := range tests {
		errs := ValidateObjectMeta(&tt.m, tt.namespaced, NameIsDNSSubdomain, field.NewPath("metadata"))
		if len(errs) != len(tt.want) {
			t.Errorf("%s: got %v; want %d errors %q", tt.name, errs.ToAggregate(), len(tt.want), tt.want)
			continue
		}
		for i, e := range errs {
			if !strings.HasPrefix(e.Error(), tt.want[i]) {
				t.Errorf("%s: error %d = %q; want prefix %q", tt.name, i, e.Error(), tt.want[i])
			}
		}
	}
}

func TestValidateLabelSelector(t *testing.T) {
	s := &meta.LabelSelector{
		MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []meta.LabelSelectorRequirement{
			{Key: "tier", Operator: "In"},
			{Key: "x", Operator: "Exists", Values: []string{"y"}},
			{Key: "z", Operator: "Like"},
		},
	}
	errs := ValidateLabelSelector(s, field.NewPath("spec", "selector"))
	want := []string{"spec.selector.matchExpressions[0].values", "spec.selector.matchExpressions[1].values", "spec.selector.matchExpressions[2].operator"}
	if len(errs) != len(want) {
		t.Fatalf("got %v; want errors at %v", errs.ToAggregate(), want)
	}
	for i, e := range errs {
		if e.Field != want[i] {
			t.Errorf("error %d at %s; want %s", i, e.Field, want[i])
		}
	}
}
