package apiserver

import (
	"context"
	"errors"
	"strings"
	"testing"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/rbac"
)

// TestRBACEscalationIsRefused: alice may write Roles and RoleBindings in
// "team" and read pods there. She can hand out what she holds, nothing
// more, unless she has the bind verb on the role she binds.
func TestRBACEscalationIsRefused(t *testing.T) {
	c := startSecure(t, nil, "")
	admin := c.as(t, "admin")
	ctx := context.Background()
	om := func(name string) meta.ObjectMeta { return meta.ObjectMeta{Name: name, Namespace: "team"} }
	role := func(name string, rules ...rbac.PolicyRule) *rbac.Role {
		return &rbac.Role{ObjectMeta: om(name), Rules: rules}
	}
	pr := func(verbs []string, group string, resources ...string) rbac.PolicyRule {
		return rbac.PolicyRule{Verbs: verbs, APIGroups: []string{group}, Resources: resources}
	}
	bind := func(name, kind, roleName, user string) *rbac.RoleBinding {
		return &rbac.RoleBinding{ObjectMeta: om(name),
			Subjects: []rbac.Subject{{Kind: "User", APIGroup: rbac.GroupName, Name: user}},
			RoleRef:  rbac.RoleRef{APIGroup: rbac.GroupName, Kind: kind, Name: roleName}}
	}
	mustCreate(t, admin,
		&core.Namespace{ObjectMeta: meta.ObjectMeta{Name: "team"}},
		role("rbac-manager", pr([]string{"get", "create", "update"}, rbac.GroupName, "roles", "rolebindings"),
			pr([]string{"get", "list"}, "", "pods")),
		bind("alice-manages", "Role", "rbac-manager", "alice"),
		role("pod-reader", pr([]string{"get"}, "", "pods")),
		role("secret-reader", pr([]string{"get"}, "", "secrets")),
	)
	alice := c.withToken(t, "alice-token")

	for _, tc := range []struct {
		what string
		obj  meta.Object
		want string // "" = allowed; else a part of the 403 message
	}{
		{"a Role with what she holds", role("my-pods", pr([]string{"get", "list"}, "", "pods")), ""},
		{"a Role with secrets", role("secrets", pr([]string{"get"}, "", "secrets")),
			`is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`},
		{"a Role with every verb on pods", role("wild", pr([]string{"*"}, "", "pods")), `Verbs:["*"]`},
		{"a Role for pods' logs", role("logs", pr([]string{"get"}, "", "pods/log")), `Resources:["pods/log"]`},
		{"binding her own pod-reader Role to bob", bind("bob-reads", "Role", "pod-reader", "bob"), ""},
		{"binding cluster-admin to herself", bind("alice-admin", "ClusterRole", "cluster-admin", "alice"), "not currently held"},
		{"binding secret-reader to bob", bind("bob-secrets", "Role", "secret-reader", "bob"), `Resources:["secrets"]`},
		{"binding a Role that does not exist yet", bind("bob-later", "Role", "later", "bob"), "does not exist"},
	} {
		err := alice.Create(ctx, tc.obj)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v; want it allowed", tc.what, err)
		case tc.want != "" && (!errors.Is(err, apierrors.ErrForbidden) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v; want 403 containing %q", tc.what, err, tc.want)
		}
	}

	// Changing a Role's labels is no grant; changing its rules is.
	var sr rbac.Role
	if err := alice.Get(ctx, "team", "secret-reader", &sr); err != nil {
		t.Fatal(err)
	}
	sr.Labels = map[string]string{"owner": "alice"}
	if err := alice.Update(ctx, &sr); err != nil {
		t.Errorf("relabel a role she cannot fully grant: %v; want it allowed", err)
	}
	sr.Rules[0].Verbs = append(sr.Rules[0].Verbs, "list")
	if err := alice.Update(ctx, &sr); !errors.Is(err, apierrors.ErrForbidden) {
		t.Errorf("add list secrets to a role: %v; want 403", err)
	}

	// With the bind verb on ClusterRole view she may bind it, though she
	// does not hold all it grants.
	mustCreate(t, admin,
		role("may-bind-view", rbac.PolicyRule{Verbs: []string{"bind"}, APIGroups: []string{rbac.GroupName},
			Resources: []string{"clusterroles"}, ResourceNames: []string{"view"}}),
		bind("alice-binds-view", "Role", "may-bind-view", "alice"))
	c.srv.rbac.invalidate()
	if err := alice.Create(ctx, bind("bob-views", "ClusterRole", "view", "bob")); err != nil {
		t.Errorf("bind view with the bind verb: %v; want it allowed", err)
	}
	if err := alice.Create(ctx, bind("bob-edits", "ClusterRole", "edit", "bob")); !errors.Is(err, apierrors.ErrForbidden) {
		t.Errorf("bind edit with bind only on view: %v; want 403", err)
	}
}
