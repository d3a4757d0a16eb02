package workqueue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestRunRetriesFailuresAndForgetsSuccesses(t *testing.T) {
	q := NewWithRateLimiter("t", NewBackoff(time.Millisecond, 10*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	calls := map[string]int{}
	done := make(chan struct{})
	go func() {
		Run(ctx, q, 2, func(ctx context.Context, key string) error {
			mu.Lock()
			defer mu.Unlock()
			calls[key]++
			if key == "flaky" && calls[key] < 3 {
				return errors.New("not yet")
			}
			if key == "flaky" {
				close(done)
			}
			return nil
		})
	}()
	q.Add("ok")
	q.Add("flaky")
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("flaky key was not retried to success")
	}
	cancel()
	mu.Lock()
	defer mu.Unlock()
	if calls["ok"] != 1 || calls["flaky"] != 3 {
		t.Errorf("calls: got %v; want ok:1 flaky:3", calls)
	}
	if n := q.NumRequeues("flaky"); n != 0 {
		t.Errorf("requeues of flaky after success: got %d; want 0 (forgotten)", n)
	}
}
