package apiserver

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// metrics counts requests by method and code and sums their latency, in
// the Prometheus text format. Watches count when they end.
type metrics struct {
	mu       sync.Mutex
	requests map[string]int64   // "method code" -> count
	seconds  map[string]float64 // method -> total seconds
}

func newMetrics() *metrics {
	return &metrics{requests: map[string]int64{}, seconds: map[string]float64{}}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush keeps watches streaming through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (m *metrics) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		m.mu.Lock()
		m.requests[fmt.Sprintf("%s %d", r.Method, rec.code)]++
		m.seconds[r.Method] += time.Since(start).Seconds()
		m.mu.Unlock()
	})
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP apiserver_request_total Requests by method and HTTP status code.\n# TYPE apiserver_request_total counter\n")
	keys := make([]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		method, code, _ := strings.Cut(k, " ")
		fmt.Fprintf(&b, "apiserver_request_total{method=%q,code=%q} %d\n", method, code, m.requests[k])
	}
	b.WriteString("# HELP apiserver_request_seconds_total Time spent serving requests, by method.\n# TYPE apiserver_request_seconds_total counter\n")
	for method, secs := range m.seconds {
		fmt.Fprintf(&b, "apiserver_request_seconds_total{method=%q} %g\n", method, secs)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	w.Write([]byte(b.String()))
}
