package strategicpatch

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// deployment is a two-container Deployment as the API server stores it.
const deployment = `{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "resourceVersion": "12345678901234567"},
  "spec": {
    "replicas": 2,
    "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]},
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
    "template": {
      "metadata": {"labels": {"app": "web"}},
      "spec": {
        "containers": [
          {"name": "web", "image": "nginx:1.25", "args": ["-g", "daemon off;"],
           "ports": [{"containerPort": 80, "protocol": "TCP"}],
           "env": [{"name": "MODE", "value": "prod"}]},
          {"name": "sidecar", "image": "busybox", "command": ["sleep", "infinity"]}
        ],
        "tolerations": [{"key": "a", "operator": "Exists"}]
      }
    }
  }
}`

// TestApplyMergesByKubernetesRules checks each rule on the patches kubectl
// sends, against the Kubernetes schema.
func TestApplyMergesByKubernetesRules(t *testing.T) {
	tests := []struct {
		name      string
		original  string
		patch     string
		want      string // the whole result when original is not the deployment
		wantPaths map[string]string
	}{
		{
			name:     "apply changes one image and keeps the other container",
			original: deployment,
			patch: `{"spec":{"template":{"spec":{
				"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],
				"containers":[{"name":"web","image":"nginx:1.26"}]}}}}`,
			wantPaths: map[string]string{
				"spec.template.spec.containers": `[
					{"name": "web", "image": "nginx:1.26", "args": ["-g", "daemon off;"],
					 "ports": [{"containerPort": 80, "protocol": "TCP"}],
					 "env": [{"name": "MODE", "value": "prod"}]},
					{"name": "sidecar", "image": "busybox", "command": ["sleep", "infinity"]}]`,
				"metadata.resourceVersion": `"12345678901234567"`,
				"spec.replicas":            `2`,
			},
		},
		{
			name:     "setElementOrder reorders the merged list",
			original: deployment,
			patch: `{"spec":{"template":{"spec":{
				"$setElementOrder/containers":[{"name":"sidecar"},{"name":"web"}]}}}}`,
			wantPaths: map[string]string{
				"spec.template.spec.containers.0.name": `"sidecar"`,
				"spec.template.spec.containers.1.name": `"web"`,
			},
		},
		{
			name:     "an env var is added to a container by name and another changed",
			original: deployment,
			patch: `{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[
				{"name":"MODE","value":"debug"},{"name":"LEVEL","value":"3"}]}]}}}}`,
			wantPaths: map[string]string{
				"spec.template.spec.containers.0.env":   `[{"name":"MODE","value":"debug"},{"name":"LEVEL","value":"3"}]`,
				"spec.template.spec.containers.0.image": `"nginx:1.25"`,
				"spec.template.spec.containers.1.name":  `"sidecar"`,
			},
		},
		{
			name:     "$patch delete removes a container",
			original: deployment,
			patch:    `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}`,
			wantPaths: map[string]string{
				"spec.template.spec.containers.#":      `1`,
				"spec.template.spec.containers.0.name": `"web"`,
			},
		},
		{
			name:     "null removes a label",
			original: deployment,
			patch:    `{"metadata":{"labels":{"tier":null}}}`,
			wantPaths: map[string]string{
				"metadata.labels": `{"app":"web"}`,
			},
		},
		{
			name:     "$retainKeys drops rollingUpdate when the strategy becomes Recreate",
			original: deployment,
			patch:    `{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`,
			wantPaths: map[string]string{
				"spec.strategy": `{"type":"Recreate"}`,
			},
		},
		{
			name:     "rollout restart adds an annotation to the template",
			original: deployment,
			patch:    `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2024-05-01T10:00:00Z"}}}}}`,
			wantPaths: map[string]string{
				"spec.template.metadata": `{"labels":{"app":"web"},
					"annotations":{"kubectl.kubernetes.io/restartedAt":"2024-05-01T10:00:00Z"}}`,
				"spec.template.spec.containers.#": `2`,
			},
		},
		{
			name:     "lists without a merge key are replaced",
			original: deployment,
			patch: `{"spec":{"template":{"spec":{
				"tolerations":[{"key":"b","operator":"Exists"}],
				"containers":[{"name":"web","args":["-v"]}]}}}}`,
			wantPaths: map[string]string{
				"spec.template.spec.tolerations":       `[{"key":"b","operator":"Exists"}]`,
				"spec.template.spec.containers.0.args": `["-v"]`,
			},
		},
		{
			name:     "container ports merge by containerPort",
			original: deployment,
			patch:    `{"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"name":"http"},{"containerPort":443}]}]}}}}`,
			wantPaths: map[string]string{
				"spec.template.spec.containers.0.ports": `[{"containerPort":80,"protocol":"TCP","name":"http"},{"containerPort":443}]`,
			},
		},
		{
			name:     "$patch replace on a map replaces the whole map",
			original: deployment,
			patch:    `{"spec":{"selector":{"$patch":"replace","matchLabels":{"app":"web2"}}}}`,
			wantPaths: map[string]string{
				"spec.selector": `{"matchLabels":{"app":"web2"}}`,
			},
		},
		{
			name:     "$patch replace as a list element replaces the whole list",
			original: deployment,
			patch:    `{"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"alpine"}]}}}}`,
			wantPaths: map[string]string{
				"spec.template.spec.containers": `[{"name":"only","image":"alpine"}]`,
			},
		},
		{
			name:     "$patch replace on one element replaces only that element",
			original: deployment,
			patch:    `{"spec":{"template":{"spec":{"containers":[{"$patch":"replace","name":"web","image":"alpine"}]}}}}`,
			wantPaths: map[string]string{
				"spec.template.spec.containers.0":      `{"name":"web","image":"alpine"}`,
				"spec.template.spec.containers.1.name": `"sidecar"`,
			},
		},
		{
			name:     "directives inside a new element are stripped",
			original: deployment,
			patch: `{"spec":{"template":{"spec":{"containers":[{"name":"new","image":"alpine",
				"$setElementOrder/env":[{"name":"A"}],"env":[{"name":"A","value":"1","x":null}]}]}}}}`,
			wantPaths: map[string]string{
				"spec.template.spec.containers.2": `{"name":"new","image":"alpine","env":[{"name":"A","value":"1"}]}`,
			},
		},
		{
			name:     "finalizers are a set",
			original: `{"metadata":{"finalizers":["a","b"]}}`,
			patch:    `{"metadata":{"finalizers":["b","c"]}}`,
			want:     `{"metadata":{"finalizers":["a","b","c"]}}`,
		},
		{
			name:     "$deleteFromPrimitiveList removes finalizers",
			original: `{"metadata":{"finalizers":["a","b","c"]}}`,
			patch:    `{"metadata":{"$deleteFromPrimitiveList/finalizers":["b","z"]}}`,
			want:     `{"metadata":{"finalizers":["a","c"]}}`,
		},
		{
			name:     "$setElementOrder orders a primitive list",
			original: `{"metadata":{"finalizers":["a","b","c"]}}`,
			patch:    `{"metadata":{"$setElementOrder/finalizers":["c","a"]}}`,
			want:     `{"metadata":{"finalizers":["c","a","b"]}}`,
		},
		{
			name: "Service ports merge by port",
			original: `{"kind":"Service","spec":{"ports":[
				{"name":"http","port":80,"targetPort":8080},{"name":"https","port":443,"targetPort":8443}]}}`,
			patch: `{"spec":{"ports":[{"port":80,"targetPort":9090}]}}`,
			want: `{"kind":"Service","spec":{"ports":[
				{"name":"http","port":80,"targetPort":9090},{"name":"https","port":443,"targetPort":8443}]}}`,
		},
		{
			name:     "conditions merge by type",
			original: `{"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Progressing","status":"True"}]}}`,
			patch:    `{"status":{"conditions":[{"type":"Ready","status":"True"}]}}`,
			want:     `{"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Progressing","status":"True"}]}}`,
		},
		{
			name:     "ownerReferences merge by uid",
			original: `{"metadata":{"ownerReferences":[{"uid":"1","name":"a"}]}}`,
			patch:    `{"metadata":{"ownerReferences":[{"uid":"2","name":"b"},{"uid":"1","controller":true}]}}`,
			want:     `{"metadata":{"ownerReferences":[{"uid":"1","name":"a","controller":true},{"uid":"2","name":"b"}]}}`,
		},
		{
			name:     "$patch delete on a map empties it, as in Kubernetes",
			original: `{"spec":{"strategy":{"type":"Recreate"},"replicas":1}}`,
			patch:    `{"spec":{"strategy":{"$patch":"delete"}}}`,
			want:     `{"spec":{"strategy":{},"replicas":1}}`,
		},
		{
			name:     "a value of another kind replaces the original",
			original: `{"a":{"b":1},"c":[1],"d":"x"}`,
			patch:    `{"a":[{"$patch":"merge"},2],"c":{"e":null,"f":1},"d":{"g":2}}`,
			want:     `{"a":[2],"c":{"f":1},"d":{"g":2}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply([]byte(tt.original), []byte(tt.patch), KubernetesSchema{})
			if err != nil {
				t.Fatalf("Apply: got error %v; want none", err)
			}
			gotDoc := decode(t, got)
			if tt.want != "" && !reflect.DeepEqual(gotDoc, decode(t, []byte(tt.want))) {
				t.Errorf("got %s; want %s", got, tt.want)
			}
			for path, want := range tt.wantPaths {
				if v := lookup(gotDoc, path); !reflect.DeepEqual(v, decode(t, []byte(want))) {
					t.Errorf("at %s got %s; want %s", path, encode(v), want)
				}
			}
			if k := directiveKey(gotDoc); k != "" {
				t.Errorf("got directive %q left in %s; want none", k, got)
			}
		})
	}
}

func TestApplyWithoutSchemaIsAMergePatch(t *testing.T) {
	got, err := Apply([]byte(deployment), []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"x"}]}}}}`), nil)
	if err != nil {
		t.Fatalf("got error %v; want none", err)
	}
	want := `[{"name":"web","image":"x"}]`
	if v := lookup(decode(t, got), "spec.template.spec.containers"); !reflect.DeepEqual(v, decode(t, []byte(want))) {
		t.Errorf("got containers %s; want %s", encode(v), want)
	}
}

// TestApplyRejectsMalformedInput checks that every error names what is
// wrong, in lowercase and without final punctuation.
func TestApplyRejectsMalformedInput(t *testing.T) {
	tests := []struct {
		name, original, patch, want string
	}{
		{"patch is a list", `{}`, `[{"a":1}]`, "the patch must be a JSON object, not a list"},
		{"patch is a string", `{}`, `"x"`, `the patch must be a JSON object, not "x"`},
		{"patch is not JSON", `{}`, `{"a":`, "the patch is not valid JSON"},
		{"patch has trailing data", `{}`, `{} {}`, "the patch has data after its JSON value"},
		{"original is null", `null`, `{}`, "the original must be a JSON object, not null"},
		{"unknown $patch", `{}`, `{"spec":{"$patch":"remove"}}`,
			`"$patch" at "spec" must be "merge", "replace" or "delete", not "remove"`},
		{"$patch not a string", `{}`, `{"$patch":1}`,
			`"$patch" at the top level must be "merge", "replace" or "delete", not the number 1`},
		{"unknown $patch in a list", `{}`, `{"spec":{"template":{"spec":{"containers":[{"$patch":true}]}}}}`,
			`"$patch" at "spec.template.spec.containers" must be "merge", "replace" or "delete", not true`},
		{"$setElementOrder not a list", `{}`, `{"spec":{"$setElementOrder/containers":{"name":"a"}}}`,
			`$setElementOrder/containers at "spec" must be a list, not an object`},
		{"$setElementOrder entry without key", `{"containers":[{"name":"a"}]}`, `{"$setElementOrder/containers":["a"]}`,
			`$setElementOrder/containers at the top level: entry 0 must be an object with the merge key "name", not "a"`},
		{"$deleteFromPrimitiveList not a list", `{}`, `{"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}}`,
			`$deleteFromPrimitiveList/finalizers at "metadata" must be a list, not "a"`},
		{"$retainKeys not strings", `{}`, `{"spec":{"strategy":{"$retainKeys":["type",3]}}}`,
			`$retainKeys at "spec.strategy" must be a list of strings, but entry 1 is the number 3`},
		{"delete without merge key value", `{}`, `{"containers":[{"$patch":"delete","image":"x"}]}`,
			`element 0 of the list at "containers" has "$patch": "delete" but no merge key "name"`},
		{"delete in a list without merge key", `{}`, `{"tolerations":[{"$patch":"delete","key":"x"}]}`,
			`"$patch": "delete" in the list at "tolerations" needs a merge key`},
		{"element without merge key", `{}`, `{"containers":[{"image":"x"}]}`,
			`element 0 of the list at "containers" must be an object with the merge key "name", not an object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply([]byte(tt.original), []byte(tt.patch), KubernetesSchema{})
			if err == nil {
				t.Fatalf("got %s and no error; want error %q", got, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("got error %q; want it to contain %q", msg, tt.want)
			}
			if r := []rune(msg); unicode.IsUpper(r[0]) || strings.ContainsAny(string(r[len(r)-1]), ".!") {
				t.Errorf("got error %q; want lowercase without final punctuation", msg)
			}
		})
	}
}

func TestKubernetesSchemaLongestSuffixWins(t *testing.T) {
	tests := []struct {
		path      string
		wantKey   string
		wantMerge bool
	}{
		{"spec.containers", "name", true},
		{"spec.template.spec.containers", "name", true},
		{"spec.jobTemplate.spec.template.spec.initContainers", "name", true},
		{"spec.template.spec.containers.ports", "containerPort", true},
		{"spec.ports", "port", true},
		{"spec.template.spec.containers.env", "name", true},
		{"spec.template.spec.containers.envFrom", "", false},
		{"spec.containers.volumeMounts", "mountPath", true},
		{"spec.containers.volumeDevices", "devicePath", true},
		{"spec.volumes", "name", true},
		{"spec.imagePullSecrets", "name", true},
		{"spec.hostAliases", "ip", true},
		{"spec.tolerations", "", false},
		{"spec.topologySpreadConstraints", "topologyKey", true},
		{"metadata.ownerReferences", "uid", true},
		{"spec.template.metadata.finalizers", "", true},
		{"status.conditions", "type", true},
		{"subsets", "", false},
		{"spec.template.spec.containers.args", "", false},
		{"ports", "", false},
	}
	for _, tt := range tests {
		key, merge := KubernetesSchema{}.ListStrategy(tt.path)
		if key != tt.wantKey || merge != tt.wantMerge {
			t.Errorf("ListStrategy(%q): got (%q, %t); want (%q, %t)", tt.path, key, merge, tt.wantKey, tt.wantMerge)
		}
	}
}

func decode(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return v
}

func encode(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// lookup follows a dotted path through maps and lists; a list index is a
// number and "#" is the length of a list.
func lookup(v any, path string) any {
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			if seg == "#" {
				return float64(len(x))
			}
			var i int
			if err := json.Unmarshal([]byte(seg), &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// directiveKey returns a directive key found anywhere in v, or "".
func directiveKey(v any) string {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if isDirective(k) {
				return k
			}
			if d := directiveKey(e); d != "" {
				return d
			}
		}
	case []any:
		for _, e := range x {
			if d := directiveKey(e); d != "" {
				return d
			}
		}
	}
	return ""
}
