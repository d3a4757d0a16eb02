package validation

import (
	"maps"
	"reflect"
	"slices"
	"strings"

	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/meta"
)

// FieldImmutableErrorMsg is Kubernetes' message for a changed immutable field.
const FieldImmutableErrorMsg = "field is immutable"

// TotalAnnotationSizeLimitB caps the summed size of an object's annotation
// keys and values, as in Kubernetes (256 KiB).
const TotalAnnotationSizeLimitB = 256 * 1024

// Finalizers without a "/" that Kubernetes knows; any other finalizer must
// be domain-qualified.
var standardFinalizers = map[string]bool{
	"kubernetes":                   true,
	meta.FinalizerOrphanDependents: true,
	meta.FinalizerDeleteDependents: true,
}

// ValidateObjectMeta checks the metadata of a new or updated object.
// nameFn checks the name (for example NameIsDNSSubdomain); a generateName
// prefix is checked with its trailing '-' allowed. Namespaced kinds must
// carry a namespace (the API server fills it from the URL before
// validating); cluster-scoped kinds must not. The server-owned fields
// (uid, resourceVersion, creationTimestamp) are not checked.
func ValidateObjectMeta(m *meta.ObjectMeta, namespaced bool, nameFn func(string) []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if m.GenerateName != "" {
		for _, msg := range nameFn(maskTrailingDash(m.GenerateName)) {
			errs = append(errs, field.Invalid(path.Child("generateName"), m.GenerateName, msg))
		}
	}
	switch {
	case m.Name != "":
		for _, msg := range nameFn(m.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), m.Name, msg))
		}
	case m.GenerateName == "":
		errs = append(errs, field.Required(path.Child("name"), "name or generateName is required"))
	}
	if namespaced {
		if m.Namespace == "" {
			errs = append(errs, field.Required(path.Child("namespace"), ""))
		} else {
			for _, msg := range IsDNS1123Label(m.Namespace) {
				errs = append(errs, field.Invalid(path.Child("namespace"), m.Namespace, msg))
			}
		}
	} else if m.Namespace != "" {
		errs = append(errs, field.Forbidden(path.Child("namespace"), "not allowed on this type"))
	}
	errs = append(errs, ValidateNonnegative(m.Generation, path.Child("generation"))...)
	errs = append(errs, ValidateLabels(m.Labels, path.Child("labels"))...)
	errs = append(errs, ValidateAnnotations(m.Annotations, path.Child("annotations"))...)
	errs = append(errs, validateOwnerReferences(m.OwnerReferences, path.Child("ownerReferences"))...)
	errs = append(errs, validateFinalizers(m.Finalizers, path.Child("finalizers"))...)
	return errs
}

// maskTrailingDash lets a generateName such as "web-" pass a name check:
// the server appends random characters after it.
func maskTrailingDash(name string) string {
	if len(name) > 1 && strings.HasSuffix(name, "-") {
		return name[:len(name)-1] + "a"
	}
	return name
}

// ValidateObjectMetaUpdate checks that an update keeps the identity of the
// object: name, namespace, uid and creationTimestamp never change. (The
// API server overwrites uid and creationTimestamp from the stored object
// anyway; the check documents the rule.)
func ValidateObjectMetaUpdate(newMeta, oldMeta *meta.ObjectMeta, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, ValidateImmutableField(newMeta.Name, oldMeta.Name, path.Child("name"))...)
	errs = append(errs, ValidateImmutableField(newMeta.Namespace, oldMeta.Namespace, path.Child("namespace"))...)
	if oldMeta.UID != "" {
		errs = append(errs, ValidateImmutableField(newMeta.UID, oldMeta.UID, path.Child("uid"))...)
	}
	if !oldMeta.CreationTimestamp.IsZero() && !newMeta.CreationTimestamp.Equal(oldMeta.CreationTimestamp.Time) {
		errs = append(errs, field.Invalid(path.Child("creationTimestamp"), newMeta.CreationTimestamp, FieldImmutableErrorMsg))
	}
	return errs
}

// ValidateImmutableField reports newVal as invalid when it differs from
// oldVal (compared deeply).
func ValidateImmutableField(newVal, oldVal any, path *field.Path) field.ErrorList {
	if reflect.DeepEqual(newVal, oldVal) {
		return nil
	}
	return field.ErrorList{field.Invalid(path, newVal, FieldImmutableErrorMsg)}
}

// ValidateLabels checks label keys (qualified names) and values.
func ValidateLabels(labels map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(labels) {
		for _, msg := range IsQualifiedName(k) {
			errs = append(errs, field.Invalid(path, k, msg))
		}
		for _, msg := range IsValidLabelValue(labels[k]) {
			errs = append(errs, field.Invalid(path, labels[k], msg))
		}
	}
	return errs
}

// ValidateAnnotations checks annotation keys (qualified names, compared
// case-insensitively as Kubernetes does) and the total size.
func ValidateAnnotations(annotations map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	total := 0
	for _, k := range sortedKeys(annotations) {
		for _, msg := range IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, field.Invalid(path, k, msg))
		}
		total += len(k) + len(annotations[k])
	}
	if total > TotalAnnotationSizeLimitB {
		errs = append(errs, field.TooLong(path, "", TotalAnnotationSizeLimitB))
	}
	return errs
}

func validateOwnerReferences(refs []meta.OwnerReference, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	var controllers []string
	for i, r := range refs {
		p := path.Index(i)
		if r.APIVersion == "" {
			errs = append(errs, field.Invalid(p.Child("apiVersion"), r.APIVersion, "version must not be empty"))
		}
		if r.Kind == "" {
			errs = append(errs, field.Invalid(p.Child("kind"), r.Kind, "kind must not be empty"))
		}
		if r.Name == "" {
			errs = append(errs, field.Invalid(p.Child("name"), r.Name, "name must not be empty"))
		}
		if r.UID == "" {
			errs = append(errs, field.Invalid(p.Child("uid"), r.UID, "uid must not be empty"))
		}
		if r.Controller != nil && *r.Controller {
			controllers = append(controllers, r.Kind+"/"+r.Name)
		}
	}
	if len(controllers) > 1 {
		errs = append(errs, field.Invalid(path, refs,
			"Only one reference can have Controller set to true. Found \"true\" in references for "+strings.Join(controllers, " and ")))
	}
	return errs
}

func validateFinalizers(finalizers []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range finalizers {
		p := path.Index(i)
		msgs := IsQualifiedName(f)
		for _, msg := range msgs {
			errs = append(errs, field.Invalid(p, f, msg))
		}
		if len(msgs) == 0 && !strings.Contains(f, "/") && !standardFinalizers[f] {
			errs = append(errs, field.Invalid(p, f, "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return errs
}

// ValidateLabelSelector checks a meta.LabelSelector: keys and values of
// matchLabels, and each expression's key, operator and values.
func ValidateLabelSelector(s *meta.LabelSelector, path *field.Path) field.ErrorList {
	if s == nil {
		return nil
	}
	errs := ValidateLabels(s.MatchLabels, path.Child("matchLabels"))
	for i, r := range s.MatchExpressions {
		p := path.Child("matchExpressions").Index(i)
		switch r.Operator {
		case meta.LabelSelectorOpIn, meta.LabelSelectorOpNotIn:
			if len(r.Values) == 0 {
				errs = append(errs, field.Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
			}
		case meta.LabelSelectorOpExists, meta.LabelSelectorOpDoesNotExist:
			if len(r.Values) > 0 {
				errs = append(errs, field.Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
			}
		default:
			errs = append(errs, field.Invalid(p.Child("operator"), r.Operator, "not a valid selector operator"))
		}
		for _, msg := range IsQualifiedName(r.Key) {
			errs = append(errs, field.Invalid(p.Child("key"), r.Key, msg))
		}
		for j, v := range r.Values {
			for _, msg := range IsValidLabelValue(v) {
				errs = append(errs, field.Invalid(p.Child("values").Index(j), v, msg))
			}
		}
	}
	return errs
}

// ValidateNonnegative reports a negative number.
func ValidateNonnegative[T int | int32 | int64](v T, path *field.Path) field.ErrorList {
	if v < 0 {
		return field.ErrorList{field.Invalid(path, v, "must be greater than or equal to 0")}
	}
	return nil
}

// ValidatePositive reports a number that is not greater than zero.
func ValidatePositive[T int | int32 | int64](v T, path *field.Path) field.ErrorList {
	if v <= 0 {
		return field.ErrorList{field.Invalid(path, v, "must be greater than 0")}
	}
	return nil
}

// ValidateNonnegativePtr is ValidateNonnegative for an optional number.
func ValidateNonnegativePtr[T int | int32 | int64](v *T, path *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return ValidateNonnegative(*v, path)
}

// ValidateEnum reports v as unsupported unless it is one of valid.
// An empty v is reported as required.
func ValidateEnum(v string, valid []string, path *field.Path) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	for _, ok := range valid {
		if v == ok {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(path, v, valid)}
}

// ValidateDNS1123Label reports each reason value is not a DNS label.
func ValidateDNS1123Label(value string, path *field.Path) field.ErrorList {
	return invalidEach(value, IsDNS1123Label(value), path)
}

// ValidateDNS1123Subdomain reports each reason value is not a DNS subdomain.
func ValidateDNS1123Subdomain(value string, path *field.Path) field.ErrorList {
	return invalidEach(value, IsDNS1123Subdomain(value), path)
}

// ValidateQualifiedName reports each reason value is not a qualified name.
func ValidateQualifiedName(value string, path *field.Path) field.ErrorList {
	return invalidEach(value, IsQualifiedName(value), path)
}

// invalidEach turns the messages of an Is* check into Invalid errors.
func invalidEach(value any, msgs []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(path, value, msg))
	}
	return errs
}

// InvalidEach turns the messages of an Is* check into Invalid errors at
// path, for checks this package does not wrap.
func InvalidEach(value any, msgs []string, path *field.Path) field.ErrorList {
	return invalidEach(value, msgs, path)
}

// sortedKeys orders map keys so that error lists are the same from one
// request to the next.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
