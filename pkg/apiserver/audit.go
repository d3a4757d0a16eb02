package apiserver

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// auditEvent is one line of the audit log: Kubernetes' audit.k8s.io/v1
// Event at the Metadata level (who did what to which object, and the
// answer; never request or response bodies, so Secrets stay out of it).
type auditEvent struct {
	Kind                     string       `json:"kind"`
	APIVersion               string       `json:"apiVersion"`
	Level                    string       `json:"level"`
	AuditID                  string       `json:"auditID"`
	Stage                    string       `json:"stage"`
	RequestURI               string       `json:"requestURI"`
	Verb                     string       `json:"verb"`
	User                     auditUser    `json:"user"`
	SourceIPs                []string     `json:"sourceIPs"`
	UserAgent                string       `json:"userAgent,omitempty"`
	ObjectRef                *auditObject `json:"objectRef,omitempty"`
	ResponseStatus           auditStatus  `json:"responseStatus"`
	RequestReceivedTimestamp time.Time    `json:"requestReceivedTimestamp"`
	StageTimestamp           time.Time    `json:"stageTimestamp"`
}

type auditUser struct {
	Username string   `json:"username"`
	UID      string   `json:"uid,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

type auditObject struct {
	Resource    string `json:"resource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

type auditStatus struct {
	Code int `json:"code"`
}

// auditLog writes one JSON line per request to w (a rotating file). Lines
// are written whole under a lock so concurrent requests never interleave.
type auditLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *auditLog) write(ev *auditEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(append(b, '\n'))
}

// withAudit records each request once it completes (for a watch, when
// it ends), with the user the authentication filter found.
func (s *Server) withAudit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, st := withState(r)
		if st.attrs == nil {
			st.attrs = requestAttributes(r)
		}
		start := s.now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		a := st.attrs
		ev := &auditEvent{
			Kind: "Event", APIVersion: "audit.k8s.io/v1", Level: "Metadata", AuditID: newAuditID(),
			Stage: "ResponseComplete", RequestURI: r.URL.RequestURI(), Verb: a.Verb,
			SourceIPs: []string{sourceIP(r)}, UserAgent: r.UserAgent(),
			ResponseStatus:           auditStatus{Code: rec.code},
			RequestReceivedTimestamp: start.UTC(), StageTimestamp: s.now().UTC(),
		}
		if u := st.user; u != nil {
			ev.User = auditUser{Username: u.Name, UID: u.UID, Groups: u.Groups}
		} else {
			ev.User = auditUser{Username: "system:anonymous", Groups: []string{"system:unauthenticated"}}
		}
		if a.ResourceRequest {
			ev.ObjectRef = &auditObject{Resource: a.Resource, Namespace: a.Namespace, Name: a.Name,
				APIGroup: a.APIGroup, APIVersion: a.APIVersion, Subresource: a.Subresource}
		}
		s.audit.write(ev)
	})
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func newAuditID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
