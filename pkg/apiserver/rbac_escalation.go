package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/rbac"
)

// RBAC escalation prevention, as Kubernetes does it: whoever may write
// Roles and bindings must not thereby gain what they do not hold. Creating
// or changing a Role or ClusterRole needs every permission it grants (or
// the "escalate" verb on it); a RoleBinding or ClusterRoleBinding needs
// every permission of the role it binds, where it binds it (or the "bind"
// verb on that role). A ClusterRole with an aggregationRule needs
// "escalate": what it aggregates changes later. Otherwise a user allowed
// to create RoleBindings in a namespace could bind cluster-admin there.

// checkEscalation refuses obj (a new or changed RBAC object) when the
// requesting user would escalate. Requests without a user (the server's
// own bootstrap) and servers without RBAC are not checked.
func (s *Server) checkEscalation(ctx context.Context, k *apis.Kind, old, obj meta.Object) error {
	u := UserFrom(ctx)
	if s.rbac == nil || u == nil || k.Group != rbac.GroupName {
		return nil
	}
	ns := obj.GetObjectMeta().Namespace
	var granted []rbac.PolicyRule
	var exempt func() (bool, error)
	switch o := obj.(type) {
	case *rbac.Role:
		if old != nil && sameJSON(old.(*rbac.Role).Rules, o.Rules) {
			return nil
		}
		granted, exempt = o.Rules, s.userMay(ctx, u, "escalate", "roles", ns, o.Name)
	case *rbac.ClusterRole:
		if old != nil && sameJSON(old.(*rbac.ClusterRole).Rules, o.Rules) && sameJSON(old.(*rbac.ClusterRole).AggregationRule, o.AggregationRule) {
			return nil
		}
		granted, exempt = o.Rules, s.userMay(ctx, u, "escalate", "clusterroles", "", o.Name)
		if o.AggregationRule != nil {
			if ok, err := exempt(); err != nil || !ok {
				return escalationError(k, o.Name, u, "must have the escalate verb on clusterroles to use an aggregationRule", err)
			}
			return nil
		}
	case *rbac.RoleBinding:
		if old != nil && sameJSON(old.(*rbac.RoleBinding).RoleRef, o.RoleRef) && sameJSON(old.(*rbac.RoleBinding).Subjects, o.Subjects) {
			return nil
		}
		rules, err := s.roleRefRules(ctx, ns, o.RoleRef)
		if errors.Is(err, errMissingRole) {
			return s.bindMissing(k, o.Name, u, s.userMay(ctx, u, "bind", roleResource(o.RoleRef), ns, o.RoleRef.Name), err)
		} else if err != nil {
			return err
		}
		// Binding a ClusterRole in a namespace needs "bind" on it there
		// (or cluster-wide); a Role lives in the binding's namespace.
		granted, exempt = rules, s.userMay(ctx, u, "bind", roleResource(o.RoleRef), ns, o.RoleRef.Name)
	case *rbac.ClusterRoleBinding:
		if old != nil && sameJSON(old.(*rbac.ClusterRoleBinding).RoleRef, o.RoleRef) && sameJSON(old.(*rbac.ClusterRoleBinding).Subjects, o.Subjects) {
			return nil
		}
		rules, err := s.roleRefRules(ctx, "", o.RoleRef)
		if errors.Is(err, errMissingRole) {
			return s.bindMissing(k, o.Name, u, s.userMay(ctx, u, "bind", "clusterroles", "", o.RoleRef.Name), err)
		} else if err != nil {
			return err
		}
		ns = "" // a cluster-wide grant needs cluster-wide permissions
		granted, exempt = rules, s.userMay(ctx, u, "bind", "clusterroles", "", o.RoleRef.Name)
	default:
		return nil
	}
	missing, err := s.notHeld(ctx, u, ns, granted)
	if err != nil || len(missing) == 0 {
		return err
	}
	if ok, err := exempt(); err != nil || ok {
		return err
	}
	return escalationError(k, obj.GetObjectMeta().Name, u,
		"is attempting to grant RBAC permissions not currently held:\n"+strings.Join(missing, "\n"), nil)
}

// notHeld lists, one per line in Kubernetes' style, the permissions among
// rules that u does not have in namespace ns ("" for cluster-wide).
func (s *Server) notHeld(ctx context.Context, u *UserInfo, ns string, rules []rbac.PolicyRule) ([]string, error) {
	snap, err := s.rbac.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	held := snap.rulesFor(u, ns)
	var missing []string
	for _, r := range rules {
		for _, req := range atomicRequests(r) {
			if !rulesAllow(held, req) {
				missing = append(missing, describeRequest(req))
			}
		}
	}
	return missing, nil
}

// rulesFor are all the rules that apply to u in ns: its cluster role
// bindings, and, for a namespace, the bindings there.
func (snap *rbacSnapshot) rulesFor(u *UserInfo, ns string) []rbac.PolicyRule {
	var rules []rbac.PolicyRule
	for _, b := range snap.crbs {
		if appliesTo(b.Subjects, u, "") {
			rules = append(rules, snap.clusterRoleRules(b.RoleRef.Name)...)
		}
	}
	if ns == "" {
		return rules
	}
	for _, b := range snap.rbs[ns] {
		if !appliesTo(b.Subjects, u, b.Namespace) {
			continue
		}
		if b.RoleRef.Kind == "Role" {
			if r := snap.roles[b.Namespace+"/"+b.RoleRef.Name]; r != nil {
				rules = append(rules, r.Rules...)
			}
		} else {
			rules = append(rules, snap.clusterRoleRules(b.RoleRef.Name)...)
		}
	}
	return rules
}

// atomicRequests breaks a rule into the single permissions it grants: one
// verb on one group's resource (and name), or one verb on one URL. A "*"
// stays a literal "*", which only a "*" covers.
func atomicRequests(r rbac.PolicyRule) []rbac.Request {
	var out []rbac.Request
	for _, verb := range r.Verbs {
		for _, url := range r.NonResourceURLs {
			out = append(out, rbac.Request{Verb: verb, Path: url})
		}
		for _, group := range r.APIGroups {
			for _, res := range r.Resources {
				resource, sub, _ := strings.Cut(res, "/")
				names := r.ResourceNames
				if len(names) == 0 {
					names = []string{""}
				}
				for _, name := range names {
					out = append(out, rbac.Request{Verb: verb, APIGroup: group, Resource: resource, Subresource: sub, Name: name, ResourceRequest: true})
				}
			}
		}
	}
	return out
}

func describeRequest(r rbac.Request) string {
	if !r.ResourceRequest {
		return fmt.Sprintf("{NonResourceURLs:[%q], Verbs:[%q]}", r.Path, r.Verb)
	}
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	d := fmt.Sprintf("{APIGroups:[%q], Resources:[%q]", r.APIGroup, res)
	if r.Name != "" {
		d += fmt.Sprintf(", ResourceNames:[%q]", r.Name)
	}
	return d + fmt.Sprintf(", Verbs:[%q]}", r.Verb)
}

// userMay returns a check whether u is authorized for verb on an RBAC
// resource (the escalate and bind verbs), asked only when needed.
func (s *Server) userMay(ctx context.Context, u *UserInfo, verb, resource, ns, name string) func() (bool, error) {
	return func() (bool, error) {
		ok, _, err := s.authorize(ctx, &attributes{User: u, ResourceRequest: true, Verb: verb,
			APIGroup: rbac.GroupName, APIVersion: "v1", Resource: resource, Namespace: ns, Name: name})
		return ok, err
	}
}

// roleRefRules are the rules of the role a binding in ns refers to. A
// missing role is an error: binding it now would grant whatever it is
// later created with.
func (s *Server) roleRefRules(ctx context.Context, ns string, ref rbac.RoleRef) ([]rbac.PolicyRule, error) {
	snap, err := s.rbac.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if ref.Kind == "Role" {
		if r := snap.roles[ns+"/"+ref.Name]; r != nil {
			return r.Rules, nil
		}
	} else if snap.clusterRoles[ref.Name] != nil {
		return snap.clusterRoleRules(ref.Name), nil
	}
	return nil, errMissingRole
}

var errMissingRole = errors.New("the role it refers to does not exist")

// bindMissing allows binding a role that does not exist only to a user
// who may bind it anyway.
func (s *Server) bindMissing(k *apis.Kind, name string, u *UserInfo, mayBind func() (bool, error), why error) error {
	if ok, err := mayBind(); err != nil || ok {
		return err
	}
	return escalationError(k, name, u, "may not bind it: "+why.Error(), nil)
}

func roleResource(ref rbac.RoleRef) string {
	if ref.Kind == "Role" {
		return "roles"
	}
	return "clusterroles"
}

func escalationError(k *apis.Kind, name string, u *UserInfo, why string, err error) error {
	if err != nil {
		return err
	}
	return apierrors.New(apierrors.ErrForbidden, "%s %q is forbidden: user %q (groups=%q) %s",
		qualifiedResource(k), name, u.Name, u.Groups, why)
}

func qualifiedResource(k *apis.Kind) string {
	if k.Group == "" {
		return k.Resource
	}
	return k.Resource + "." + k.Group
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
