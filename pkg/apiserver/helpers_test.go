package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/store"
)

// testServer is a real API server on a real embedded etcd, served over
// loopback HTTP.
type testServer struct {
	*httptest.Server
	store  *store.Etcd
	client *client.Client
}

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	e, err := store.StartEmbedded(store.EmbedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewEtcd(e.Client)
	srv, err := New(Config{Store: st})
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
	return &testServer{Server: hs, store: st, client: c}
}

// response is a raw HTTP answer, for checking exactly what a client sees.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) status(t testing.TB) meta.Status {
	t.Helper()
	var st meta.Status
	if err := json.Unmarshal(r.body, &st); err != nil || st.Kind != "Status" {
		t.Fatalf("response %d is not a Status: %s", r.code, r.body)
	}
	return st
}

func (r response) object(t testing.TB, into any) {
	t.Helper()
	if err := json.Unmarshal(r.body, into); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// do sends one raw request to the test server.
func (s *testServer) do(t testing.TB, method, path, contentType, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}
