// Package rbac holds the rbac.authorization.k8s.io/v1 kinds: Role and
// ClusterRole (sets of rules), RoleBinding and ClusterRoleBinding (who
// gets them), with Kubernetes' JSON shapes, and the pure rule matching the
// API server's RBAC authorizer uses.
//
// The package is pure: nothing here reads or writes the store.
package rbac

import (
	"strings"

	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/validation"
)

// GroupName is the API group of the RBAC kinds.
const GroupName = "rbac.authorization.k8s.io"

// Subject kinds.
const (
	UserKind           = "User"
	GroupKind          = "Group"
	ServiceAccountKind = "ServiceAccount"
)

// PolicyRule allows verbs on resources (or non-resource URLs).
type PolicyRule struct {
	Verbs           []string `json:"verbs"`
	APIGroups       []string `json:"apiGroups,omitempty"`
	Resources       []string `json:"resources,omitempty"`
	ResourceNames   []string `json:"resourceNames,omitempty"`
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
}

// Role is a namespaced set of rules.
type Role struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Rules           []PolicyRule `json:"rules"`
}

// RoleList is a list of Roles.
type RoleList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []Role `json:"items"`
}

// AggregationRule makes a ClusterRole the union of the ClusterRoles its
// selectors match.
type AggregationRule struct {
	ClusterRoleSelectors []meta.LabelSelector `json:"clusterRoleSelectors,omitempty"`
}

// ClusterRole is a cluster-wide set of rules.
type ClusterRole struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Rules           []PolicyRule     `json:"rules"`
	AggregationRule *AggregationRule `json:"aggregationRule,omitempty"`
}

// ClusterRoleList is a list of ClusterRoles.
type ClusterRoleList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []ClusterRole `json:"items"`
}

// Subject is a user, group or ServiceAccount a binding names.
type Subject struct {
	Kind      string `json:"kind"`
	APIGroup  string `json:"apiGroup,omitempty"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// RoleRef names the Role or ClusterRole a binding grants.
type RoleRef struct {
	APIGroup string `json:"apiGroup"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
}

// RoleBinding grants a Role, or a ClusterRole, in its namespace.
type RoleBinding struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Subjects        []Subject `json:"subjects,omitempty"`
	RoleRef         RoleRef   `json:"roleRef"`
}

// RoleBindingList is a list of RoleBindings.
type RoleBindingList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []RoleBinding `json:"items"`
}

// ClusterRoleBinding grants a ClusterRole in every namespace.
type ClusterRoleBinding struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Subjects        []Subject `json:"subjects,omitempty"`
	RoleRef         RoleRef   `json:"roleRef"`
}

// ClusterRoleBindingList is a list of ClusterRoleBindings.
type ClusterRoleBindingList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []ClusterRoleBinding `json:"items"`
}

// NameIsPathSegment is Kubernetes' name rule for RBAC objects: any name
// that can be a URL path segment ("system:node" is valid).
func NameIsPathSegment(name string) []string {
	if name == "." || name == ".." {
		return []string{"may not be '" + name + "'"}
	}
	if strings.ContainsAny(name, "/%") {
		return []string{"may not contain '/' or '%'"}
	}
	return nil
}

// ValidateRole checks the metadata and rules.
func ValidateRole(r *Role) field.ErrorList {
	errs := validation.ValidateObjectMeta(&r.ObjectMeta, true, NameIsPathSegment, field.NewPath("metadata"))
	return append(errs, validateRules(r.Rules, true, field.NewPath("rules"))...)
}

// ValidateRoleUpdate checks the metadata identity.
func ValidateRoleUpdate(r, old *Role) field.ErrorList {
	return validation.ValidateObjectMetaUpdate(&r.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
}

// ValidateClusterRole checks the metadata, rules and aggregation selectors.
func ValidateClusterRole(r *ClusterRole) field.ErrorList {
	errs := validation.ValidateObjectMeta(&r.ObjectMeta, false, NameIsPathSegment, field.NewPath("metadata"))
	errs = append(errs, validateRules(r.Rules, false, field.NewPath("rules"))...)
	if r.AggregationRule != nil {
		p := field.NewPath("aggregationRule", "clusterRoleSelectors")
		for i := range r.AggregationRule.ClusterRoleSelectors {
			errs = append(errs, validation.ValidateLabelSelector(&r.AggregationRule.ClusterRoleSelectors[i], p.Index(i))...)
		}
	}
	return errs
}

// ValidateClusterRoleUpdate checks the metadata identity.
func ValidateClusterRoleUpdate(r, old *ClusterRole) field.ErrorList {
	return validation.ValidateObjectMetaUpdate(&r.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
}

// ValidateRoleBinding checks the metadata, subjects and roleRef.
func ValidateRoleBinding(b *RoleBinding) field.ErrorList {
	errs := validation.ValidateObjectMeta(&b.ObjectMeta, true, NameIsPathSegment, field.NewPath("metadata"))
	errs = append(errs, validateRoleRef(b.RoleRef, true)...)
	return append(errs, validateSubjects(b.Subjects)...)
}

// ValidateRoleBindingUpdate also keeps roleRef immutable, as Kubernetes does.
func ValidateRoleBindingUpdate(b, old *RoleBinding) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&b.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validation.ValidateImmutableField(b.RoleRef, old.RoleRef, field.NewPath("roleRef"))...)
}

// ValidateClusterRoleBinding checks the metadata, subjects and roleRef.
func ValidateClusterRoleBinding(b *ClusterRoleBinding) field.ErrorList {
	errs := validation.ValidateObjectMeta(&b.ObjectMeta, false, NameIsPathSegment, field.NewPath("metadata"))
	errs = append(errs, validateRoleRef(b.RoleRef, false)...)
	return append(errs, validateSubjects(b.Subjects)...)
}

// ValidateClusterRoleBindingUpdate keeps roleRef immutable.
func ValidateClusterRoleBindingUpdate(b, old *ClusterRoleBinding) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&b.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validation.ValidateImmutableField(b.RoleRef, old.RoleRef, field.NewPath("roleRef"))...)
}

func validateRules(rules []PolicyRule, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		ip := p.Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(ip.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(ip.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(ip.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(ip.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(ip.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

func validateRoleRef(ref RoleRef, namespaced bool) field.ErrorList {
	p := field.NewPath("roleRef")
	var errs field.ErrorList
	if ref.APIGroup != GroupName {
		errs = append(errs, field.NotSupported(p.Child("apiGroup"), ref.APIGroup, []string{GroupName}))
	}
	switch {
	case ref.Kind == "ClusterRole", ref.Kind == "Role" && namespaced:
	default:
		kinds := []string{"ClusterRole"}
		if namespaced {
			kinds = []string{"Role", "ClusterRole"}
		}
		errs = append(errs, field.NotSupported(p.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	return errs
}

func validateSubjects(subjects []Subject) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("subjects")
	for i, s := range subjects {
		ip := p.Index(i)
		if s.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), ""))
		}
		switch s.Kind {
		case UserKind, GroupKind:
		case ServiceAccountKind:
			if s.Namespace == "" {
				errs = append(errs, field.Required(ip.Child("namespace"), "a ServiceAccount subject needs its namespace"))
			}
		default:
			errs = append(errs, field.NotSupported(ip.Child("kind"), s.Kind, []string{ServiceAccountKind, UserKind, GroupKind}))
		}
	}
	return errs
}

// Request is what a rule is matched against.
type Request struct {
	Verb, APIGroup, Resource, Subresource, Name string
	// Path is set (and the fields above unused but Verb) for a
	// non-resource request such as GET /healthz.
	Path            string
	ResourceRequest bool
}

// Allows reports whether the rule allows r, as Kubernetes' RuleAllows:
// verbs, groups and resources match exactly or by "*"; a rule's resource
// "pods/*" matches every subresource of pods and "*/status" every status;
// resourceNames, when given, must contain the name; nonResourceURLs match
// exactly or by a trailing "*" prefix.
func (rule PolicyRule) Allows(r Request) bool {
	if !has(rule.Verbs, r.Verb) {
		return false
	}
	if !r.ResourceRequest {
		for _, u := range rule.NonResourceURLs {
			if u == "*" || u == r.Path || (strings.HasSuffix(u, "*") && strings.HasPrefix(r.Path, strings.TrimSuffix(u, "*"))) {
				return true
			}
		}
		return false
	}
	if !has(rule.APIGroups, r.APIGroup) || !rule.matchesResource(r) {
		return false
	}
	return len(rule.ResourceNames) == 0 || (r.Name != "" && contains(rule.ResourceNames, r.Name))
}

func (rule PolicyRule) matchesResource(r Request) bool {
	combined := r.Resource
	if r.Subresource != "" {
		combined += "/" + r.Subresource
	}
	for _, res := range rule.Resources {
		switch {
		case res == "*", res == combined:
			return true
		case r.Subresource != "" && res == r.Resource+"/*":
			return true
		case r.Subresource != "" && res == "*/"+r.Subresource:
			return true
		}
	}
	return false
}

// has matches value or the "*" wildcard.
func has(list []string, value string) bool {
	for _, v := range list {
		if v == "*" || v == value {
			return true
		}
	}
	return false
}

func contains(list []string, value string) bool {
	for _, v := range list {
		if v == value {
			return true
		}
	}
	return false
}
