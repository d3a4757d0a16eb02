// Package workqueue is the queue between a controller's event handlers and
// its workers: a FIFO of string keys ("namespace/name") with the guarantees
// of client-go's workqueue, so that a level-triggered controller can be
// written as "handlers enqueue keys, workers sync keys".
//
// What it guarantees:
//
//   - Duplicates collapse. A key added many times before a worker picks it
//     up is processed once; the worker reads current state from the cache,
//     so the intermediate changes need no separate processing.
//   - A key is never processed by two workers at once. Between Get and Done
//     the key is "processing"; an Add in that window marks it dirty and it
//     is queued again when Done is called, so the latest change is never lost.
//   - Otherwise keys come out in the order they were first added (FIFO).
//   - AddAfter delays a key; AddRateLimited delays it by the RateLimiter's
//     answer for that key (per-key exponential backoff, 5 ms doubling to
//     1000 s, together with an overall 10 qps / burst 100 token bucket: the
//     default controller rate limiter of client-go).
//
// What the caller must do: call Done(key) after every Get that returned a
// key, whatever the outcome; call Forget(key) when a sync succeeded, so that
// the key's backoff starts again from the base delay next time; call
// ShutDown when the workers should stop. The typical worker loop:
//
//	for {
//		key, shutdown := q.Get()
//		if shutdown {
//			return
//		}
//		if err := sync(ctx, key); err != nil {
//			q.AddRateLimited(key) // the returned error is the retry policy
//		} else {
//			q.Forget(key)
//		}
//		q.Done(key)
//	}
//
// What it never does: it never looks inside keys, never drops a key that
// was added before ShutDown and is ready, and starts no goroutine of its
// own (delayed keys use timers that ShutDown stops).
package workqueue
