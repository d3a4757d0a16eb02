package nodeagent

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"minik8s/pkg/certs"
)

// TestAgentAPIOnlyForTheAPIServer: with the node's certificate the agent
// serves HTTPS for the node's name, and only the API server's kubelet
// client (or an admin) gets past /healthz.
func TestAgentAPIOnlyForTheAPIServer(t *testing.T) {
	dir := t.TempDir()
	if err := certs.Init(dir, certs.Options{Nodes: []string{"n1", "n2"}}); err != nil {
		t.Fatal(err)
	}
	pair := func(name string) tls.Certificate {
		c, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, certs.CAFile))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)

	srv := httptest.NewUnstartedServer(onlyAPIServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "logs")
	})))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair("node-n1")}, ClientCAs: pool,
		ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()

	get := func(serverName, path string, certs ...tls.Certificate) (int, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, ServerName: serverName, Certificates: certs}}}
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for _, tc := range []struct {
		name, path string
		certs      []tls.Certificate
		want       int
	}{
		{"health without a certificate", "/healthz", nil, 200},
		{"logs without a certificate", "/containerLogs/default/p/c", nil, 401},
		{"another node's certificate", "/containerLogs/default/p/c", []tls.Certificate{pair("node-n2")}, 403},
		{"the node's own certificate", "/containerLogs/default/p/c", []tls.Certificate{pair("node-n1")}, 403},
		{"the API server's kubelet client", "/containerLogs/default/p/c", []tls.Certificate{pair("apiserver-kubelet-client")}, 200},
		{"an admin", "/containerLogs/default/p/c", []tls.Certificate{pair("admin")}, 200},
	} {
		if got, err := get("n1", tc.path, tc.certs...); err != nil || got != tc.want {
			t.Errorf("%s: %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	// The certificate is n1's: a client that expects n2 refuses it.
	if _, err := get("n2", "/healthz"); err == nil {
		t.Error("the agent of n1 passed as n2")
	}
}
