package printers

import (
	"time"

	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
)

var namespacePrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Status", Type: "string", Description: "The status of the namespace"},
		ageColumn,
	},
	Row: rowOf(func(ns *core.Namespace, now time.Time) []any {
		return []any{ns.Name, ns.Status.Phase, age(&ns.ObjectMeta, now)}
	}),
}

var configMapPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Data", Type: "string", Description: "Data contains the configuration data."},
		ageColumn,
	},
	Row: rowOf(func(cm *core.ConfigMap, now time.Time) []any {
		return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(&cm.ObjectMeta, now)}
	}),
}

var secretPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Type", Type: "string", Description: "Used to facilitate programmatic handling of secret data."},
		{Name: "Data", Type: "string", Description: "Data contains the secret data."},
		ageColumn,
	},
	// StringData is merged into Data on write, so Data counts every key.
	Row: rowOf(func(s *core.Secret, now time.Time) []any {
		return []any{s.Name, s.Type, int64(len(s.Data)), age(&s.ObjectMeta, now)}
	}),
}

var serviceAccountPrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Secrets", Type: "string", Description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."},
		ageColumn,
	},
	Row: rowOf(func(sa *core.ServiceAccount, now time.Time) []any {
		return []any{sa.Name, int64(len(sa.Secrets)), age(&sa.ObjectMeta, now)}
	}),
}

var leasePrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Holder", Type: "string", Description: "HolderIdentity contains the identity of the holder of a current lease."},
		ageColumn,
	},
	Row: rowOf(func(l *coordination.Lease, now time.Time) []any {
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		return []any{l.Name, holder, age(&l.ObjectMeta, now)}
	}),
}
