package apiserver

import (
	"context"
	"net/url"
	"sync"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/rbac"
)

// rbacTTL bounds how stale the RBAC authorizer's view may be. Writes to
// RBAC objects through this server refresh it at once; the TTL covers
// writes through another API server of an HA control plane.
const rbacTTL = time.Second

// rbacAuthorizer is Kubernetes' RBAC: a request is allowed when a rule
// of a role bound to the user allows it. It reads the four RBAC kinds
// into a snapshot, refreshed after rbacTTL or any RBAC write.
type rbacAuthorizer struct {
	s      *Server
	mu     sync.Mutex
	snap   *rbacSnapshot
	loaded time.Time
}

type rbacSnapshot struct {
	clusterRoles map[string]*rbac.ClusterRole
	roles        map[string]*rbac.Role // namespace/name
	crbs         []*rbac.ClusterRoleBinding
	rbs          map[string][]*rbac.RoleBinding // by namespace
}

func (ra *rbacAuthorizer) invalidate() {
	ra.mu.Lock()
	ra.snap = nil
	ra.mu.Unlock()
}

func (ra *rbacAuthorizer) snapshot(ctx context.Context) (*rbacSnapshot, error) {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if ra.snap != nil && time.Since(ra.loaded) < rbacTTL {
		return ra.snap, nil
	}
	snap := &rbacSnapshot{clusterRoles: map[string]*rbac.ClusterRole{}, roles: map[string]*rbac.Role{}, rbs: map[string][]*rbac.RoleBinding{}}
	for _, res := range []string{"clusterroles", "roles", "clusterrolebindings", "rolebindings"} {
		k, _ := apis.ByResource(rbac.GroupName, res)
		f, _ := parseFilter(k, url.Values{})
		items, _, _, err := ra.s.list(ctx, k, "", f, 0, "")
		if err != nil {
			return nil, err
		}
		for _, obj := range items {
			switch o := obj.(type) {
			case *rbac.ClusterRole:
				snap.clusterRoles[o.Name] = o
			case *rbac.Role:
				snap.roles[o.Namespace+"/"+o.Name] = o
			case *rbac.ClusterRoleBinding:
				snap.crbs = append(snap.crbs, o)
			case *rbac.RoleBinding:
				snap.rbs[o.Namespace] = append(snap.rbs[o.Namespace], o)
			}
		}
	}
	ra.snap, ra.loaded = snap, time.Now()
	return snap, nil
}

// authorize allows a when a ClusterRoleBinding, or a RoleBinding in a's
// namespace, grants the user a rule that allows it.
func (ra *rbacAuthorizer) authorize(ctx context.Context, a *attributes) (bool, string, error) {
	snap, err := ra.snapshot(ctx)
	if err != nil {
		return false, "", err
	}
	req := a.rbacRequest()
	for _, b := range snap.crbs {
		if appliesTo(b.Subjects, a.User, "") && rulesAllow(snap.clusterRoleRules(b.RoleRef.Name), req) {
			return true, "", nil
		}
	}
	if a.Namespace == "" {
		return false, "", nil
	}
	for _, b := range snap.rbs[a.Namespace] {
		if !appliesTo(b.Subjects, a.User, b.Namespace) {
			continue
		}
		var rules []rbac.PolicyRule
		switch b.RoleRef.Kind {
		case "Role":
			if r := snap.roles[b.Namespace+"/"+b.RoleRef.Name]; r != nil {
				rules = r.Rules
			}
		case "ClusterRole":
			rules = snap.clusterRoleRules(b.RoleRef.Name)
		}
		if rulesAllow(rules, req) {
			return true, "", nil
		}
	}
	return false, "", nil
}

// clusterRoleRules are a ClusterRole's rules, plus, for an aggregated
// one, the rules of every ClusterRole its selectors match (computed here
// instead of by Kubernetes' aggregation controller).
func (snap *rbacSnapshot) clusterRoleRules(name string) []rbac.PolicyRule {
	var rules []rbac.PolicyRule
	seen := map[string]bool{}
	var add func(name string)
	add = func(name string) {
		cr := snap.clusterRoles[name]
		if cr == nil || seen[name] {
			return
		}
		seen[name] = true
		rules = append(rules, cr.Rules...)
		if cr.AggregationRule == nil {
			return
		}
		for i := range cr.AggregationRule.ClusterRoleSelectors {
			sel, err := labels.SelectorFromLabelSelector(&cr.AggregationRule.ClusterRoleSelectors[i])
			if err != nil {
				continue
			}
			for n, other := range snap.clusterRoles {
				if n != name && sel.Matches(other.Labels) {
					add(n)
				}
			}
		}
	}
	add(name)
	return rules
}

func rulesAllow(rules []rbac.PolicyRule, req rbac.Request) bool {
	for _, r := range rules {
		if r.Allows(req) {
			return true
		}
	}
	return false
}

// appliesTo reports whether one of subjects names u. A ServiceAccount
// subject without a namespace means the binding's own.
func appliesTo(subjects []rbac.Subject, u *UserInfo, bindingNS string) bool {
	for _, sub := range subjects {
		switch sub.Kind {
		case rbac.UserKind:
			if sub.Name == u.Name {
				return true
			}
		case rbac.GroupKind:
			if u.inGroup(sub.Name) {
				return true
			}
		case rbac.ServiceAccountKind:
			ns := sub.Namespace
			if ns == "" {
				ns = bindingNS
			}
			if u.Name == saUserPrefix+ns+":"+sub.Name {
				return true
			}
		}
	}
	return false
}

// ---- bootstrap policy ----

func rule(verbs, groups, resources []string) rbac.PolicyRule {
	return rbac.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}
	allVerbs   = []string{"*"}
	coreGroup  = []string{""}
	workloads  = []string{"apps", "batch", "autoscaling"}
)

func aggregateLabel(to string) map[string]string {
	return map[string]string{"rbac.authorization.k8s.io/aggregate-to-" + to: "true"}
}

func aggregated(to string) *rbac.AggregationRule {
	return &rbac.AggregationRule{ClusterRoleSelectors: []meta.LabelSelector{{MatchLabels: aggregateLabel(to)}}}
}

// bootstrapClusterRoles are Kubernetes' default roles that minik8s's
// components and users need (plugin/pkg/auth/authorizer/rbac/bootstrappolicy),
// trimmed to the resources minik8s serves.
func bootstrapClusterRoles() []*rbac.ClusterRole {
	cr := func(name string, l map[string]string, agg *rbac.AggregationRule, rules ...rbac.PolicyRule) *rbac.ClusterRole {
		m := map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}
		for k, v := range l {
			m[k] = v
		}
		return &rbac.ClusterRole{ObjectMeta: meta.ObjectMeta{Name: name, Labels: m}, Rules: rules, AggregationRule: agg}
	}
	events := rule([]string{"create", "update", "patch"}, []string{"", "events.k8s.io"}, []string{"events"})
	return []*rbac.ClusterRole{
		cr("cluster-admin", nil, nil, rule(allVerbs, []string{"*"}, []string{"*"}), rbac.PolicyRule{Verbs: allVerbs, NonResourceURLs: []string{"*"}}),
		cr("system:discovery", nil, nil, rbac.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{
			"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz", "/version", "/version/", "/openapi", "/openapi/*"}}),
		cr("system:public-info-viewer", nil, nil, rbac.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{
			"/healthz", "/livez", "/readyz", "/version", "/version/"}}),
		cr("system:basic-user", nil, nil, rule([]string{"create"}, []string{"authorization.k8s.io"}, []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"})),
		cr("admin", nil, aggregated("admin")),
		cr("edit", aggregateLabel("admin"), aggregated("edit")),
		cr("view", aggregateLabel("edit"), aggregated("view")),
		cr("system:aggregate-to-admin", aggregateLabel("admin"), nil,
			rule(allVerbs, []string{rbac.GroupName}, []string{"roles", "rolebindings"}),
			rule([]string{"create"}, []string{"authorization.k8s.io"}, []string{"localsubjectaccessreviews"})),
		cr("system:aggregate-to-edit", aggregateLabel("edit"), nil,
			rule(append(readVerbs, writeVerbs...), coreGroup, []string{"pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
				"services", "endpoints", "configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts", "replicationcontrollers"}),
			rule([]string{"create"}, coreGroup, []string{"serviceaccounts/token"}),
			rule(append(readVerbs, writeVerbs...), workloads, []string{"*"}),
			rule(append(readVerbs, writeVerbs...), []string{"coordination.k8s.io"}, []string{"leases"})),
		cr("system:aggregate-to-view", aggregateLabel("view"), nil,
			rule(readVerbs, coreGroup, []string{"pods", "pods/log", "pods/status", "services", "services/status", "endpoints", "configmaps",
				"persistentvolumeclaims", "persistentvolumeclaims/status", "serviceaccounts", "events", "namespaces", "namespaces/status",
				"replicationcontrollers", "resourcequotas", "limitranges"}),
			rule(readVerbs, workloads, []string{"*"})),
		cr("system:kube-scheduler", nil, nil,
			events,
			rule(readVerbs, coreGroup, []string{"pods", "nodes", "namespaces", "services", "persistentvolumeclaims", "persistentvolumes", "replicationcontrollers"}),
			rule(readVerbs, []string{"apps"}, []string{"replicasets", "statefulsets"}),
			rule([]string{"create"}, coreGroup, []string{"pods/binding", "bindings"}),
			rule([]string{"update", "patch"}, coreGroup, []string{"pods/status"}),
			rule([]string{"delete"}, coreGroup, []string{"pods"}),
			rule([]string{"create", "get", "list", "watch", "update", "patch"}, []string{"coordination.k8s.io"}, []string{"leases"})),
		// The controller manager runs every controller under one identity
		// (Kubernetes gives each its own ServiceAccount): it may do
		// anything to the workload groups, but nothing to RBAC.
		cr("system:kube-controller-manager", nil, nil,
			rule(allVerbs, []string{"", "apps", "batch", "autoscaling", "coordination.k8s.io", "events.k8s.io", "policy"}, []string{"*"})),
		cr("system:node-proxier", nil, nil,
			events,
			rule(readVerbs, coreGroup, []string{"services", "endpoints", "nodes"}),
			rule(readVerbs, []string{"discovery.k8s.io"}, []string{"endpointslices"})),
	}
}

func bootstrapClusterRoleBindings() []*rbac.ClusterRoleBinding {
	crb := func(name, role string, subjects ...rbac.Subject) *rbac.ClusterRoleBinding {
		for i := range subjects {
			subjects[i].APIGroup = rbac.GroupName
		}
		return &rbac.ClusterRoleBinding{
			ObjectMeta: meta.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}},
			RoleRef:    rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   subjects,
		}
	}
	group := func(n string) rbac.Subject { return rbac.Subject{Kind: rbac.GroupKind, Name: n} }
	user := func(n string) rbac.Subject { return rbac.Subject{Kind: rbac.UserKind, Name: n} }
	return []*rbac.ClusterRoleBinding{
		crb("cluster-admin", "cluster-admin", group(GroupMasters)),
		crb("system:discovery", "system:discovery", group(GroupAuthenticated)),
		crb("system:basic-user", "system:basic-user", group(GroupAuthenticated)),
		crb("system:public-info-viewer", "system:public-info-viewer", group(GroupAuthenticated)),
		crb("system:kube-scheduler", "system:kube-scheduler", user("system:kube-scheduler")),
		crb("system:kube-controller-manager", "system:kube-controller-manager", user("system:kube-controller-manager")),
		crb("system:node-proxier", "system:node-proxier", user("system:kube-proxy")),
	}
}
