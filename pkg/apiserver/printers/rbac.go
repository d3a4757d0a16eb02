package printers

import (
	"strings"
	"time"

	"minik8s/pkg/apis/rbac"
)

// Roles print their age as Kubernetes does: the creation time.
var createdAtColumn = Column{Name: "Created At", Type: "date", Description: "When the object was created."}

func createdAt(t time.Time) string { return t.UTC().Format(time.RFC3339) }

var rolePrinter = &Printer{
	Columns: []Column{nameColumn, createdAtColumn},
	Row: rowOf(func(r *rbac.Role, now time.Time) []any {
		return []any{r.Name, createdAt(r.CreationTimestamp.Time)}
	}),
}

var clusterRolePrinter = &Printer{
	Columns: []Column{nameColumn, createdAtColumn},
	Row: rowOf(func(r *rbac.ClusterRole, now time.Time) []any {
		return []any{r.Name, createdAt(r.CreationTimestamp.Time)}
	}),
}

var bindingColumns = []Column{
	nameColumn,
	{Name: "Role", Type: "string", Description: "The role the binding grants: Kind/name."},
	ageColumn,
	{Name: "Users", Type: "string", Priority: 1, Description: "Users in the binding."},
	{Name: "Groups", Type: "string", Priority: 1, Description: "Groups in the binding."},
	{Name: "ServiceAccounts", Type: "string", Priority: 1, Description: "Service accounts in the binding."},
}

// bindingRow is a binding's cells: its role and its subjects by kind.
func bindingRow(name string, ref rbac.RoleRef, subjects []rbac.Subject, ageCell string) []any {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case "User":
			users = append(users, s.Name)
		case "Group":
			groups = append(groups, s.Name)
		case "ServiceAccount":
			sas = append(sas, s.Namespace+"/"+s.Name)
		}
	}
	return []any{name, ref.Kind + "/" + ref.Name, ageCell,
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}

var roleBindingPrinter = &Printer{
	Columns: bindingColumns,
	Row: rowOf(func(b *rbac.RoleBinding, now time.Time) []any {
		return bindingRow(b.Name, b.RoleRef, b.Subjects, age(&b.ObjectMeta, now))
	}),
}

var clusterRoleBindingPrinter = &Printer{
	Columns: bindingColumns,
	Row: rowOf(func(b *rbac.ClusterRoleBinding, now time.Time) []any {
		return bindingRow(b.Name, b.RoleRef, b.Subjects, age(&b.ObjectMeta, now))
	}),
}
