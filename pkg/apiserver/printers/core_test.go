package printers

import (
	"testing"
	"time"

	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func TestSmallKindsColumns(t *testing.T) {
	m := meta.ObjectMeta{Name: "x", CreationTimestamp: ago(100 * 24 * time.Hour)}
	for _, tc := range []struct {
		resource, group string
		obj             meta.Object
		want            map[string]any
	}{
		{"namespaces", "", &core.Namespace{ObjectMeta: m, Status: core.NamespaceStatus{Phase: core.NamespaceActive}},
			map[string]any{"Name": "x", "Status": "Active", "Age": "100d"}},
		{"configmaps", "", &core.ConfigMap{ObjectMeta: m,
			Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {0}}},
			map[string]any{"Data": int64(3), "Age": "100d"}},
		{"secrets", "", &core.Secret{ObjectMeta: m, Type: core.SecretTypeOpaque,
			Data: map[string][]byte{"user": []byte("admin"), "password": []byte("s3cret")}},
			map[string]any{"Type": "Opaque", "Data": int64(2)}},
		{"serviceaccounts", "", &core.ServiceAccount{ObjectMeta: m, Secrets: []core.ObjectReference{{Name: "token"}}},
			map[string]any{"Secrets": int64(1)}},
		{"leases", "coordination.k8s.io", &coordination.Lease{ObjectMeta: m,
			Spec: coordination.LeaseSpec{HolderIdentity: ptr("node-1")}},
			map[string]any{"Holder": "node-1", "Age": "100d"}},
		{"leases", "coordination.k8s.io", &coordination.Lease{}, map[string]any{"Holder": ""}},
	} {
		checkCells(t, tc.resource, row(t, tc.group, tc.resource, tc.obj), tc.want)
	}
}
