package leaderelection

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
)

func fastConfig(c *client.Client, id string) Config {
	return Config{Client: c, Name: "test-lock", Identity: id,
		LeaseDuration: 1500 * time.Millisecond, RenewDeadline: 1000 * time.Millisecond, RetryPeriod: 100 * time.Millisecond}
}

// timeline records when each replica led, to check they never overlap.
type timeline struct {
	mu      sync.Mutex
	leading atomic.Int32
	overlap atomic.Bool
	starts  map[string]time.Time
	stops   map[string]time.Time
}

func (tl *timeline) lead(id string) func(ctx context.Context) {
	return func(ctx context.Context) {
		if tl.leading.Add(1) > 1 {
			tl.overlap.Store(true)
		}
		tl.mu.Lock()
		tl.starts[id] = time.Now()
		tl.mu.Unlock()
		<-ctx.Done()
		tl.mu.Lock()
		tl.stops[id] = time.Now()
		tl.mu.Unlock()
		tl.leading.Add(-1)
	}
}

func (tl *timeline) get(id string) (start, stop time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.starts[id], tl.stops[id]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHandoverOnRelease: the standby takes over when the leader stops, and
// the two never lead at once.
func TestHandoverOnRelease(t *testing.T) {
	s := apiservertest.Start(t)
	tl := &timeline{starts: map[string]time.Time{}, stops: map[string]time.Time{}}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA := make(chan struct{})
	go func() { defer close(doneA); Run(ctxA, fastConfig(s.Client, "a"), tl.lead("a")) }()
	waitFor(t, "a to lead", func() bool { s, _ := tl.get("a"); return !s.IsZero() })
	go Run(ctxB, fastConfig(s.Client, "b"), tl.lead("b"))
	time.Sleep(500 * time.Millisecond)
	if start, _ := tl.get("b"); !start.IsZero() {
		t.Fatal("b became leader while a was renewing")
	}
	stopA()
	<-doneA
	// a gave the Lease up on its way out (no waiting for it to expire):
	// by now the holder is empty, or already b.
	var lease coordination.Lease
	if err := s.Client.Get(context.Background(), "kube-system", "test-lock", &lease); err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h != nil && *h == "a" {
		t.Errorf("after a stopped, the Lease is still held by a; want it released")
	}
	waitFor(t, "b to take over", func() bool { s, _ := tl.get("b"); return !s.IsZero() })
	if tl.overlap.Load() {
		t.Error("two leaders at once")
	}
}

// TestLeaderThatCannotRenewStopsFirst: a leader cut off from the API
// server stops acting before the standby can take over.
func TestLeaderThatCannotRenewStopsFirst(t *testing.T) {
	s := apiservertest.Start(t)
	target, _ := url.Parse(s.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var cut atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cut.Load() {
			http.Error(w, "partitioned", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	ca, _ := client.New(front.URL)
	tl := &timeline{starts: map[string]time.Time{}, stops: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Run(ctx, fastConfig(ca, "a"), tl.lead("a"))
	waitFor(t, "a to lead", func() bool { s, _ := tl.get("a"); return !s.IsZero() })
	go Run(ctx, fastConfig(s.Client, "b"), tl.lead("b"))
	cut.Store(true)
	waitFor(t, "b to take over", func() bool { s, _ := tl.get("b"); return !s.IsZero() })
	_, stopA := tl.get("a")
	startB, _ := tl.get("b")
	if stopA.IsZero() || !stopA.Before(startB) {
		t.Errorf("a stopped at %v, b started at %v: the cut-off leader must stop first", stopA, startB)
	}
	if tl.overlap.Load() {
		t.Error("two leaders at once")
	}
}
