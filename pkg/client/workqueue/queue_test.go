package workqueue

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// getWithin calls q.Get and fails the test if it blocks longer than a
// generous timeout: a liveness bound, not a timing assertion.
func getWithin(t *testing.T, q *Queue) (string, bool) {
	t.Helper()
	type result struct {
		key      string
		shutdown bool
	}
	ch := make(chan result, 1)
	go func() {
		k, s := q.Get()
		ch <- result{k, s}
	}()
	select {
	case r := <-ch:
		return r.key, r.shutdown
	case <-time.After(5 * time.Second):
		t.Fatal("Get blocked for 5s")
		return "", false
	}
}

func TestKeysComeOutInFIFOOrderAndDuplicatesCollapse(t *testing.T) {
	q := New("test")
	for _, k := range []string{"a", "b", "a", "c", "b"} {
		q.Add(k)
	}
	if got := q.Len(); got != 3 {
		t.Fatalf("Len() = %d; want 3", got)
	}
	for _, want := range []string{"a", "b", "c"} {
		got, shutdown := q.Get()
		if got != want || shutdown {
			t.Fatalf("Get() = %q, %v; want %q, false", got, shutdown, want)
		}
		q.Done(got)
	}
	if got := q.Len(); got != 0 {
		t.Errorf("Len() after draining = %d; want 0", got)
	}
}

func TestAddWhileProcessingRequeuesOnDone(t *testing.T) {
	q := New("test")
	q.Add("a")
	key, _ := q.Get()

	q.Add("a") // a change arrives while a worker syncs "a"
	q.Add("a")
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() while %q is processing = %d; want 0 (no second worker may get it)", key, got)
	}
	q.Done(key)
	if got := q.Len(); got != 1 {
		t.Fatalf("Len() after Done = %d; want 1 (the change must not be lost)", got)
	}
	if got, _ := q.Get(); got != "a" {
		t.Errorf("Get() = %q; want %q", got, "a")
	}
}

func TestNoKeyIsProcessedByTwoWorkersAtOnce(t *testing.T) {
	q := New("test")
	var (
		mu     sync.Mutex
		active = map[string]bool{}
		wg     sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				key, shutdown := q.Get()
				if shutdown {
					return
				}
				mu.Lock()
				if active[key] {
					t.Errorf("key %q handed to two workers at once", key)
				}
				active[key] = true
				mu.Unlock()

				q.Add(key) // re-adding while processing must wait for Done

				mu.Lock()
				active[key] = false
				mu.Unlock()
				q.Done(key)
			}
		})
	}
	for i := range 200 {
		q.Add(fmt.Sprintf("k%d", i%5))
	}
	q.ShutDown()
	wg.Wait()
}

func TestGetDrainsReadyKeysThenReportsShutdown(t *testing.T) {
	q := New("test")
	q.Add("a")
	q.ShutDown()
	q.Add("b") // ignored: the queue is shutting down

	if got, shutdown := q.Get(); got != "a" || shutdown {
		t.Fatalf("Get() = %q, %v; want %q, false", got, shutdown, "a")
	}
	if got, shutdown := q.Get(); got != "" || !shutdown {
		t.Fatalf("Get() on a drained, shut-down queue = %q, %v; want \"\", true", got, shutdown)
	}
	if !q.ShuttingDown() {
		t.Errorf("ShuttingDown() = false; want true")
	}
}

func TestShutDownWakesBlockedGet(t *testing.T) {
	q := New("test")
	done := make(chan bool)
	go func() {
		_, shutdown := q.Get()
		done <- shutdown
	}()
	q.ShutDown()
	select {
	case shutdown := <-done:
		if !shutdown {
			t.Errorf("blocked Get returned shutdown=false; want true")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get still blocked 5s after ShutDown")
	}
}

func TestAddAfterDelaysKeyAndKeepsEarliestWakeUp(t *testing.T) {
	q := New("test")
	q.AddAfter("a", time.Hour)
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() after AddAfter(1h) = %d; want 0", got)
	}
	first := q.waiting["a"]
	q.AddAfter("a", 2*time.Hour)
	if q.waiting["a"] != first {
		t.Errorf("a later AddAfter replaced the earlier wake-up; want the earliest kept")
	}

	q.AddAfter("a", time.Millisecond) // earlier: supersedes the 1h wake-up
	if got, _ := getWithin(t, q); got != "a" {
		t.Fatalf("Get() = %q; want %q", got, "a")
	}
	q.Done("a")
	if n := len(q.waiting); n != 0 {
		t.Errorf("%d keys still waiting after the earliest wake-up fired; want 0", n)
	}
}

func TestAddAfterNonPositiveAddsNow(t *testing.T) {
	q := New("test")
	q.AddAfter("a", 0)
	if got := q.Len(); got != 1 {
		t.Errorf("Len() after AddAfter(0) = %d; want 1", got)
	}
}

func TestShutDownDropsWaitingKeys(t *testing.T) {
	q := New("test")
	q.AddAfter("a", time.Hour)
	q.ShutDown()
	if n := len(q.waiting); n != 0 {
		t.Errorf("%d keys still waiting after ShutDown; want 0", n)
	}
	q.AddAfter("b", time.Millisecond)
	if got, shutdown := getWithin(t, q); !shutdown {
		t.Errorf("Get() = %q, false; want shutdown=true", got)
	}
}

func TestAddRateLimitedCountsRequeuesUntilForget(t *testing.T) {
	q := NewWithRateLimiter("test", NewBackoff(time.Millisecond, 4*time.Millisecond))
	for i := 1; i <= 3; i++ {
		q.AddRateLimited("a")
		if got, _ := getWithin(t, q); got != "a" {
			t.Fatalf("Get() = %q; want %q", got, "a")
		}
		q.Done("a")
		if got := q.NumRequeues("a"); got != i {
			t.Errorf("NumRequeues after %d AddRateLimited = %d; want %d", i, got, i)
		}
	}
	q.Forget("a")
	if got := q.NumRequeues("a"); got != 0 {
		t.Errorf("NumRequeues after Forget = %d; want 0", got)
	}
}
