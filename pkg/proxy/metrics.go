package proxy

import (
	"fmt"
	"io"
	"sync"
)

// metrics are the proxy's counters, in Prometheus text format.
type metrics struct {
	mu                     sync.Mutex
	syncs, failures        int64
	chainsWritten, deleted int64
	flowsCleared           int64
	lastSeconds            float64
	lastErr                error
}

func (m *metrics) observe(r syncResult, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncs++
	m.lastErr = err
	if err != nil {
		m.failures++
		return
	}
	m.chainsWritten += int64(r.chainsWritten)
	m.deleted += int64(r.chainsDeleted)
	m.flowsCleared += int64(r.flowsCleared)
	m.lastSeconds = (r.compute + r.apply).Seconds()
}

func (m *metrics) lastError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastErr
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(w, "# TYPE proxy_syncs_total counter\nproxy_syncs_total %d\n", m.syncs)
	fmt.Fprintf(w, "# TYPE proxy_sync_failures_total counter\nproxy_sync_failures_total %d\n", m.failures)
	fmt.Fprintf(w, "# TYPE proxy_chains_written_total counter\nproxy_chains_written_total %d\n", m.chainsWritten)
	fmt.Fprintf(w, "# TYPE proxy_chains_deleted_total counter\nproxy_chains_deleted_total %d\n", m.deleted)
	fmt.Fprintf(w, "# TYPE proxy_udp_flow_cleanups_total counter\nproxy_udp_flow_cleanups_total %d\n", m.flowsCleared)
	fmt.Fprintf(w, "# TYPE proxy_last_sync_seconds gauge\nproxy_last_sync_seconds %g\n", m.lastSeconds)
}
