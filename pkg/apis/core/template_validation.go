package core

import (
	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/validation"
)

// ValidateWorkloadTemplate checks what every workload (Deployment,
// ReplicaSet, StatefulSet, DaemonSet, Job) requires of its selector and
// pod template: the selector is set, non-empty and valid; it matches the
// template's labels, or the controller would not recognise its own pods;
// the template itself is valid and its restartPolicy is one of
// restartPolicies. specPath is the path of the workload's spec.
func ValidateWorkloadTemplate(sel *meta.LabelSelector, t *PodTemplateSpec, restartPolicies []string, kind string, specPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	selPath := specPath.Child("selector")
	tp := specPath.Child("template")
	if sel == nil {
		errs = append(errs, field.Required(selPath, ""))
	} else {
		errs = append(errs, validation.ValidateLabelSelector(sel, selPath)...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(selPath, sel, "empty selector is invalid for "+kind))
		}
		if s, err := labels.SelectorFromLabelSelector(sel); err == nil && !s.Empty() && !s.Matches(t.Labels) {
			errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, ValidatePodTemplateSpec(t, tp)...)
	if rp := t.Spec.RestartPolicy; rp != "" && !contains(restartPolicies, rp) {
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), rp, restartPolicies))
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
