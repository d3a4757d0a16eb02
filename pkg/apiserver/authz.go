package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/authorization"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/rbac"
)

// attributes are what authorization, admission and audit know about a
// request, derived from its method and path alone (Kubernetes'
// RequestInfo), so they exist even for paths that will 404.
type attributes struct {
	User            *UserInfo
	ResourceRequest bool
	Verb            string // get list watch create update patch delete deletecollection; or the lower-case method for paths
	APIGroup        string
	APIVersion      string
	Resource        string
	Subresource     string
	Namespace       string
	Name            string
	Path            string
	// FieldSelector is the request's, for the Node authorizer's check that
	// a node lists only its own pods.
	FieldSelector string
}

func (a *attributes) rbacRequest() rbac.Request {
	return rbac.Request{Verb: a.Verb, APIGroup: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource,
		Name: a.Name, Path: a.Path, ResourceRequest: a.ResourceRequest}
}

// namespaceSubresources address the namespace object itself:
// /api/v1/namespaces/{name}/status is the namespace's status.
var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

// requestAttributes follows Kubernetes' RequestInfoFactory.
func requestAttributes(r *http.Request) *attributes {
	a := &attributes{Path: r.URL.Path, Verb: strings.ToLower(r.Method)}
	if a.Verb == "head" {
		a.Verb = "get"
	}
	parts := splitPath(r.URL.Path)
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		a.APIVersion, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		a.APIGroup, a.APIVersion, parts = parts[1], parts[2], parts[3:]
	default:
		return a
	}
	a.ResourceRequest = true
	if parts[0] == "namespaces" && len(parts) > 1 {
		a.Namespace = parts[1]
		if len(parts) > 2 && !namespaceSubresources[parts[2]] {
			parts = parts[2:]
		}
	}
	a.Resource = parts[0]
	if len(parts) > 1 {
		a.Name = parts[1]
	}
	if len(parts) > 2 {
		a.Subresource = strings.Join(parts[2:], "/")
	}
	q := r.URL.Query()
	a.FieldSelector = q.Get("fieldSelector")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case q.Get("watch") == "true" || q.Get("watch") == "1":
			a.Verb = "watch"
		case a.Name == "":
			a.Verb = "list"
		default:
			a.Verb = "get"
		}
	case http.MethodPost:
		a.Verb = "create"
	case http.MethodPut:
		a.Verb = "update"
	case http.MethodPatch:
		a.Verb = "patch"
	case http.MethodDelete:
		a.Verb = "delete"
		if a.Name == "" {
			a.Verb = "deletecollection"
		}
	}
	return a
}

// authorize asks each configured authorizer in turn; the first to allow
// wins. The reasons of the others explain a denial.
func (s *Server) authorize(ctx context.Context, a *attributes) (bool, string, error) {
	var reasons []string
	for _, mode := range s.auth.Modes {
		var ok bool
		var reason string
		var err error
		switch mode {
		case "AlwaysAllow":
			ok = true
		case "Node":
			ok, reason, err = s.authorizeNode(ctx, a)
		case "RBAC":
			ok, reason, err = s.rbac.authorize(ctx, a)
		}
		if err != nil {
			return false, "", err
		}
		if ok {
			return true, "", nil
		}
		if reason != "" {
			reasons = append(reasons, reason)
		}
	}
	return false, strings.Join(reasons, "; "), nil
}

// withAuthorization refuses what the user may not do with Kubernetes'
// 403 message, then applies NodeRestriction to what nodes create.
func (s *Server) withAuthorization(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, st := withState(r)
		a := st.attrs
		if a == nil {
			a = requestAttributes(r)
			st.attrs = a
		}
		a.User = st.user
		if a.User == nil { // an anonymous probe: authentication let it through
			next.ServeHTTP(w, r)
			return
		}
		ok, reason, err := s.authorize(r.Context(), a)
		if err != nil {
			writeError(w, r, fmt.Errorf("authorizing the request: %w", err))
			return
		}
		if !ok {
			writeError(w, r, forbidden(a, reason))
			return
		}
		if err := s.admitNodeRequest(r, a); err != nil {
			writeError(w, r, err)
			return
		}
		if a.APIGroup == rbac.GroupName && a.Verb != "get" && a.Verb != "list" && a.Verb != "watch" {
			defer s.rbac.invalidate()
		}
		next.ServeHTTP(w, r)
	})
}

// forbidden is Kubernetes' 403:
// pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "dev"
func forbidden(a *attributes, reason string) error {
	var msg string
	if !a.ResourceRequest {
		msg = fmt.Sprintf("forbidden: User %q cannot %s path %q", a.User.Name, a.Verb, a.Path)
	} else {
		res := a.Resource
		if a.APIGroup != "" {
			res += "." + a.APIGroup
		}
		subject := res
		if a.Name != "" {
			subject = fmt.Sprintf("%s %q", res, a.Name)
		}
		full := a.Resource
		if a.Subresource != "" {
			full += "/" + a.Subresource
		}
		scope := "at the cluster scope"
		if a.Namespace != "" {
			scope = fmt.Sprintf("in the namespace %q", a.Namespace)
		}
		msg = fmt.Sprintf("%s is forbidden: User %q cannot %s resource %q in API group %q %s",
			subject, a.User.Name, a.Verb, full, a.APIGroup, scope)
	}
	if reason != "" {
		msg += ": " + reason
	}
	return apierrors.New(apierrors.ErrForbidden, "%s", msg)
}

// serveSelfSubjectAccessReview answers "may I?" for the requesting user:
// POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews.
func (s *Server) serveSelfSubjectAccessReview(w http.ResponseWriter, r *http.Request) {
	var rev authorization.SelfSubjectAccessReview
	err := readReview(r, "SelfSubjectAccessReview", &rev)
	if err != nil {
		writeError(w, r, err)
		return
	}
	a := &attributes{User: UserFrom(r.Context())}
	switch spec := rev.Spec; {
	case spec.ResourceAttributes != nil:
		ra := spec.ResourceAttributes
		a.ResourceRequest, a.Verb, a.APIGroup, a.APIVersion = true, ra.Verb, ra.Group, ra.Version
		a.Resource, a.Subresource, a.Namespace, a.Name = ra.Resource, ra.Subresource, ra.Namespace, ra.Name
	case spec.NonResourceAttributes != nil:
		a.Verb, a.Path = spec.NonResourceAttributes.Verb, spec.NonResourceAttributes.Path
	default:
		writeError(w, r, apierrors.New(apierrors.ErrInvalid, "spec: exactly one of resourceAttributes or nonResourceAttributes must be given"))
		return
	}
	if s.auth == nil || a.User == nil {
		rev.Status = authorization.SubjectAccessReviewStatus{Allowed: true, Reason: "the server does not authorize requests"}
	} else {
		ok, reason, err := s.authorize(r.Context(), a)
		rev.Status = authorization.SubjectAccessReviewStatus{Allowed: ok, Reason: reason}
		if err != nil {
			rev.Status.EvaluationError = err.Error()
		}
	}
	rev.APIVersion, rev.Kind = authorization.GroupName+"/v1", "SelfSubjectAccessReview"
	rev.CreationTimestamp = meta.Time{}
	writeObject(w, r, http.StatusCreated, &rev)
}

// readReview decodes the body of a review (a POST only): JSON, YAML or the
// protobuf kubectl sends for the authorization group.
func readReview(r *http.Request, kind string, out any) error {
	if r.Method != http.MethodPost {
		return apierrors.New(apierrors.ErrMethodNotAllowed, "%s accepts only POST (create)", kind)
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	doc, _, err := toJSON(body, mediaType(r))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(doc, out); err != nil {
		return apierrors.New(apierrors.ErrBadRequest, "decoding the %s: %v", kind, err)
	}
	return nil
}

// serveSelfSubjectRulesReview is POST
// /apis/authorization.k8s.io/v1/selfsubjectrulesreviews (`kubectl auth
// can-i --list`): the RBAC rules that apply to the user in a namespace.
// The Node authorizer cannot list what it allows, so a node's list is
// marked incomplete, as in Kubernetes.
func (s *Server) serveSelfSubjectRulesReview(w http.ResponseWriter, r *http.Request) {
	var rev authorization.SelfSubjectRulesReview
	err := readReview(r, "SelfSubjectRulesReview", &rev)
	if err != nil {
		writeError(w, r, err)
		return
	}
	u := UserFrom(r.Context())
	st := &rev.Status
	switch {
	case s.auth == nil || u == nil:
		st.ResourceRules = []authorization.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
		st.NonResourceRules = []authorization.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}
	case s.rbac != nil:
		snap, err := s.rbac.snapshot(r.Context())
		if err != nil {
			st.EvaluationError, st.Incomplete = err.Error(), true
			break
		}
		for _, rule := range snap.rulesFor(u, rev.Spec.Namespace) {
			if len(rule.NonResourceURLs) > 0 {
				st.NonResourceRules = append(st.NonResourceRules, authorization.NonResourceRule{Verbs: rule.Verbs, NonResourceURLs: rule.NonResourceURLs})
			}
			if len(rule.Resources) > 0 {
				st.ResourceRules = append(st.ResourceRules, authorization.ResourceRule{Verbs: rule.Verbs,
					APIGroups: rule.APIGroups, Resources: rule.Resources, ResourceNames: rule.ResourceNames})
			}
		}
		st.Incomplete = u.inGroup("system:nodes") && slices.Contains(s.auth.Modes, "Node")
	}
	rev.APIVersion, rev.Kind = authorization.GroupName+"/v1", "SelfSubjectRulesReview"
	writeObject(w, r, http.StatusCreated, &rev)
}
