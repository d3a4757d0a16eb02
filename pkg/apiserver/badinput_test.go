package apiserver

import (
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/meta"
)

// TestBadInputGetsAClearStatus: every malformed request is answered with a
// 4xx Status that says what is wrong, and the server keeps serving.
func TestBadInputGetsAClearStatus(t *testing.T) {
	s := newTestServer(t)
	dep := func(sel string) string {
		return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"` + sel + `"}},
		 "template":{"metadata":{"labels":{"app":"` + sel + `"}},"spec":{"containers":[{"name":"c","image":"img"}]}}}}`
	}
	if resp := s.do(t, "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", dep("a")); resp.code != 201 {
		t.Fatalf("setup: %d %s", resp.code, resp.body)
	}
	tests := []struct {
		name, method, path, ctype, body string
		wantCode                        int
		wantInMessage                   string
		wantCauseFields                 []string
	}{
		{"malformed JSON", "POST", "/api/v1/namespaces/default/configmaps", "application/json",
			"{\"metadata\": {\"name\": \"x\",}\n}", 400, "line 1, column 27", nil},
		{"malformed YAML", "POST", "/api/v1/namespaces/default/configmaps", "application/yaml",
			"metadata:\n  name: x\n bad: [", 400, "yaml: line", nil},
		{"not an object", "POST", "/api/v1/namespaces/default/configmaps", "application/json",
			`[1,2]`, 400, "must be a JSON or YAML object", nil},
		{"wrong type", "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json",
			`{"metadata":{"name":"t"},"spec":{"replicas":"three"}}`, 400, "spec.replicas", nil},
		{"kind does not match path", "POST", "/api/v1/namespaces/default/configmaps", "application/json",
			`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}`, 400, "kind in the request body (Secret)", nil},
		{"apiVersion does not match path", "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json",
			`{"apiVersion":"v1","kind":"Deployment","metadata":{"name":"x"}}`, 400, "apiVersion in the request body (v1)", nil},
		{"invalid name", "POST", "/api/v1/namespaces/default/configmaps", "application/json",
			`{"metadata":{"name":"Bad_Name"}}`, 422, "RFC 1123", []string{"metadata.name"}},
		{"missing name", "POST", "/api/v1/namespaces/default/configmaps", "application/json",
			`{"metadata":{}}`, 422, "Required value", []string{"metadata.name"}},
		{"every bad field at once", "POST", "/api/v1/namespaces/default/pods", "application/json",
			`{"metadata":{"name":"p","labels":{"bad key!":"v"}},"spec":{"containers":[{"name":"c"}],"restartPolicy":"Sometimes"}}`, 422, "",
			[]string{"metadata.labels", "spec.containers[0].image", "spec.restartPolicy"}},
		{"unknown field, strict", "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", "application/json",
			`{"metadata":{"name":"x","nmae":"y"},"data":{"a":"b"},"dta":{}}`, 400, `unknown field "dta", unknown field "metadata.nmae"`, nil},
		{"duplicate field, strict", "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", "application/json",
			`{"metadata":{"name":"x","name":"y"}}`, 400, `duplicate field "metadata.name"`, nil},
		{"duplicate key in YAML, strict", "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", "application/yaml",
			"metadata:\n  name: x\n  name: z1\n", 400, "duplicate field", nil},
		{"oversize body", "POST", "/api/v1/namespaces/default/configmaps", "application/json",
			`{"metadata":{"name":"big"},"data":{"a":"` + strings.Repeat("x", 4<<20) + `"}}`, 413, "larger than the limit", nil},
		{"immutable selector", "PUT", "/apis/apps/v1/namespaces/default/deployments/d", "application/json",
			dep("b"), 422, "immutable", []string{"spec.selector"}},
		{"name does not match URL", "PUT", "/api/v1/namespaces/default/configmaps/x", "application/json",
			`{"metadata":{"name":"other"}}`, 400, "does not match the name on the URL", nil},
		{"namespace does not match URL", "POST", "/api/v1/namespaces/default/configmaps", "application/json",
			`{"metadata":{"name":"y","namespace":"other"}}`, 400, "does not match the namespace", nil},
		{"protobuf", "POST", "/api/v1/namespaces/default/configmaps", "application/vnd.kubernetes.protobuf",
			"k8s\x00", 415, "protobuf", nil},
		{"unknown resource", "GET", "/api/v1/namespaces/default/widgets", "", "", 404, "could not find", nil},
		{"bad label selector", "GET", "/api/v1/pods?labelSelector=a+in+(", "", "", 400, "", nil},
		{"bad limit", "GET", "/api/v1/pods?limit=-1", "", "", 400, "limit", nil},
		{"bad continue", "GET", "/api/v1/pods?limit=1&continue=garbage", "", "", 400, "continue", nil},
		{"bad watch revision", "GET", "/api/v1/pods?watch=true&resourceVersion=abc", "", "", 400, "resourceVersion", nil},
		{"bad propagation policy", "DELETE", "/apis/apps/v1/namespaces/default/deployments/d", "application/json",
			`{"propagationPolicy":"Sideways"}`, 422, "Sideways", []string{"propagationPolicy"}},
		{"stale resourceVersion", "PUT", "/apis/apps/v1/namespaces/default/deployments/d", "application/json",
			strings.Replace(dep("a"), `"name":"d"`, `"name":"d","resourceVersion":"1"`, 1), 409, "the object has been modified", nil},
		{"patch with unsupported type", "PATCH", "/apis/apps/v1/namespaces/default/deployments/d", "text/csv", "a,b", 415, "", nil},
		{"broken JSON patch", "PATCH", "/apis/apps/v1/namespaces/default/deployments/d", "application/json-patch+json",
			`[{"op":"frobnicate","path":"/spec"}]`, 400, "unsupported operation", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(t, tt.method, tt.path, tt.ctype, tt.body)
			st := resp.status(t)
			if resp.code != tt.wantCode || int(st.Code) != tt.wantCode {
				t.Fatalf("got HTTP %d, Status code %d (%s); want %d", resp.code, st.Code, st.Message, tt.wantCode)
			}
			if !strings.Contains(st.Message, tt.wantInMessage) {
				t.Errorf("message %q does not contain %q", st.Message, tt.wantInMessage)
			}
			if st.Status != meta.StatusFailure || st.Reason == "" {
				t.Errorf("status %q reason %q; want Failure with a reason", st.Status, st.Reason)
			}
			var fields []string
			if st.Details != nil {
				for _, c := range st.Details.Causes {
					fields = append(fields, c.Field)
				}
			}
			for _, want := range tt.wantCauseFields {
				found := false
				for _, f := range fields {
					if strings.HasPrefix(f, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("causes %v; want one for %s", fields, want)
				}
			}
		})
	}
	if resp := s.do(t, "GET", "/healthz", "", ""); resp.code != 200 {
		t.Errorf("after bad input the server must still serve: /healthz %d", resp.code)
	}
	if resp := s.do(t, "GET", "/apis/apps/v1/namespaces/default/deployments/d", "", ""); resp.code != 200 || !strings.Contains(string(resp.body), `"app":"a"`) {
		t.Errorf("the deployment must be unchanged: %d %s", resp.code, resp.body)
	}
}

func TestUnknownFieldsWarnByDefault(t *testing.T) {
	s := newTestServer(t)
	resp := s.do(t, "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"metadata":{"name":"w"},"dta":{}}`)
	if resp.code != 201 || !strings.Contains(resp.header.Get("Warning"), `unknown field \"dta\"`) {
		t.Errorf("got %d, Warning %q; want 201 with a warning naming dta", resp.code, resp.header.Get("Warning"))
	}
}

func TestYAMLInAndOut(t *testing.T) {
	s := newTestServer(t)
	resp := s.do(t, "POST", "/api/v1/namespaces/default/configmaps", "application/yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yml\ndata:\n  k: v\n")
	if resp.code != 201 {
		t.Fatalf("YAML create: %d %s", resp.code, resp.body)
	}
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/configmaps/yml", nil)
	req.Header.Set("Accept", "application/yaml")
	if !wantsYAML(req) {
		t.Fatal("Accept: application/yaml not recognised")
	}
}

// FuzzDecode: no body, however broken, makes the decoder panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(podJSON), "application/json")
	f.Add([]byte("metadata:\n  name: x\n"), "application/yaml")
	f.Add([]byte(`{"metadata":{"name":"x","name":"y"}}`), "")
	f.Add([]byte(`{"spec":{"containers":[{"resources":{"limits":{"cpu":"1e999"}}}]}}`), "application/json")
	// What kubectl create sends, and the envelope alone.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
	raw, _ := pod.Marshal()
	u := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "v1", Kind: "Pod"}, Raw: raw}
	env, _ := u.Marshal()
	f.Add(append([]byte("k8s\x00"), env...), "application/vnd.kubernetes.protobuf")
	f.Add([]byte("k8s\x00\x0a\x02\x0a"), "application/vnd.kubernetes.protobuf")
	k, _ := apis.ByResource("", "pods")
	f.Fuzz(func(t *testing.T, body []byte, media string) {
		doc, dups, err := toJSON(body, media)
		if err != nil {
			return
		}
		req := httptest.NewRequest("POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", nil)
		obj, _, err := decodeDoc(req, k, doc, dups)
		if err == nil && k.Validate != nil {
			k.Default(obj)
			k.Validate(obj)
		}
	})
}
