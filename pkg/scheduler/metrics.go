package scheduler

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// metrics are the scheduler's counters, served in the Prometheus text
// format. They live as long as the Scheduler, across leadership terms.
type metrics struct {
	scheduled, unschedulable, errors atomic.Int64 // scheduling attempts by result
	bound, bindConflicts, bindErrors atomic.Int64 // binding outcomes
	algorithmNanos                   atomic.Int64 // time in filter+score+assume
	bindNanos                        atomic.Int64 // time in binding round trips
	// queue is the current run's queue, nil when not leading.
	queue atomic.Pointer[Queue]
}

func (m *metrics) observeAlgorithm(d time.Duration) { m.algorithmNanos.Add(int64(d)) }

func (m *metrics) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	p := func(name, help, typ string, lines ...string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
	p("scheduler_schedule_attempts_total", "Scheduling attempts by result.", "counter",
		fmt.Sprintf(`scheduler_schedule_attempts_total{result="scheduled"} %d`, m.scheduled.Load()),
		fmt.Sprintf(`scheduler_schedule_attempts_total{result="unschedulable"} %d`, m.unschedulable.Load()),
		fmt.Sprintf(`scheduler_schedule_attempts_total{result="error"} %d`, m.errors.Load()))
	p("scheduler_bindings_total", "Binding requests by result.", "counter",
		fmt.Sprintf(`scheduler_bindings_total{result="bound"} %d`, m.bound.Load()),
		fmt.Sprintf(`scheduler_bindings_total{result="conflict"} %d`, m.bindConflicts.Load()),
		fmt.Sprintf(`scheduler_bindings_total{result="error"} %d`, m.bindErrors.Load()))
	p("scheduler_algorithm_seconds_total", "Time spent filtering, scoring and assuming.", "counter",
		fmt.Sprintf("scheduler_algorithm_seconds_total %g", time.Duration(m.algorithmNanos.Load()).Seconds()))
	p("scheduler_binding_seconds_total", "Time spent in binding requests, summed over concurrent binders.", "counter",
		fmt.Sprintf("scheduler_binding_seconds_total %g", time.Duration(m.bindNanos.Load()).Seconds()))
	var a, b, u int
	if q := m.queue.Load(); q != nil {
		a, b, u = q.Len()
	}
	p("scheduler_pending_pods", "Pods waiting in the scheduling queue, by part.", "gauge",
		fmt.Sprintf(`scheduler_pending_pods{queue="active"} %d`, a),
		fmt.Sprintf(`scheduler_pending_pods{queue="backoff"} %d`, b),
		fmt.Sprintf(`scheduler_pending_pods{queue="unschedulable"} %d`, u))
}
