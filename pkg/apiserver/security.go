package apiserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
)

// Security is what makes the API server safe to expose. The zero value is
// the local unauthenticated mode (every request allowed, no limits), for
// loopback plain HTTP only.
type Security struct {
	// Auth turns on authentication and authorization.
	Auth *AuthConfig
	// Encryption encrypts the listed resources in etcd.
	Encryption *Encryption
	// AuditLog receives one JSON line per request; nil: no audit.
	AuditLog io.Writer
	// MaxRequestsInflight and MaxMutatingRequestsInflight bound reads and
	// writes being served (0: unbounded); RequestTimeout bounds each
	// non-long-running request (0: none).
	MaxRequestsInflight         int
	MaxMutatingRequestsInflight int
	RequestTimeout              time.Duration
	// AgentTLS, when set, is how the API server reaches node agents
	// (logs): HTTPS with its kubelet client certificate, verifying each
	// agent's certificate for the node's name. Nil: plain HTTP.
	AgentTLS *tls.Config
}

func (s *Server) initSecurity() {
	if s.sec.Auth != nil {
		s.auth = s.sec.Auth
		if len(s.auth.Modes) == 0 {
			s.auth.Modes = []string{"Node", "RBAC"}
		}
		s.rbac = &rbacAuthorizer{s: s}
	}
	if s.sec.AuditLog != nil {
		s.audit = &auditLog{w: s.sec.AuditLog}
	}
}

// secure wraps the API in the request filters, outermost first, as
// Kubernetes orders them:
//
//  1. limits: refuse early what the server has no room for, before any
//     work (authentication costs a signature check or an etcd read);
//  2. audit: sees every answer, 401 and 403 included;
//  3. authentication: who is asking;
//  4. authorization (and NodeRestriction): may they.
func (s *Server) secure(h http.Handler) http.Handler {
	if s.auth != nil {
		h = s.withAuthorization(h)
		h = s.withAuthentication(h)
	}
	if s.audit != nil {
		h = s.withAudit(h)
	}
	if s.sec.MaxRequestsInflight > 0 || s.sec.MaxMutatingRequestsInflight > 0 || s.sec.RequestTimeout > 0 {
		h = s.withLimits(h, newInflight(s.sec.MaxRequestsInflight, s.sec.MaxMutatingRequestsInflight), s.sec.RequestTimeout)
	}
	return h
}

// bootstrapPolicy creates the default ClusterRoles and ClusterRoleBindings
// that do not exist yet (existing ones are the administrator's to change).
// Only a server that authorizes needs them.
func (s *Server) bootstrapPolicy(ctx context.Context) error {
	if s.auth == nil {
		return nil
	}
	var objs []meta.Object
	for _, o := range bootstrapClusterRoles() {
		objs = append(objs, o)
	}
	for _, o := range bootstrapClusterRoleBindings() {
		objs = append(objs, o)
	}
	for _, obj := range objs {
		k, _ := apis.ForObject(obj)
		if _, err := s.create(ctx, k, obj, false); err != nil && !errors.Is(err, apierrors.ErrAlreadyExists) {
			return fmt.Errorf("create %s %s: %w", k.Kind, obj.GetObjectMeta().Name, err)
		}
	}
	s.rbac.invalidate()
	return nil
}
