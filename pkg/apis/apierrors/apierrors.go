// Package apierrors holds the few error categories of the minik8s API and
// is the one place that maps them to HTTP status codes and Status reasons,
// and back. Code below the HTTP layer wraps a sentinel with context
// (fmt.Errorf("pod %q: %w", name, apierrors.ErrNotFound)); the API server
// turns any error into a Status with ToStatus; the client turns a Status
// back into an error with FromStatus, so errors.Is works on both sides.
package apierrors

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/meta"
)

// The error categories. Check them with errors.Is.
var (
	ErrNotFound         = errors.New("not found")
	ErrAlreadyExists    = errors.New("already exists")
	ErrConflict         = errors.New("conflict")
	ErrInvalid          = errors.New("invalid")
	ErrBadRequest       = errors.New("bad request")
	ErrGone             = errors.New("gone")
	ErrForbidden        = errors.New("forbidden")
	ErrUnauthorized     = errors.New("unauthorized")
	ErrMethodNotAllowed = errors.New("method not allowed")
	ErrTooLarge         = errors.New("request entity too large")
	ErrUnsupportedMedia = errors.New("unsupported media type")
	ErrNotAcceptable    = errors.New("not acceptable")
	ErrTooManyRequests  = errors.New("too many requests")
	ErrUnavailable      = errors.New("service unavailable")
	ErrTimeout          = errors.New("timeout")
)

var categories = []struct {
	err    error
	code   int32
	reason string
}{
	{ErrNotFound, http.StatusNotFound, meta.ReasonNotFound},
	{ErrAlreadyExists, http.StatusConflict, meta.ReasonAlreadyExists},
	{ErrConflict, http.StatusConflict, meta.ReasonConflict},
	{ErrInvalid, http.StatusUnprocessableEntity, meta.ReasonInvalid},
	{ErrBadRequest, http.StatusBadRequest, meta.ReasonBadRequest},
	{ErrGone, http.StatusGone, meta.ReasonExpired},
	{ErrForbidden, http.StatusForbidden, meta.ReasonForbidden},
	{ErrUnauthorized, http.StatusUnauthorized, meta.ReasonUnauthorized},
	{ErrMethodNotAllowed, http.StatusMethodNotAllowed, meta.ReasonMethodNotAllowed},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, meta.ReasonRequestEntityTooLarge},
	{ErrUnsupportedMedia, http.StatusUnsupportedMediaType, meta.ReasonUnsupportedMediaType},
	{ErrNotAcceptable, http.StatusNotAcceptable, meta.ReasonNotAcceptable},
	{ErrTooManyRequests, http.StatusTooManyRequests, meta.ReasonTooManyRequests},
	{ErrUnavailable, http.StatusServiceUnavailable, meta.ReasonServiceUnavailable},
	{ErrTimeout, http.StatusGatewayTimeout, meta.ReasonTimeout},
}

// StatusError is an error that carries the full Status to send or that was
// received. Is reports true for its category's sentinel.
type StatusError struct {
	Status meta.Status
}

func (e *StatusError) Error() string { return e.Status.Message }

// Is makes errors.Is(err, ErrNotFound) work for a received Status.
func (e *StatusError) Is(target error) bool {
	for _, c := range categories {
		if c.err == target {
			return c.reason == e.Status.Reason || (c.code == e.Status.Code && e.Status.Reason == "")
		}
	}
	return false
}

// Resource names the object an error is about, for Status details.
type Resource struct {
	Group, Kind, Name string
}

// NewNotFound is Kubernetes' `pods "x" not found`.
func NewNotFound(r Resource, resource string) error {
	return newDetailed(ErrNotFound, r, fmt.Sprintf("%s %q not found", qualified(resource, r.Group), r.Name))
}

// NewAlreadyExists is Kubernetes' `pods "x" already exists`.
func NewAlreadyExists(r Resource, resource string) error {
	return newDetailed(ErrAlreadyExists, r, fmt.Sprintf("%s %q already exists", qualified(resource, r.Group), r.Name))
}

// NewConflict is Kubernetes' `Operation cannot be fulfilled on pods "x": why`.
func NewConflict(r Resource, resource, why string) error {
	return newDetailed(ErrConflict, r, fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", qualified(resource, r.Group), r.Name, why))
}

// NewInvalid is a 422 with one cause per bad field.
func NewInvalid(r Resource, errs field.ErrorList) error {
	st := status(ErrInvalid, "")
	st.Details = &meta.StatusDetails{Name: r.Name, Group: r.Group, Kind: r.Kind}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
		st.Details.Causes = append(st.Details.Causes, meta.StatusCause{
			Type: string(e.Type), Message: e.Message(), Field: e.Field,
		})
	}
	agg := strings.Join(msgs, ", ")
	if len(msgs) > 1 {
		agg = "[" + agg + "]"
	}
	st.Message = fmt.Sprintf("%s %q is invalid: %s", r.Kind, r.Name, agg)
	return &StatusError{Status: st}
}

// New returns an error of category cat with message msg.
func New(cat error, format string, args ...any) error {
	return &StatusError{Status: status(cat, fmt.Sprintf(format, args...))}
}

func newDetailed(cat error, r Resource, msg string) error {
	st := status(cat, msg)
	st.Details = &meta.StatusDetails{Name: r.Name, Group: r.Group, Kind: r.Kind}
	return &StatusError{Status: st}
}

func qualified(resource, group string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

func status(cat error, msg string) meta.Status {
	st := meta.Status{
		TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   meta.StatusFailure,
		Message:  msg,
		Code:     http.StatusInternalServerError,
		Reason:   meta.ReasonInternalError,
	}
	for _, c := range categories {
		if c.err == cat {
			st.Code, st.Reason = c.code, c.reason
		}
	}
	return st
}

// ToStatus turns any error into the Status to send. A StatusError is sent as
// it is; a wrapped sentinel gets its category's code; anything else is a 500.
func ToStatus(err error) *meta.Status {
	var se *StatusError
	if errors.As(err, &se) {
		st := se.Status
		return &st
	}
	for _, c := range categories {
		if errors.Is(err, c.err) {
			st := status(c.err, err.Error())
			return &st
		}
	}
	st := status(nil, err.Error())
	return &st
}

// FromStatus turns a received Status back into an error that errors.Is
// matches against the sentinels.
func FromStatus(st *meta.Status) error {
	return &StatusError{Status: *st}
}

// Code returns the HTTP status code for err.
func Code(err error) int { return int(ToStatus(err).Code) }
