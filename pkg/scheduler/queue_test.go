package scheduler

import (
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time       { return c.t }
func (c *fakeClock) step(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock            { return &fakeClock{t: time.Unix(1_000_000, 0)} }
func lens(q *Queue) (a, b, u int)         { return q.Len() }
func wantLens(t *testing.T, q *Queue, a, b, u int) {
	t.Helper()
	if ga, gb, gu := lens(q); ga != a || gb != b || gu != u {
		t.Errorf("active/backoff/unschedulable: got %d/%d/%d; want %d/%d/%d", ga, gb, gu, a, b, u)
	}
}

func mustPop(t *testing.T, q *Queue) (string, int64) {
	t.Helper()
	key, cycle, ok := q.Pop()
	if !ok {
		t.Fatal("Pop: queue closed")
	}
	return key, cycle
}

func TestQueuePopsByPriorityThenAge(t *testing.T) {
	q := NewQueue(nil)
	q.Add("ns/low-old", 0)
	q.Add("ns/high", 100)
	q.Add("ns/low-new", 0)
	q.Add("ns/high", 100) // a duplicate collapses
	for _, want := range []string{"ns/high", "ns/low-old", "ns/low-new"} {
		if got, _ := mustPop(t, q); got != want {
			t.Errorf("got %s; want %s", got, want)
		}
	}
	wantLens(t, q, 0, 0, 0)
}

func TestQueueKeyInFlightIsNotQueuedTwice(t *testing.T) {
	q := NewQueue(nil)
	q.Add("ns/p", 0)
	mustPop(t, q)
	q.Add("ns/p", 0)
	wantLens(t, q, 0, 0, 0)
	q.Done("ns/p")
	wantLens(t, q, 0, 0, 0)
}

func TestQueueBackoffDoublesPerPod(t *testing.T) {
	clk := newFakeClock()
	q := NewQueue(clk.now)
	q.Add("ns/p", 0)
	for attempt, want := range []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		mustPop(t, q)
		q.AddBackoff("ns/p")
		clk.step(want - time.Millisecond)
		q.Flush()
		wantLens(t, q, 0, 1, 0)
		clk.step(time.Millisecond)
		q.Flush()
		if a, _, _ := lens(q); a != 1 {
			t.Fatalf("attempt %d: not active after a backoff of %v", attempt+1, want)
		}
	}
}

func TestQueueUnschedulableWaitsForAChange(t *testing.T) {
	clk := newFakeClock()
	q := NewQueue(clk.now)
	q.Add("ns/p", 0)
	_, cycle := mustPop(t, q)
	q.AddUnschedulable("ns/p", cycle)
	clk.step(time.Minute)
	q.Flush()
	wantLens(t, q, 0, 0, 1) // backoff alone does not bring it back
	q.MoveAll()
	wantLens(t, q, 1, 0, 0)
}

func TestQueueMoveDuringAttemptIsNotLost(t *testing.T) {
	clk := newFakeClock()
	q := NewQueue(clk.now)
	q.Add("ns/p", 0)
	_, cycle := mustPop(t, q)
	q.MoveAll() // a node came while p was being tried against the old list
	q.AddUnschedulable("ns/p", cycle)
	wantLens(t, q, 0, 1, 0)
	clk.step(time.Second)
	q.Flush()
	wantLens(t, q, 1, 0, 0)
}

func TestQueueMovedPodStillWaitsOutItsBackoff(t *testing.T) {
	clk := newFakeClock()
	q := NewQueue(clk.now)
	q.Add("ns/p", 0)
	_, cycle := mustPop(t, q)
	q.AddUnschedulable("ns/p", cycle)
	clk.step(500 * time.Millisecond)
	q.MoveAll()
	wantLens(t, q, 0, 1, 0)
	clk.step(500 * time.Millisecond)
	q.Flush()
	wantLens(t, q, 1, 0, 0)
}

func TestQueueUnschedulableTimeout(t *testing.T) {
	clk := newFakeClock()
	q := NewQueue(clk.now)
	q.Add("ns/p", 0)
	_, cycle := mustPop(t, q)
	q.AddUnschedulable("ns/p", cycle)
	clk.step(q.UnschedulableTimeout)
	q.Flush()
	wantLens(t, q, 1, 0, 0)
}

func TestQueueUpdateActivatesUnschedulable(t *testing.T) {
	clk := newFakeClock()
	q := NewQueue(clk.now)
	q.Add("ns/p", 0)
	_, cycle := mustPop(t, q)
	q.AddUnschedulable("ns/p", cycle)
	clk.step(2 * time.Second)
	q.Update("ns/p", 0)
	wantLens(t, q, 1, 0, 0)

	// Changed while in flight: a failure goes to backoff, not to wait
	// for a cluster change.
	_, cycle = mustPop(t, q)
	q.Update("ns/p", 0)
	q.AddUnschedulable("ns/p", cycle)
	wantLens(t, q, 0, 1, 0)
}

func TestQueueDelete(t *testing.T) {
	clk := newFakeClock()
	q := NewQueue(clk.now)
	for _, k := range []string{"a", "b", "c"} {
		q.Add(k, 0)
	}
	mustPop(t, q) // a in flight
	k, cycle := mustPop(t, q)
	q.AddUnschedulable(k, cycle) // b unschedulable
	for _, k := range []string{"a", "b", "c"} {
		q.Delete(k)
	}
	wantLens(t, q, 0, 0, 0)
	q.Done("a") // a late Done for a deleted key is harmless
	wantLens(t, q, 0, 0, 0)
}

func TestQueueCloseReleasesPop(t *testing.T) {
	q := NewQueue(nil)
	done := make(chan bool)
	go func() {
		_, _, ok := q.Pop()
		done <- ok
	}()
	q.Close()
	select {
	case ok := <-done:
		if ok {
			t.Error("Pop after Close: got ok; want closed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Pop still blocked 5 s after Close")
	}
}
