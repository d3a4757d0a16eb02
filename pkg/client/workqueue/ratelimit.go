package workqueue

import (
	"math"
	"sync"
	"time"
)

// RateLimiter decides how long a key waits before it is retried. It is the
// interface Queue needs; Backoff, Bucket and MaxOf implement it.
type RateLimiter interface {
	// When records one more retry of key and returns how long to wait.
	When(key string) time.Duration
	// Forget clears key's retry history (call it after a success).
	Forget(key string)
	// NumRequeues returns how many times When was called for key since
	// its last Forget.
	NumRequeues(key string) int
}

// DefaultRateLimiter returns client-go's default controller rate limiter:
// the larger of a per-key exponential backoff (5 ms doubling to 1000 s) and
// an overall token bucket (10 retries per second, bursts of 100). The
// backoff keeps one failing key from spinning; the bucket keeps many
// failing keys together from flooding the API server.
func DefaultRateLimiter() RateLimiter {
	return MaxOf(
		NewBackoff(5*time.Millisecond, 1000*time.Second),
		NewBucket(10, 100),
	)
}

// Backoff is a per-key exponential backoff: the n-th When for a key (from
// 0) returns base * 2^n, capped at maxDelay. Its answers depend only on the
// number of calls, never on the clock.
type Backoff struct {
	base, maxDelay time.Duration

	mu       sync.Mutex
	failures map[string]int // When calls per key since its last Forget
}

// NewBackoff returns a Backoff from base doubling up to maxDelay.
func NewBackoff(base, maxDelay time.Duration) *Backoff {
	return &Backoff{base: base, maxDelay: maxDelay, failures: map[string]int{}}
}

// When returns base * 2^n for the n-th call for key, capped at maxDelay.
func (b *Backoff) When(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.failures[key]
	b.failures[key] = n + 1
	// Computed in float64 so that a large n saturates instead of overflowing.
	d := float64(b.base) * math.Pow(2, float64(n))
	if d > float64(b.maxDelay) {
		return b.maxDelay
	}
	return time.Duration(d)
}

// Forget resets key's backoff to base.
func (b *Backoff) Forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.failures, key)
}

// NumRequeues returns the number of When calls for key since Forget.
func (b *Backoff) NumRequeues(key string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures[key]
}

// Bucket is a token bucket shared by all keys: it refills at qps tokens per
// second up to burst, and each When takes one token, returning how long
// until that token exists. It tracks no per-key state.
type Bucket struct {
	qps   float64
	burst float64
	now   func() time.Time // injectable for tests

	mu     sync.Mutex
	tokens float64   // may go negative: tokens already promised to waiters
	last   time.Time // when tokens was last brought up to date
}

// NewBucket returns a full Bucket refilling at qps up to burst tokens.
func NewBucket(qps float64, burst int) *Bucket {
	return &Bucket{qps: qps, burst: float64(burst), tokens: float64(burst), now: time.Now}
}

// When takes one token and returns how long until it is available: zero
// while the bucket has tokens, then 1/qps more per call made ahead of the
// refill.
func (b *Bucket) When(string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.qps)
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.qps * float64(time.Second))
}

// Forget does nothing: the bucket has no per-key state.
func (b *Bucket) Forget(string) {}

// NumRequeues returns 0: the bucket has no per-key state.
func (b *Bucket) NumRequeues(string) int { return 0 }

// maxOf asks every limiter and waits for the longest answer.
type maxOf []RateLimiter

// MaxOf returns a RateLimiter whose When is the longest of ls' answers
// (every limiter is asked, so each records the retry), whose Forget
// forgets in all of them and whose NumRequeues is the largest count.
func MaxOf(ls ...RateLimiter) RateLimiter { return maxOf(ls) }

func (m maxOf) When(key string) time.Duration {
	var longest time.Duration
	for _, l := range m {
		longest = max(longest, l.When(key))
	}
	return longest
}

func (m maxOf) Forget(key string) {
	for _, l := range m {
		l.Forget(key)
	}
}

func (m maxOf) NumRequeues(key string) int {
	n := 0
	for _, l := range m {
		n = max(n, l.NumRequeues(key))
	}
	return n
}
