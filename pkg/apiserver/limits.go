package apiserver

import (
	"net/http"
	"strings"
	"time"

	"minik8s/pkg/apis/apierrors"
)

// Kubernetes' defaults for --max-requests-inflight,
// --max-mutating-requests-inflight and --request-timeout.
const (
	DefaultMaxRequestsInflight         = 400
	DefaultMaxMutatingRequestsInflight = 200
	DefaultRequestTimeout              = 60 * time.Second
)

// inflight bounds the requests being served, reads and writes apart (a
// flood of one kind cannot starve the other), as Kubernetes'
// WithMaxInFlightLimit does. A nil channel means no limit.
type inflight struct {
	reads, writes chan struct{}
}

func newInflight(reads, writes int) *inflight {
	l := &inflight{}
	if reads > 0 {
		l.reads = make(chan struct{}, reads)
	}
	if writes > 0 {
		l.writes = make(chan struct{}, writes)
	}
	return l
}

// isLongRunning says whether a request streams for as long as the client
// wants (watches, followed logs, exec and friends): those are neither
// counted in flight nor timed out.
func isLongRunning(r *http.Request) bool {
	q := r.URL.Query()
	if q.Get("watch") == "true" || q.Get("watch") == "1" {
		return true
	}
	p := r.URL.Path
	if strings.HasSuffix(p, "/log") && (q.Get("follow") == "true" || q.Get("follow") == "1") {
		return true
	}
	for _, sub := range []string{"/exec", "/attach", "/portforward", "/proxy"} {
		if strings.HasSuffix(p, sub) || strings.Contains(p, sub+"/") {
			return true
		}
	}
	return false
}

// withLimits answers 429 with Retry-After: 1 beyond the in-flight limits
// and bounds non-long-running requests by timeout. Probes are exempt, so
// a flooded server still reports itself alive.
func (s *Server) withLimits(next http.Handler, l *inflight, timeout time.Duration) http.Handler {
	timed := next
	if timeout > 0 {
		body := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: request did not complete within the allotted timeout","reason":"Timeout","code":503}`
		timed = http.TimeoutHandler(next, timeout, body)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if anonymousPaths[r.URL.Path] || isLongRunning(r) {
			next.ServeHTTP(w, r)
			return
		}
		sem := l.reads
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			sem = l.writes
		}
		if sem != nil {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			default:
				w.Header().Set("Retry-After", "1")
				writeError(w, r, apierrors.New(apierrors.ErrTooManyRequests, "Too many requests, please try again later."))
				return
			}
		}
		timed.ServeHTTP(w, r)
	})
}
