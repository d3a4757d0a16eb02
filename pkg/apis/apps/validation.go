package apps

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/validation"
)

var (
	metaPath       = field.NewPath("metadata")
	specPath       = field.NewPath("spec")
	alwaysRestarts = []string{core.RestartPolicyAlways}
)

// ValidateDeployment checks a Deployment, metadata included.
func ValidateDeployment(d *Deployment) field.ErrorList {
	errs := validation.ValidateObjectMeta(&d.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	s := &d.Spec
	errs = append(errs, validation.ValidateNonnegativePtr(s.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, core.ValidateWorkloadTemplate(s.Selector, &s.Template, alwaysRestarts, "deployment", specPath)...)
	errs = append(errs, forbidActiveDeadline(&s.Template, "Deployment")...)
	errs = append(errs, validateDeploymentStrategy(&s.Strategy, specPath.Child("strategy"))...)
	errs = append(errs, validation.ValidateNonnegative(s.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	if p := s.ProgressDeadlineSeconds; p != nil {
		errs = append(errs, validation.ValidateNonnegative(*p, specPath.Child("progressDeadlineSeconds"))...)
		if *p <= s.MinReadySeconds {
			errs = append(errs, field.Invalid(specPath.Child("progressDeadlineSeconds"), *p, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateDeploymentStrategy(st *DeploymentStrategy, p *field.Path) field.ErrorList {
	errs := validation.ValidateEnum(st.Type, []string{RecreateDeploymentStrategyType, RollingUpdateDeploymentStrategyType}, p.Child("type"))
	if st.RollingUpdate == nil {
		return errs
	}
	if st.Type == RecreateDeploymentStrategyType {
		return append(errs, field.Forbidden(p.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
	}
	rp := p.Child("rollingUpdate")
	errs = append(errs, validateIntOrPercent(st.RollingUpdate.MaxUnavailable, true, rp.Child("maxUnavailable"))...)
	errs = append(errs, validateIntOrPercent(st.RollingUpdate.MaxSurge, false, rp.Child("maxSurge"))...)
	if isZero(st.RollingUpdate.MaxUnavailable) && isZero(st.RollingUpdate.MaxSurge) {
		errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), st.RollingUpdate.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
	}
	return errs
}

// validateIntOrPercent checks a non-negative count or "N%" (at most 100%
// when atMost100).
func validateIntOrPercent(v *intstr.IntOrString, atMost100 bool, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.Int {
		return validation.ValidateNonnegative(v.IntVal, p)
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	if !strings.HasSuffix(v.StrVal, "%") || err != nil {
		return field.ErrorList{field.Invalid(p, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")}
	}
	if n < 0 {
		return field.ErrorList{field.Invalid(p, v.StrVal, "must be greater than or equal to 0")}
	}
	if atMost100 && n > 100 {
		return field.ErrorList{field.Invalid(p, v.StrVal, "must not be greater than 100%")}
	}
	return nil
}

// isZero says whether an int-or-percent is 0 or "0%" (nil counts as 0).
func isZero(v *intstr.IntOrString) bool {
	if v == nil {
		return true
	}
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return err == nil && n == 0
}

// forbidActiveDeadline rejects activeDeadlineSeconds in a template whose
// pods must run forever: the deadline would kill them all at once.
func forbidActiveDeadline(t *core.PodTemplateSpec, kind string) field.ErrorList {
	if t.Spec.ActiveDeadlineSeconds == nil {
		return nil
	}
	return field.ErrorList{field.Invalid(specPath.Child("template", "spec", "activeDeadlineSeconds"), *t.Spec.ActiveDeadlineSeconds,
		"activeDeadlineSeconds in "+kind+" is not Supported")}
}

// ValidateDeploymentUpdate keeps the selector.
func ValidateDeploymentUpdate(d, old *Deployment) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&d.ObjectMeta, &old.ObjectMeta, metaPath)
	return append(errs, validation.ValidateImmutableField(d.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))...)
}

// ValidateReplicaSet checks a ReplicaSet, metadata included.
func ValidateReplicaSet(rs *ReplicaSet) field.ErrorList {
	errs := validation.ValidateObjectMeta(&rs.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	errs = append(errs, validation.ValidateNonnegativePtr(rs.Spec.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, validation.ValidateNonnegative(rs.Spec.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, core.ValidateWorkloadTemplate(rs.Spec.Selector, &rs.Spec.Template, alwaysRestarts, "replicaset", specPath)...)
	return append(errs, forbidActiveDeadline(&rs.Spec.Template, "ReplicaSet")...)
}

// ValidateReplicaSetUpdate keeps the selector.
func ValidateReplicaSetUpdate(rs, old *ReplicaSet) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&rs.ObjectMeta, &old.ObjectMeta, metaPath)
	return append(errs, validation.ValidateImmutableField(rs.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))...)
}

// ValidateStatefulSet checks a StatefulSet, metadata included.
func ValidateStatefulSet(ss *StatefulSet) field.ErrorList {
	errs := validation.ValidateObjectMeta(&ss.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	s := &ss.Spec
	errs = append(errs, validation.ValidateNonnegativePtr(s.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, validation.ValidateNonnegative(s.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	tmpl := withClaimVolumes(&s.Template, s.VolumeClaimTemplates)
	errs = append(errs, core.ValidateWorkloadTemplate(s.Selector, tmpl, alwaysRestarts, "statefulset", specPath)...)
	errs = append(errs, forbidActiveDeadline(&s.Template, "StatefulSet")...)
	if s.ServiceName != "" {
		errs = append(errs, validation.ValidateDNS1123Label(s.ServiceName, specPath.Child("serviceName"))...)
	}
	errs = append(errs, validation.ValidateEnum(s.PodManagementPolicy, []string{OrderedReadyPodManagement, ParallelPodManagement}, specPath.Child("podManagementPolicy"))...)
	up := specPath.Child("updateStrategy")
	errs = append(errs, validation.ValidateEnum(s.UpdateStrategy.Type, []string{OnDeleteStrategyType, RollingUpdateStrategyType}, up.Child("type"))...)
	if ru := s.UpdateStrategy.RollingUpdate; ru != nil {
		if s.UpdateStrategy.Type == OnDeleteStrategyType {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate"), "", "only allowed for updateStrategy 'RollingUpdate'"))
		}
		errs = append(errs, validation.ValidateNonnegativePtr(ru.Partition, up.Child("rollingUpdate", "partition"))...)
		errs = append(errs, validateIntOrPercent(ru.MaxUnavailable, true, up.Child("rollingUpdate", "maxUnavailable"))...)
		if ru.MaxUnavailable != nil && isZero(ru.MaxUnavailable) {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate", "maxUnavailable"), ru.MaxUnavailable, "must be greater than 0"))
		}
	}
	if pol := s.PersistentVolumeClaimRetentionPolicy; pol != nil {
		pp := specPath.Child("persistentVolumeClaimRetentionPolicy")
		policies := []string{DeletePersistentVolumeClaimRetentionPolicyType, RetainPersistentVolumeClaimRetentionPolicyType}
		errs = append(errs, validation.ValidateEnum(pol.WhenDeleted, policies, pp.Child("whenDeleted"))...)
		errs = append(errs, validation.ValidateEnum(pol.WhenScaled, policies, pp.Child("whenScaled"))...)
	}
	if s.Ordinals != nil {
		errs = append(errs, validation.ValidateNonnegative(s.Ordinals.Start, specPath.Child("ordinals", "start"))...)
	}
	names := map[string]bool{}
	for i := range s.VolumeClaimTemplates {
		c := &s.VolumeClaimTemplates[i]
		cp := specPath.Child("volumeClaimTemplates").Index(i)
		if c.Name == "" {
			errs = append(errs, field.Required(cp.Child("metadata", "name"), ""))
		} else {
			errs = append(errs, validation.ValidateDNS1123Subdomain(c.Name, cp.Child("metadata", "name"))...)
		}
		if names[c.Name] {
			errs = append(errs, field.Duplicate(cp.Child("metadata", "name"), c.Name))
		}
		names[c.Name] = true
		errs = append(errs, validation.ValidateLabels(c.Labels, cp.Child("metadata", "labels"))...)
		errs = append(errs, core.ValidatePersistentVolumeClaimSpec(&c.Spec, cp.Child("spec"))...)
	}
	return errs
}

// withClaimVolumes returns a copy of t with a volume for each claim
// template not already among its volumes: the StatefulSet controller adds
// those volumes to every pod, so containers may mount them.
func withClaimVolumes(t *core.PodTemplateSpec, claims []core.PersistentVolumeClaim) *core.PodTemplateSpec {
	out := *t
	out.Spec.Volumes = slices.Clone(t.Spec.Volumes)
	for _, c := range claims {
		if !slices.ContainsFunc(out.Spec.Volumes, func(v core.Volume) bool { return v.Name == c.Name }) {
			out.Spec.Volumes = append(out.Spec.Volumes, core.Volume{Name: c.Name, VolumeSource: core.VolumeSource{
				PersistentVolumeClaim: &core.PersistentVolumeClaimVolumeSource{ClaimName: c.Name}}})
		}
	}
	return &out
}

// statefulSetUpdateMessage is Kubernetes' wording for a forbidden change.
const statefulSetUpdateMessage = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"

// ValidateStatefulSetUpdate allows changes only to replicas, ordinals,
// template, updateStrategy, revisionHistoryLimit, minReadySeconds and
// persistentVolumeClaimRetentionPolicy.
func ValidateStatefulSetUpdate(ss, old *StatefulSet) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&ss.ObjectMeta, &old.ObjectMeta, metaPath)
	// Copy the mutable fields from old into the new spec: whatever still
	// differs was changed and must not be.
	s := ss.Spec
	s.Replicas = old.Spec.Replicas
	s.Ordinals = old.Spec.Ordinals
	s.Template = old.Spec.Template
	s.UpdateStrategy = old.Spec.UpdateStrategy
	s.RevisionHistoryLimit = old.Spec.RevisionHistoryLimit
	s.PersistentVolumeClaimRetentionPolicy = old.Spec.PersistentVolumeClaimRetentionPolicy
	s.MinReadySeconds = old.Spec.MinReadySeconds
	if !reflect.DeepEqual(s, old.Spec) {
		errs = append(errs, field.Forbidden(specPath, statefulSetUpdateMessage))
	}
	return errs
}

// ValidateDaemonSet checks a DaemonSet, metadata included.
func ValidateDaemonSet(ds *DaemonSet) field.ErrorList {
	errs := validation.ValidateObjectMeta(&ds.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	s := &ds.Spec
	errs = append(errs, core.ValidateWorkloadTemplate(s.Selector, &s.Template, alwaysRestarts, "daemonset", specPath)...)
	errs = append(errs, forbidActiveDeadline(&s.Template, "DaemonSet")...)
	errs = append(errs, validation.ValidateNonnegative(s.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	up := specPath.Child("updateStrategy")
	errs = append(errs, validation.ValidateEnum(s.UpdateStrategy.Type, []string{OnDeleteStrategyType, RollingUpdateStrategyType}, up.Child("type"))...)
	if ru := s.UpdateStrategy.RollingUpdate; ru != nil && s.UpdateStrategy.Type == RollingUpdateStrategyType {
		rp := up.Child("rollingUpdate")
		errs = append(errs, validateIntOrPercent(ru.MaxUnavailable, true, rp.Child("maxUnavailable"))...)
		errs = append(errs, validateIntOrPercent(ru.MaxSurge, true, rp.Child("maxSurge"))...)
		if isZero(ru.MaxUnavailable) && isZero(ru.MaxSurge) {
			errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
	}
	return errs
}

// ValidateDaemonSetUpdate keeps the selector.
func ValidateDaemonSetUpdate(ds, old *DaemonSet) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&ds.ObjectMeta, &old.ObjectMeta, metaPath)
	return append(errs, validation.ValidateImmutableField(ds.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))...)
}

// ValidateControllerRevision checks the revision number.
func ValidateControllerRevision(r *ControllerRevision) field.ErrorList {
	errs := validation.ValidateObjectMeta(&r.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	if len(r.Data) == 0 {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	return append(errs, validation.ValidateNonnegative(r.Revision, field.NewPath("revision"))...)
}

// ValidateControllerRevisionUpdate keeps the data: a revision is a
// snapshot.
func ValidateControllerRevisionUpdate(r, old *ControllerRevision) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&r.ObjectMeta, &old.ObjectMeta, metaPath)
	if !sameJSON(r.Data, old.Data) {
		errs = append(errs, field.Invalid(field.NewPath("data"), "", validation.FieldImmutableErrorMsg))
	}
	return errs
}

// sameJSON compares two JSON documents ignoring insignificant whitespace.
func sameJSON(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
