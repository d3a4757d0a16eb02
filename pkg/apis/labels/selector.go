// Package labels implements label selectors: parsing the Kubernetes
// selector syntax of ?labelSelector= ("app=web,tier in (fe,be),!canary"),
// converting a meta.LabelSelector from an object's spec, and matching a
// selector against an object's labels.
//
// Selectors are immutable values, safe to share between goroutines.
// The package is pure: no I/O.
package labels

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/validation"
)

// Operator is how a Requirement compares a label.
type Operator string

// Operators. Equals and DoubleEquals behave the same.
const (
	Equals       Operator = "="
	DoubleEquals Operator = "=="
	NotEquals    Operator = "!="
	In           Operator = "in"
	NotIn        Operator = "notin"
	Exists       Operator = "exists"
	DoesNotExist Operator = "!"
)

// Requirement is one condition on one label key. Values has exactly one
// element for Equals and NotEquals, at least one for In and NotIn, and
// none for Exists and DoesNotExist; it is sorted.
type Requirement struct {
	Key      string
	Operator Operator
	Values   []string
}

// NewRequirement checks and builds a Requirement.
func NewRequirement(key string, op Operator, values []string) (Requirement, error) {
	if msgs := validation.IsQualifiedName(key); len(msgs) > 0 {
		return Requirement{}, fmt.Errorf("invalid label key %q: %s", key, strings.Join(msgs, "; "))
	}
	switch op {
	case Equals, DoubleEquals, NotEquals:
		if len(values) != 1 {
			return Requirement{}, fmt.Errorf("key %q: exact-match operators need exactly one value", key)
		}
		if op == DoubleEquals {
			op = Equals
		}
	case In, NotIn:
		if len(values) == 0 {
			return Requirement{}, fmt.Errorf("key %q: for 'in', 'notin' operators, values set can't be empty", key)
		}
	case Exists, DoesNotExist:
		if len(values) != 0 {
			return Requirement{}, fmt.Errorf("key %q: values set must be empty for exists and does not exist", key)
		}
	default:
		return Requirement{}, fmt.Errorf("key %q: operator %q is not recognized", key, op)
	}
	for _, v := range values {
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			return Requirement{}, fmt.Errorf("invalid label value %q for key %q: %s", v, key, strings.Join(msgs, "; "))
		}
	}
	vals := slices.Clone(values)
	slices.Sort(vals)
	return Requirement{Key: key, Operator: op, Values: slices.Compact(vals)}, nil
}

// Matches says whether the label set satisfies r.
func (r Requirement) Matches(labels map[string]string) bool {
	v, ok := labels[r.Key]
	switch r.Operator {
	case Equals, DoubleEquals, In:
		return ok && slices.Contains(r.Values, v)
	case NotEquals, NotIn:
		return !ok || !slices.Contains(r.Values, v)
	case Exists:
		return ok
	case DoesNotExist:
		return !ok
	}
	return false
}

// String renders r in selector syntax.
func (r Requirement) String() string {
	switch r.Operator {
	case Exists:
		return r.Key
	case DoesNotExist:
		return "!" + r.Key
	case In, NotIn:
		return r.Key + " " + string(r.Operator) + " (" + strings.Join(r.Values, ",") + ")"
	}
	return r.Key + string(r.Operator) + r.Values[0]
}

// Selector matches label sets. Parse, SelectorFromSet and
// SelectorFromLabelSelector make one; implementations are immutable.
type Selector interface {
	// Matches says whether labels satisfy every requirement.
	Matches(labels map[string]string) bool
	// Empty says whether the selector matches everything.
	Empty() bool
	// String renders the selector in the syntax Parse reads, requirements
	// sorted by key. Everything and Nothing both render as "" (as in
	// Kubernetes), which parses as Everything.
	String() string
	// Requirements returns a copy of the requirements.
	Requirements() []Requirement
}

// conjunction is a Selector that ANDs its requirements, sorted by key.
// With none it matches everything.
type conjunction []Requirement

// nothing is the Selector that matches no label set.
type nothing struct{}

// Everything returns a selector that matches every label set.
func Everything() Selector { return conjunction(nil) }

// Nothing returns a selector that matches no label set (what a nil
// meta.LabelSelector means).
func Nothing() Selector { return nothing{} }

// New returns a selector of the given requirements.
func New(reqs ...Requirement) Selector {
	rs := slices.Clone(reqs)
	slices.SortStableFunc(rs, func(a, b Requirement) int { return strings.Compare(a.Key, b.Key) })
	return conjunction(rs)
}

func (c conjunction) Matches(labels map[string]string) bool {
	for _, r := range c {
		if !r.Matches(labels) {
			return false
		}
	}
	return true
}

func (c conjunction) Empty() bool { return len(c) == 0 }

func (c conjunction) Requirements() []Requirement { return slices.Clone([]Requirement(c)) }

func (c conjunction) String() string {
	parts := make([]string, len(c))
	for i, r := range c {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

func (nothing) Matches(map[string]string) bool { return false }
func (nothing) Empty() bool                    { return false }
func (nothing) String() string                 { return "" }
func (nothing) Requirements() []Requirement    { return nil }

// SelectorFromSet returns a selector requiring every key=value of set.
// The set is not validated: it comes from labels that already passed
// validation.
func SelectorFromSet(set map[string]string) Selector {
	var reqs []Requirement
	for _, k := range slices.Sorted(maps.Keys(set)) {
		reqs = append(reqs, Requirement{Key: k, Operator: Equals, Values: []string{set[k]}})
	}
	return conjunction(reqs)
}

// SelectorFromLabelSelector converts the selector of an object's spec. As
// in Kubernetes, nil matches nothing and an empty selector matches
// everything.
func SelectorFromLabelSelector(ls *meta.LabelSelector) (Selector, error) {
	if ls == nil {
		return Nothing(), nil
	}
	var reqs []Requirement
	for _, k := range slices.Sorted(maps.Keys(ls.MatchLabels)) {
		r, err := NewRequirement(k, Equals, []string{ls.MatchLabels[k]})
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
	}
	for _, e := range ls.MatchExpressions {
		var op Operator
		switch e.Operator {
		case meta.LabelSelectorOpIn:
			op = In
		case meta.LabelSelectorOpNotIn:
			op = NotIn
		case meta.LabelSelectorOpExists:
			op = Exists
		case meta.LabelSelectorOpDoesNotExist:
			op = DoesNotExist
		default:
			return nil, fmt.Errorf("%q is not a valid label selector operator", e.Operator)
		}
		r, err := NewRequirement(e.Key, op, e.Values)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
	}
	return New(reqs...), nil
}
