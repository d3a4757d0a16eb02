package expectations

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestExpectationsWaitForEveryCreationAndDeletionOrExpire(t *testing.T) {
	now := t0
	e := New()
	e.Now = func() time.Time { return now }
	if !e.Satisfied("ns/web") {
		t.Fatal("no record: want satisfied")
	}
	e.Expect("ns/web", 2, []string{"ns/p1"})
	e.CreationObserved("ns/web")
	e.DeletionObserved("ns/web", "ns/p1")
	e.DeletionObserved("ns/web", "ns/p1") // a repeat counts once
	if e.Satisfied("ns/web") {
		t.Error("one creation unseen: want unsatisfied")
	}
	e.CreationObserved("ns/web")
	if !e.Satisfied("ns/web") {
		t.Error("everything seen: want satisfied")
	}

	e.Expect("ns/web", 1, nil)
	now = now.Add(TTL + time.Second)
	if !e.Satisfied("ns/web") {
		t.Error("after the TTL: want satisfied (expired)")
	}
}
