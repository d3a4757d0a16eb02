// Package apiservertest starts a real minik8s API server, on a real
// embedded etcd in a temp dir, for the tests of other packages
// (controllers, scheduler, node agent): they test against the real API,
// not a fake.
package apiservertest

import (
	"context"
	"net/http/httptest"
	"testing"

	"minik8s/pkg/apiserver"
	"minik8s/pkg/client"
	"minik8s/pkg/store"
)

// Server is a running test API server. It stops when the test ends.
type Server struct {
	URL    string
	Client *client.Client
	// Store is the server's etcd store, for tests that compact history.
	Store *store.Etcd
}

// Start runs an API server for the duration of t.
func Start(t testing.TB) *Server {
	t.Helper()
	e, err := store.StartEmbedded(store.EmbedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewEtcd(e.Client)
	srv, err := apiserver.New(apiserver.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		e.Close()
	})
	c, err := client.New(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{URL: hs.URL, Client: c, Store: st}
}
