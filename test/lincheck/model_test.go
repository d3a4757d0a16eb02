package lincheck

import (
	"math"
	"testing"

	"github.com/anishathalye/porcupine"
)

func rd(c int, call, ret int64, v string, rv uint64) porcupine.Operation {
	return porcupine.Operation{ClientId: c, Input: Input{Key: "a"}, Call: call, Output: Output{Value: v, RV: rv}, Return: ret}
}

func cas(c int, call, ret int64, expect uint64, v string, out Output) porcupine.Operation {
	if out.Unknown {
		ret = math.MaxInt64
	}
	return porcupine.Operation{ClientId: c, Input: Input{Key: "a", Write: true, ExpectRV: expect, Value: v}, Call: call, Output: out, Return: ret}
}

// TestModelTellsLinearizableFromNot: the checker is only worth running if
// the model rejects the anomalies a broken CAS would produce.
func TestModelTellsLinearizableFromNot(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []porcupine.Operation
		want bool
	}{
		{"read, write, read", []porcupine.Operation{
			rd(0, 0, 1, "init", 5), cas(0, 2, 3, 5, "x", Output{RV: 6}), rd(1, 4, 5, "x", 6),
		}, true},
		{"stale read after an acknowledged write", []porcupine.Operation{
			rd(0, 0, 1, "init", 5), cas(0, 2, 3, 5, "x", Output{RV: 6}), rd(1, 4, 5, "init", 5),
		}, false},
		{"lost update: two writes succeed from the same RV", []porcupine.Operation{
			rd(0, 0, 1, "init", 5), cas(0, 2, 4, 5, "x", Output{RV: 6}), cas(1, 2, 4, 5, "y", Output{RV: 7}),
		}, false},
		{"a concurrent loser gets 409", []porcupine.Operation{
			rd(0, 0, 1, "init", 5), cas(0, 2, 4, 5, "x", Output{RV: 6}), cas(1, 2, 4, 5, "y", Output{Conflict: true}),
		}, true},
		{"409 with the current RV and no other writer", []porcupine.Operation{
			rd(0, 0, 1, "init", 5), cas(0, 2, 3, 5, "x", Output{Conflict: true}), rd(1, 4, 5, "init", 5),
		}, false},
		{"a new RV must be greater", []porcupine.Operation{
			rd(0, 0, 1, "init", 5), cas(0, 2, 3, 5, "x", Output{RV: 4}),
		}, false},
		{"an unknown write that took effect", []porcupine.Operation{
			rd(0, 0, 1, "init", 5), cas(0, 2, 0, 5, "x", Output{Unknown: true}), rd(1, 10, 11, "x", 9),
			cas(1, 12, 13, 9, "y", Output{RV: 10}), rd(0, 14, 15, "y", 10),
		}, true},
		{"an unknown write that never happened", []porcupine.Operation{
			rd(0, 0, 1, "init", 5), cas(0, 2, 0, 5, "x", Output{Unknown: true}), rd(1, 10, 11, "init", 5),
			cas(1, 12, 13, 5, "y", Output{RV: 10}), rd(0, 14, 15, "y", 10),
		}, true},
		{"an unknown write seen, then unseen", []porcupine.Operation{
			rd(0, 0, 1, "init", 5), cas(0, 2, 0, 5, "x", Output{Unknown: true}), rd(1, 10, 11, "x", 9),
			rd(1, 12, 13, "init", 5),
		}, false},
		{"a value read before it was written", []porcupine.Operation{
			rd(1, 0, 1, "x", 9), cas(0, 2, 3, 5, "x", Output{RV: 9}),
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := porcupine.CheckOperations(Model(), tc.ops); got != tc.want {
				t.Errorf("linearizable = %v; want %v", got, tc.want)
			}
		})
	}
}
