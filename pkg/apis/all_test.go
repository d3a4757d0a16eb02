package apis

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func TestTableLookups(t *testing.T) {
	tests := []struct {
		group, resource, kind string
		obj                   meta.Object
	}{
		{"", "pods", "Pod", &core.Pod{}},
		{"", "namespaces", "Namespace", &core.Namespace{}},
		{"apps", "deployments", "Deployment", nil},
		{"batch", "cronjobs", "CronJob", nil},
		{"coordination.k8s.io", "leases", "Lease", nil},
	}
	for _, tt := range tests {
		k, ok := ByResource(tt.group, tt.resource)
		if !ok || k.Kind != tt.kind {
			t.Errorf("ByResource(%q, %q) = %v, %v; want kind %s", tt.group, tt.resource, k, ok, tt.kind)
			continue
		}
		if k2, ok := ByKind(tt.group, tt.kind); !ok || k2 != k {
			t.Errorf("ByKind(%q, %q) = %v, %v; want the %s entry", tt.group, tt.kind, k2, ok, tt.resource)
		}
		obj := tt.obj
		if obj == nil {
			obj = k.New()
		}
		if k3, ok := ForObject(obj); !ok || k3 != k {
			t.Errorf("ForObject(%T) = %v, %v; want the %s entry", obj, k3, ok, tt.resource)
		}
	}
	if _, ok := ByResource("", "deployments"); ok {
		t.Errorf("ByResource(\"\", deployments) found a kind; want none (deployments are in apps)")
	}
	var got []string
	for _, gv := range Groups() {
		got = append(got, gv.String())
	}
	if want := "v1 apps/v1 batch/v1 coordination.k8s.io/v1 rbac.authorization.k8s.io/v1"; strings.Join(got, " ") != want {
		t.Errorf("Groups() = %v; want %s", got, want)
	}
}

func TestEveryKindIsComplete(t *testing.T) {
	for _, k := range All() {
		if k.New == nil || k.Validate == nil || k.ValidateUpdate == nil || k.Resource == "" || k.ListKind != k.Kind+"List" {
			t.Errorf("%s: incomplete table entry %+v", k.Kind, k)
		}
	}
}

// TestSelectableFieldsExist checks that every field-selector path names
// JSON fields of the kind's type, since the API server reads them by
// reflection over json tags.
func TestSelectableFieldsExist(t *testing.T) {
	for _, k := range All() {
		typ := reflect.TypeOf(k.New()).Elem()
		for _, path := range k.SelectableFields {
			if !hasJSONPath(typ, strings.Split(path, ".")) {
				t.Errorf("%s: selectable field %q is not a JSON field of %s", k.Kind, path, typ)
			}
		}
	}
}

func hasJSONPath(typ reflect.Type, path []string) bool {
	if len(path) == 0 {
		return true
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return false
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && hasJSONPath(f.Type, path) {
			return true // inlined struct
		}
		if name == path[0] && hasJSONPath(f.Type, path[1:]) {
			return true
		}
	}
	return false
}

// TestRealManifestsDecodeStrictly decodes Kubernetes manifests with
// unknown fields disallowed, then checks that they default, validate
// without errors, and that defaulting is idempotent.
func TestRealManifestsDecodeStrictly(t *testing.T) {
	data, err := os.ReadFile("testdata/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var tm meta.TypeMeta
		if err := json.Unmarshal(js, &tm); err != nil {
			t.Fatal(err)
		}
		group, _, _ := strings.Cut(tm.APIVersion, "/")
		if !strings.Contains(tm.APIVersion, "/") {
			group = ""
		}
		k, ok := ByKind(group, tm.Kind)
		if !ok {
			t.Fatalf("no kind %s %s", tm.APIVersion, tm.Kind)
		}
		obj := k.New()
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			t.Errorf("%s: strict decode: %v", tm.Kind, err)
			continue
		}
		k.Default(obj)
		if errs := k.Validate(obj); len(errs) > 0 {
			t.Errorf("%s: Validate = %v; want no errors", tm.Kind, errs.ToAggregate())
		}
		once, _ := json.Marshal(obj)
		k.Default(obj)
		twice, _ := json.Marshal(obj)
		if !bytes.Equal(once, twice) {
			t.Errorf("%s: defaulting twice changed the object:\n%s\n%s", tm.Kind, once, twice)
		}
		if errs := k.ValidateUpdate(obj, obj); len(errs) > 0 {
			t.Errorf("%s: ValidateUpdate(obj, obj) = %v; want no errors", tm.Kind, errs.ToAggregate())
		}
		// The wire form must decode strictly again (round trip).
		again := k.New()
		dec = json.NewDecoder(bytes.NewReader(twice))
		dec.DisallowUnknownFields()
		if err := dec.Decode(again); err != nil {
			t.Errorf("%s: re-decoding our own output: %v", tm.Kind, err)
		}
	}
}
