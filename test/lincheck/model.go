// Package lincheck is the sequential specification that the linearizability
// test (test/e2e/linearizability_test.go) checks minik8s' API against with
// porcupine (github.com/anishathalye/porcupine), as etcd's robustness tests
// check etcd: a register per object whose writes are compare-and-swaps on
// the resourceVersion (metadata.resourceVersion, Kubernetes' optimistic
// concurrency).
//
// The caller records one Operation per client call, with call and return
// times, an Input (Read or Write) and an Output (ReadResult or
// WriteResult). A call whose outcome the client never learned (timeout,
// connection reset while the API server was killed) is recorded as a
// Write with Unknown set and Return = math.MaxInt64: it may have taken
// effect at any point after its call, or never; reads that fail are
// simply left out (they change nothing). Every write must carry a value
// no other write uses, so that a read says which write it saw.
//
// The package is pure: no clock, no network; the test does the I/O.
package lincheck

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// Input is what a client asked: a read of Key, or (Write) a
// compare-and-swap of Key from resourceVersion ExpectRV to Value.
type Input struct {
	Key      string
	Write    bool
	ExpectRV uint64
	Value    string
}

// Output is what the client got back.
type Output struct {
	// Value and RV: a read's answer; a successful write's new RV.
	Value string
	RV    uint64
	// Conflict: the write was refused with 409 (the RV was not current).
	Conflict bool
	// Unknown: no answer (timeout, connection error); the write may or
	// may not have happened. The Operation's Return must be MaxInt64.
	Unknown bool
}

// state is one possible value of a register. RV 0 means "some RV greater
// than Floor that no client has seen yet": the register's first state,
// and the state after a write whose answer was lost.
type state struct {
	Value string
	RV    uint64
	Floor uint64
}

// InitialValue is the value every register is created with before traffic
// starts; its RV is learned from the first read.
const InitialValue = "init"

// step returns every state the register can be in after op, none if the
// op's output is impossible from s.
func step(s state, in Input, out Output) []state {
	if !in.Write {
		if out.Value != s.Value {
			return nil
		}
		if s.RV == 0 { // the first client to see it learns the RV
			if out.RV > s.Floor {
				return []state{{Value: s.Value, RV: out.RV}}
			}
			return nil
		}
		if out.RV == s.RV {
			return []state{s}
		}
		return nil
	}
	// matches: whether the CAS's expected RV is the current one; with an
	// RV nobody saw yet both answers are possible.
	var cases []state
	if s.RV == 0 {
		if in.ExpectRV > s.Floor {
			cases = append(cases, state{Value: s.Value, RV: in.ExpectRV})
		}
	} else if in.ExpectRV == s.RV {
		cases = append(cases, s)
	}
	matched := len(cases) > 0
	mismatch := s.RV == 0 || in.ExpectRV != s.RV
	var next []state
	switch {
	case out.Unknown:
		// Linearized here, the write happened (if the RV matched: a CAS is
		// deterministic), with an RV nobody saw; "never happened" is the
		// linearization at the end of history, which Return=MaxInt64 allows.
		for _, c := range cases {
			next = append(next, state{Value: in.Value, Floor: c.RV})
		}
		if mismatch {
			next = append(next, s)
		}
	case out.Conflict:
		if mismatch {
			next = append(next, s)
		}
	default: // acknowledged: the RV matched and the new RV is greater
		if matched && out.RV > cases[0].RV {
			next = append(next, state{Value: in.Value, RV: out.RV})
		}
	}
	return next
}

// Model is the resourceVersion compare-and-swap register, partitioned by
// key (objects are independent registers).
func Model() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Init: func() []interface{} { return []interface{}{state{Value: InitialValue}} },
		Step: func(st, in, out interface{}) []interface{} {
			var res []interface{}
			for _, s := range step(st.(state), in.(Input), out.(Output)) {
				res = append(res, s)
			}
			return res
		},
		Equal:             func(a, b interface{}) bool { return a.(state) == b.(state) },
		DescribeOperation: describe,
		DescribeState:     func(s interface{}) string { return fmt.Sprintf("%+v", s) },
	}
	m := nm.ToModel()
	m.Partition = byKey
	return m
}

func byKey(history []porcupine.Operation) [][]porcupine.Operation {
	idx := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		k := op.Input.(Input).Key
		i, ok := idx[k]
		if !ok {
			i = len(parts)
			idx[k] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

func describe(in, out interface{}) string {
	i, o := in.(Input), out.(Output)
	if !i.Write {
		return fmt.Sprintf("get(%s) -> (%s, %d)", i.Key, o.Value, o.RV)
	}
	res := fmt.Sprintf("rv %d", o.RV)
	switch {
	case o.Unknown:
		res = "unknown"
	case o.Conflict:
		res = "409"
	}
	return fmt.Sprintf("cas(%s, rv %d, %s) -> %s", i.Key, i.ExpectRV, i.Value, res)
}
