// Package field describes validation failures: which field (as a path such
// as spec.containers[0].image) is wrong and why. Validation functions
// return an ErrorList holding every bad field at once, so a user fixes a
// manifest in one round trip; the API server turns the list into the
// details.causes of a 422 Status.
package field

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Path is a field path built up while validation walks an object.
// The zero/nil Path is the root.
type Path struct {
	name   string // a field name, or "" for an index/key step
	index  string // "[3]" or "[key]" for index steps
	parent *Path
}

// NewPath starts a path at a root field name, with optional more names.
func NewPath(name string, more ...string) *Path {
	p := &Path{name: name}
	for _, m := range more {
		p = p.Child(m)
	}
	return p
}

// Child returns the path to a named sub-field.
func (p *Path) Child(name string, more ...string) *Path {
	c := &Path{name: name, parent: p}
	for _, m := range more {
		c = c.Child(m)
	}
	return c
}

// Index returns the path to element i of a list.
func (p *Path) Index(i int) *Path { return &Path{index: "[" + strconv.Itoa(i) + "]", parent: p} }

// Key returns the path to the value under key k of a map.
func (p *Path) Key(k string) *Path { return &Path{index: "[" + k + "]", parent: p} }

// String renders the path as Kubernetes does: a.b[0].c[key].
func (p *Path) String() string {
	if p == nil {
		return "<nil>"
	}
	var parts []*Path
	for q := p; q != nil; q = q.parent {
		parts = append(parts, q)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		q := parts[i]
		if q.index != "" {
			b.WriteString(q.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(q.name)
	}
	return b.String()
}

// ErrorType says what kind of problem a field has. The values are the
// StatusCause reasons Kubernetes uses.
type ErrorType string

// Error types.
const (
	ErrorTypeRequired     ErrorType = "FieldValueRequired"
	ErrorTypeInvalid      ErrorType = "FieldValueInvalid"
	ErrorTypeNotSupported ErrorType = "FieldValueNotSupported"
	ErrorTypeDuplicate    ErrorType = "FieldValueDuplicate"
	ErrorTypeForbidden    ErrorType = "FieldValueForbidden"
	ErrorTypeTooLong      ErrorType = "FieldValueTooLong"
	ErrorTypeNotFound     ErrorType = "FieldValueNotFound"
)

// Error is one bad field.
type Error struct {
	Type     ErrorType
	Field    string
	BadValue any
	Detail   string
}

// Error renders "field: Type description: detail" as Kubernetes prints it.
func (e *Error) Error() string { return e.Field + ": " + e.Message() }

// Message is the error without the field path in front.
func (e *Error) Message() string {
	var s string
	switch e.Type {
	case ErrorTypeRequired:
		s = "Required value"
	case ErrorTypeForbidden:
		s = "Forbidden"
	case ErrorTypeTooLong:
		s = "Too long"
	case ErrorTypeInvalid:
		s = "Invalid value: " + quote(e.BadValue)
	case ErrorTypeNotSupported:
		s = "Unsupported value: " + quote(e.BadValue)
	case ErrorTypeDuplicate:
		s = "Duplicate value: " + quote(e.BadValue)
	case ErrorTypeNotFound:
		s = "Not found: " + quote(e.BadValue)
	default:
		s = string(e.Type)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func quote(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "null"
	case fmt.Stringer:
		return strconv.Quote(x.String())
	case []string:
		return fmt.Sprintf("%#v", x) // Kubernetes prints lists Go-style: []string{"a"}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// Required reports a missing value.
func Required(p *Path, detail string) *Error {
	return &Error{Type: ErrorTypeRequired, Field: p.String(), Detail: detail}
}

// Invalid reports a value that is not acceptable.
func Invalid(p *Path, value any, detail string) *Error {
	return &Error{Type: ErrorTypeInvalid, Field: p.String(), BadValue: value, Detail: detail}
}

// NotSupported reports a value outside a fixed set.
func NotSupported(p *Path, value any, valid []string) *Error {
	detail := ""
	if len(valid) > 0 {
		q := make([]string, len(valid))
		for i, v := range valid {
			q[i] = strconv.Quote(v)
		}
		detail = "supported values: " + strings.Join(q, ", ")
	}
	return &Error{Type: ErrorTypeNotSupported, Field: p.String(), BadValue: value, Detail: detail}
}

// Duplicate reports a value that must be unique but is not.
func Duplicate(p *Path, value any) *Error {
	return &Error{Type: ErrorTypeDuplicate, Field: p.String(), BadValue: value}
}

// Forbidden reports a field that may not be set or changed.
func Forbidden(p *Path, detail string) *Error {
	return &Error{Type: ErrorTypeForbidden, Field: p.String(), Detail: detail}
}

// TooLong reports a value over its length limit.
func TooLong(p *Path, value any, max int) *Error {
	return &Error{Type: ErrorTypeTooLong, Field: p.String(), BadValue: value,
		Detail: fmt.Sprintf("must have at most %d bytes", max)}
}

// ErrorList is every problem found in one object.
type ErrorList []*Error

// ToAggregate joins the list into one error, or nil when empty.
func (l ErrorList) ToAggregate() error {
	if len(l) == 0 {
		return nil
	}
	return aggregate(l)
}

type aggregate ErrorList

func (a aggregate) Error() string {
	msgs := make([]string, len(a))
	for i, e := range a {
		msgs[i] = e.Error()
	}
	if len(msgs) == 1 {
		return msgs[0]
	}
	return "[" + strings.Join(msgs, ", ") + "]"
}
