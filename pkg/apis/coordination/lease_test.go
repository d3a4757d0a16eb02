package coordination

import (
	"testing"

	"minik8s/pkg/apis/meta"
)

func TestValidateLease(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	tests := []struct {
		name     string
		duration *int32
		trans    *int32
		want     []string
	}{
		{"valid", i32(40), i32(0), nil},
		{"unset", nil, nil, nil},
		{"zero duration", i32(0), nil, []string{"spec.leaseDurationSeconds"}},
		{"negative transitions", i32(10), i32(-1), []string{"spec.leaseTransitions"}},
	}
	for _, tt := range tests {
		l := &Lease{ObjectMeta: meta.ObjectMeta{Name: "node-1", Namespace: "kube-node-lease"},
			Spec: LeaseSpec{LeaseDurationSeconds: tt.duration, LeaseTransitions: tt.trans}}
		errs := ValidateLease(l)
		if len(errs) != len(tt.want) {
			t.Errorf("%s: got %v; want errors at %v", tt.name, errs.ToAggregate(), tt.want)
			continue
		}
		for i, e := range errs {
			if e.Field != tt.want[i] {
				t.Errorf("%s: error at %s; want %s", tt.name, e.Field, tt.want[i])
			}
		}
	}
}
