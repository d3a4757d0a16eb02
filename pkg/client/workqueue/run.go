package workqueue

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"minik8s/pkg/apis/apierrors"
)

// SyncFunc converges one key. Its error is the retry policy: non-nil
// requeues the key with per-key backoff; nil forgets the key's failures.
type SyncFunc func(ctx context.Context, key string) error

// Run drains q with the given number of workers, each calling sync for one
// key at a time (the queue guarantees no key is synced by two workers at
// once). It returns when ctx is done and every worker has finished its
// current key; it shuts the queue down.
func Run(ctx context.Context, q *Queue, workers int, syncFn SyncFunc) {
	go func() {
		<-ctx.Done()
		q.ShutDown()
	}()
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for processNext(ctx, q, syncFn) {
			}
		}()
	}
	wg.Wait()
}

func processNext(ctx context.Context, q *Queue, sync SyncFunc) bool {
	key, shutdown := q.Get()
	if shutdown {
		return false
	}
	defer q.Done(key)
	if err := sync(ctx, key); err != nil {
		if ctx.Err() != nil {
			return false
		}
		level := slog.LevelInfo
		if errors.Is(err, apierrors.ErrConflict) {
			// Optimistic concurrency at work: someone wrote first, the
			// retry reads the fresh state. Not worth an INFO line.
			level = slog.LevelDebug
		}
		slog.Log(ctx, level, "sync failed; will retry", "queue", q.Name(), "key", key, "retries", q.NumRequeues(key), "err", err)
		q.AddRateLimited(key)
		return true
	}
	q.Forget(key)
	return true
}
