package apiserver

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLogsAreProxiedToTheNodeAgent: pods/{name}/log finds the pod's node
// and streams the agent's /containerLogs answer, passing the parameters.
func TestLogsAreProxiedToTheNodeAgent(t *testing.T) {
	s := newTestServer(t)
	var gotPath, gotQuery string
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery = r.URL.Path, r.URL.RawQuery
		fmt.Fprint(w, "hello from c\n")
	}))
	defer agent.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(agent.URL, "http://"))
	s.do(t, "POST", "/api/v1/nodes", "application/json", `{"metadata":{"name":"n1"}}`)
	resp := s.do(t, "PATCH", "/api/v1/nodes/n1/status", "application/merge-patch+json",
		`{"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":`+port+`}}}}`)
	if resp.code != 200 {
		t.Fatalf("node status: %d %s", resp.code, resp.body)
	}
	s.do(t, "POST", "/api/v1/namespaces/default/pods", "application/json",
		`{"metadata":{"name":"p"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"},{"name":"d","image":"i"}]}}`)
	resp = s.do(t, "GET", "/api/v1/namespaces/default/pods/p/log", "", "")
	if resp.code != 400 || !strings.Contains(resp.status(t).Message, "a container name must be specified for pod p, choose one of: [c d]") {
		t.Errorf("no container named: got %d %s", resp.code, resp.body)
	}
	resp = s.do(t, "GET", "/api/v1/namespaces/default/pods/p/log?container=c&tailLines=5&follow=true", "", "")
	if resp.code != 200 || string(resp.body) != "hello from c\n" {
		t.Fatalf("logs: got %d %q", resp.code, resp.body)
	}
	if gotPath != "/containerLogs/default/p/c" || !strings.Contains(gotQuery, "tailLines=5") || !strings.Contains(gotQuery, "follow=true") {
		t.Errorf("agent got %s?%s; want /containerLogs/default/p/c with tailLines and follow", gotPath, gotQuery)
	}
	agent.Close()
	resp = s.do(t, "GET", "/api/v1/namespaces/default/pods/p/log?container=c", "", "")
	if resp.code != 503 || !strings.Contains(resp.status(t).Message, "cannot reach the node agent of n1") {
		t.Errorf("agent down: got %d %s; want 503 naming the node", resp.code, resp.body)
	}
}
