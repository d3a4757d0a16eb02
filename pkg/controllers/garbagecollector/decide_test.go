package garbagecollector

import (
	"slices"
	"testing"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/meta"
)

func TestDecideFollowsKubernetesRules(t *testing.T) {
	refs := []meta.OwnerReference{{UID: "a"}, {UID: "b"}}
	tests := []struct {
		name   string
		refs   []meta.OwnerReference
		states []ownerState
		want   verdict
	}{
		{"no owners: not garbage", nil, nil, verdict{action: keep}},
		{"all owners alive", refs, []ownerState{solid, solid}, verdict{action: keep}},
		{"one owner alive holds it; the gone one is forgotten", refs, []ownerState{dangling, solid}, verdict{action: dropRefs, drop: []string{"a"}}},
		{"one owner alive holds it; the waiting one stops waiting", refs, []ownerState{solid, waiting}, verdict{action: dropRefs, drop: []string{"b"}}},
		{"all owners gone: background", refs, []ownerState{dangling, dangling}, verdict{action: deleteBackground}},
		{"an owner waits in the foreground: foreground", refs, []ownerState{dangling, waiting}, verdict{action: deleteForeground}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.refs, tt.states)
			if got.action != tt.want.action || !slices.Equal(got.drop, tt.want.drop) {
				t.Errorf("decide(%v) = %v %v; want %v %v", tt.states, got.action, got.drop, tt.want.action, tt.want.drop)
			}
		})
	}
}

func TestQueueKeysRoundTrip(t *testing.T) {
	for _, k := range apis.All() {
		ref := objRef{kind: k, name: "x"}
		if k.Namespaced {
			ref.namespace = "ns"
		}
		got, err := parseKey(ref.key())
		if err != nil || got != ref {
			t.Errorf("parseKey(%q) = %v, %v; want %v", ref.key(), got, err, ref)
		}
	}
}

func TestOwnerRefResolvesGroupFromAPIVersion(t *testing.T) {
	dep := &meta.ObjectMeta{Namespace: "ns"}
	obj := struct {
		meta.TypeMeta
		*meta.ObjectMeta
	}{ObjectMeta: dep}
	tests := []struct {
		ref      meta.OwnerReference
		want     string
		resolves bool
	}{
		{meta.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs"}, "replicasets.apps/ns/rs", true},
		{meta.OwnerReference{APIVersion: "v1", Kind: "Node", Name: "n1"}, "nodes/n1", true},
		{meta.OwnerReference{APIVersion: "example.com/v1", Kind: "Widget", Name: "w"}, "", false},
	}
	for _, tt := range tests {
		got, ok := ownerRef(&obj, tt.ref)
		if ok != tt.resolves || (ok && got.key() != tt.want) {
			t.Errorf("ownerRef(%s %s) = %v, %v; want %q, %v", tt.ref.APIVersion, tt.ref.Kind, got, ok, tt.want, tt.resolves)
		}
	}
}
