// Package intstr holds IntOrString, the Kubernetes field type that is
// either a number or a string: a port given by number or by name, a
// rolling-update budget given as a count or a percentage. It is pure data.
package intstr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Type says which half of an IntOrString is set.
type Type int

// The two types.
const (
	Int    Type = iota // IntVal is set
	String             // StrVal is set
)

// IntOrString holds an int32 or a string. On the wire it is a bare JSON
// number or a JSON string.
type IntOrString struct {
	Type   Type
	IntVal int32
	StrVal string
}

// FromInt returns an Int IntOrString.
func FromInt(i int) IntOrString { return IntOrString{Type: Int, IntVal: int32(i)} }

// FromString returns a String IntOrString.
func FromString(s string) IntOrString { return IntOrString{Type: String, StrVal: s} }

// Parse returns an Int when s is a decimal integer, else a String.
func Parse(s string) IntOrString {
	i, err := strconv.Atoi(s)
	if err != nil {
		return FromString(s)
	}
	return FromInt(i)
}

// String returns the string, or the decimal form of the int.
func (v IntOrString) String() string {
	if v.Type == String {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// IntValue returns the int, or the string parsed as a decimal (0 if it
// is not one).
func (v IntOrString) IntValue() int {
	if v.Type == String {
		i, _ := strconv.Atoi(v.StrVal)
		return i
	}
	return int(v.IntVal)
}

// IsZero says whether v is unset: the int 0 or the empty string.
func (v IntOrString) IsZero() bool {
	return v.Type == Int && v.IntVal == 0 || v.Type == String && v.StrVal == ""
}

// MarshalJSON encodes a number or a string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.Type == String {
		return json.Marshal(v.StrVal)
	}
	return json.Marshal(v.IntVal)
}

// UnmarshalJSON accepts a JSON string or an integer.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v.Type, v.IntVal = String, 0
		return json.Unmarshal(b, &v.StrVal)
	}
	v.Type, v.StrVal = Int, ""
	return json.Unmarshal(b, &v.IntVal)
}

// GetScaledValueFromIntOrPercent resolves v against total: an int is
// returned as is, a percentage "25%" is that share of total, rounded up
// or down as asked. Any other string is an error. This is how rolling
// updates turn maxSurge/maxUnavailable into pod counts.
func GetScaledValueFromIntOrPercent(v *IntOrString, total int, roundUp bool) (int, error) {
	if v == nil {
		return 0, errors.New("nil value for IntOrString")
	}
	if v.Type == Int {
		return int(v.IntVal), nil
	}
	s, ok := strings.CutSuffix(v.StrVal, "%")
	if !ok {
		return 0, fmt.Errorf("invalid value for IntOrString: invalid type: string is not a percentage")
	}
	pct, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("invalid value for IntOrString: invalid value %q: %v", v.StrVal, err)
	}
	scaled := pct * total
	if roundUp && scaled%100 != 0 && scaled > 0 {
		return scaled/100 + 1, nil
	}
	if !roundUp && scaled%100 != 0 && scaled < 0 {
		return scaled/100 - 1, nil
	}
	return scaled / 100, nil
}
