package strategicpatch

import (
	"encoding/json"
	"testing"
)

// FuzzApply checks that Apply never panics, that whatever it returns
// without error is valid JSON with no directive left in it, and that a
// patch without directives always applies when every list is replaced.
func FuzzApply(f *testing.F) {
	seeds := [][2]string{
		{deployment, `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],"containers":[{"name":"web","image":"nginx:1.26"}]}}}}`},
		{deployment, `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}`},
		{deployment, `{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`},
		{deployment, `{"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"x"}]}}}}`},
		{`{"metadata":{"finalizers":["a","b"]}}`, `{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"finalizers":["c"]}}`},
		{`{"spec":{"ports":[{"port":80}]}}`, `{"spec":{"ports":[{"port":80,"name":"http"}],"$patch":"merge"}}`},
		{`{"a":[1,{"b":null}]}`, `{"a":{"c":[null]},"d":null}`},
		{`{}`, `[]`},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, original, patch []byte) {
		out, err := Apply(original, patch, KubernetesSchema{})
		if err == nil {
			checkOutput(t, original, out)
		}

		var o, p map[string]any
		if json.Unmarshal(original, &o) != nil || json.Unmarshal(patch, &p) != nil ||
			o == nil || p == nil || directiveKey(p) != "" {
			return // not two JSON objects, or the patch has a directive
		}
		out, err = Apply(original, patch, nil)
		if err != nil {
			t.Fatalf("got error %v for a patch without directives; want none", err)
		}
		checkOutput(t, original, out)
	})
}

func checkOutput(t *testing.T, original, out []byte) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("got invalid JSON %q: %v", out, err)
	}
	var orig any
	if json.Unmarshal(original, &orig) == nil && directiveKey(orig) == "" {
		if k := directiveKey(doc); k != "" {
			t.Fatalf("got directive %q left in %s; want none", k, out)
		}
	}
}
