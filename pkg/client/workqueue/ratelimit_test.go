package workqueue

import (
	"testing"
	"time"
)

func TestBackoffDoublesPerKeyUpToCap(t *testing.T) {
	b := NewBackoff(5*time.Millisecond, 1000*time.Second)
	want := []time.Duration{
		5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
		40 * time.Millisecond, 80 * time.Millisecond,
	}
	for i, w := range want {
		if got := b.When("a"); got != w {
			t.Errorf("When #%d = %v; want %v", i, got, w)
		}
	}
	if got := b.When("b"); got != 5*time.Millisecond {
		t.Errorf("When for another key = %v; want the base 5ms (backoff is per key)", got)
	}

	// 5ms * 2^18 > 1000s: from there on every answer is the cap, and very
	// many failures must saturate rather than overflow.
	for range 200 {
		b.When("a")
	}
	if got := b.When("a"); got != 1000*time.Second {
		t.Errorf("When after 200 failures = %v; want the 1000s cap", got)
	}
	if got := b.NumRequeues("a"); got != 206 {
		t.Errorf("NumRequeues = %d; want 206", got)
	}

	b.Forget("a")
	if got := b.NumRequeues("a"); got != 0 {
		t.Errorf("NumRequeues after Forget = %d; want 0", got)
	}
	if got := b.When("a"); got != 5*time.Millisecond {
		t.Errorf("When after Forget = %v; want the base 5ms", got)
	}
}

func TestBucketAllowsBurstThenPacesAtQPS(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBucket(10, 2)
	b.now = func() time.Time { return now }

	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
	for i, w := range want {
		if got := b.When("k"); got != w {
			t.Errorf("When #%d = %v; want %v", i, got, w)
		}
	}

	// One second refills 10 tokens, of which 2 pay for the promised ones
	// and the rest overflow the burst of 2.
	now = now.Add(time.Second)
	if got := b.When("k"); got != 0 {
		t.Errorf("When after refill = %v; want 0", got)
	}
}

func TestMaxOfWaitsForTheSlowestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	bucket := NewBucket(1, 1)
	bucket.now = func() time.Time { return now }
	rl := MaxOf(NewBackoff(time.Millisecond, time.Hour), bucket)

	if got := rl.When("a"); got != time.Millisecond {
		t.Errorf("first When = %v; want the backoff's 1ms (bucket has a token)", got)
	}
	if got := rl.When("a"); got != time.Second {
		t.Errorf("second When = %v; want the bucket's 1s (longer than the backoff's 2ms)", got)
	}
	if got := rl.NumRequeues("a"); got != 2 {
		t.Errorf("NumRequeues = %d; want 2", got)
	}
	rl.Forget("a")
	if got := rl.NumRequeues("a"); got != 0 {
		t.Errorf("NumRequeues after Forget = %d; want 0", got)
	}
}
