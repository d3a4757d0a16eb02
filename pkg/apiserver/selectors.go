package apiserver

import (
	"net/url"
	"strings"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
)

// filter is a list or watch request's label and field selectors.
type filter struct {
	labels labels.Selector // nil: everything
	fields []fieldRequirement
}

type fieldRequirement struct {
	path, value string
	not         bool
}

// parseFilter reads labelSelector and fieldSelector from the query.
// Field selectors accept only the fields the kind makes selectable, as
// Kubernetes does, so a typo is an error rather than an empty result.
func parseFilter(k *apis.Kind, q url.Values) (*filter, error) {
	f := &filter{}
	if s := q.Get("labelSelector"); s != "" {
		sel, err := labels.Parse(s)
		if err != nil {
			return nil, apierrors.New(apierrors.ErrBadRequest, "unable to parse requirement: %v", err)
		}
		f.labels = sel
	}
	s := q.Get("fieldSelector")
	if s == "" {
		return f, nil
	}
	allowed := append([]string{"metadata.name", "metadata.namespace"}, k.SelectableFields...)
	for _, term := range strings.Split(s, ",") {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		var req fieldRequirement
		var ok bool
		switch {
		case strings.Contains(term, "!="):
			req.path, req.value, ok = strings.Cut(term, "!=")
			req.not = true
		case strings.Contains(term, "=="):
			req.path, req.value, ok = strings.Cut(term, "==")
		default:
			req.path, req.value, ok = strings.Cut(term, "=")
		}
		req.path = strings.TrimSpace(req.path)
		if !ok || req.path == "" {
			return nil, apierrors.New(apierrors.ErrBadRequest, "invalid field selector %q: expected key=value, key==value or key!=value", term)
		}
		if !contains(allowed, req.path) {
			return nil, apierrors.New(apierrors.ErrBadRequest, "%q is not a known field selector for %s: only %s are supported",
				req.path, k.Resource, `"`+strings.Join(allowed, `", "`)+`"`)
		}
		f.fields = append(f.fields, req)
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// matches says whether obj passes the filter.
func (f *filter) matches(obj meta.Object) bool {
	if f == nil {
		return true
	}
	if f.labels != nil && !f.labels.Matches(obj.GetObjectMeta().Labels) {
		return false
	}
	for _, req := range f.fields {
		v, _ := fieldValue(obj, req.path)
		if (v == req.value) == req.not {
			return false
		}
	}
	return true
}

// empty says whether the filter lets everything through.
func (f *filter) empty() bool {
	return f == nil || (f.labels == nil && len(f.fields) == 0)
}
