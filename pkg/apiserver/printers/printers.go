package printers

import (
	"maps"
	"slices"
	"strings"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
)

// Column is one Table column definition. The JSON names are those of
// meta.k8s.io/v1 TableColumnDefinition.
type Column struct {
	// Name is Kubernetes' column name ("Nominated Node"); kubectl prints
	// it upper-cased.
	Name string `json:"name"`
	// Type is the OpenAPI type of the cells: "string", "integer",
	// "number", "boolean" or "date". As in Kubernetes it is a hint only:
	// some "string" columns hold integers and the reverse.
	Type string `json:"type"`
	// Format is "name" for the column that holds the object's name.
	Format      string `json:"format"`
	Description string `json:"description"`
	// Priority 0 columns are always shown; priority 1 only with -o wide.
	Priority int32 `json:"priority"`
}

// Printer prints one kind. Printers returned by For are shared: callers
// must not modify them.
type Printer struct {
	Columns []Column
	// Row returns one cell per column, wide columns included, computed
	// from obj at time now. Cells are strings, int64s or bools. Row
	// panics if obj is not of the kind the printer was looked up for:
	// the caller asked For the wrong resource.
	Row func(obj meta.Object, now time.Time) []any
}

type groupResource struct{ group, resource string }

// byResource is the fixed table of printers, keyed by API group ("" for
// core) and plural resource name.
var byResource = map[groupResource]*Printer{
	{"", "pods"}:                      podPrinter,
	{"", "nodes"}:                     nodePrinter,
	{"", "namespaces"}:                namespacePrinter,
	{"", "services"}:                  servicePrinter,
	{"", "endpoints"}:                 endpointsPrinter,
	{"", "configmaps"}:                configMapPrinter,
	{"", "secrets"}:                   secretPrinter,
	{"", "serviceaccounts"}:           serviceAccountPrinter,
	{"", "events"}:                    eventPrinter,
	{"", "persistentvolumes"}:         persistentVolumePrinter,
	{"", "persistentvolumeclaims"}:    persistentVolumeClaimPrinter,
	{"apps", "deployments"}:           deploymentPrinter,
	{"apps", "replicasets"}:           replicaSetPrinter,
	{"apps", "statefulsets"}:          statefulSetPrinter,
	{"apps", "daemonsets"}:            daemonSetPrinter,
	{"apps", "controllerrevisions"}:   controllerRevisionPrinter,
	{"batch", "jobs"}:                 jobPrinter,
	{"batch", "cronjobs"}:             cronJobPrinter,
	{"coordination.k8s.io", "leases"}: leasePrinter,

	{"rbac.authorization.k8s.io", "roles"}:               rolePrinter,
	{"rbac.authorization.k8s.io", "clusterroles"}:        clusterRolePrinter,
	{"rbac.authorization.k8s.io", "rolebindings"}:        roleBindingPrinter,
	{"rbac.authorization.k8s.io", "clusterrolebindings"}: clusterRoleBindingPrinter,
}

// For returns the printer for an API group ("" for core) and plural
// resource name, such as ("apps", "deployments"). Kinds without a
// specific printer get NAME and AGE. For never returns nil.
func For(group, resource string) *Printer {
	if p, ok := byResource[groupResource{group, resource}]; ok {
		return p
	}
	return defaultPrinter
}

// defaultPrinter prints NAME and AGE, what kubectl shows for any object.
var defaultPrinter = &Printer{
	Columns: []Column{nameColumn, ageColumn},
	Row: func(obj meta.Object, now time.Time) []any {
		m := obj.GetObjectMeta()
		return []any{m.Name, age(m, now)}
	},
}

// rowOf adapts a typed row function to Printer.Row. It panics if obj is
// not a T.
func rowOf[T meta.Object](f func(T, time.Time) []any) func(meta.Object, time.Time) []any {
	return func(obj meta.Object, now time.Time) []any { return f(obj.(T), now) }
}

// Columns shared by many kinds, with Kubernetes' descriptions shortened.
var (
	nameColumn = Column{Name: "Name", Type: "string", Format: "name",
		Description: "Name must be unique within a namespace."}
	ageColumn = Column{Name: "Age", Type: "string",
		Description: "CreationTimestamp is a timestamp representing the server time when this object was created."}
	containersColumn = Column{Name: "Containers", Type: "string", Priority: 1,
		Description: "Names of each container in the template."}
	imagesColumn = Column{Name: "Images", Type: "string", Priority: 1,
		Description: "Images referenced by each container in the template."}
	selectorColumn = Column{Name: "Selector", Type: "string", Priority: 1,
		Description: "Label query over the pods this object manages."}
)

// Placeholders kubectl users know from Kubernetes.
const (
	none    = "<none>"
	unknown = "<unknown>"
	unset   = "<unset>"
)

// age is the AGE cell: the time since the object was created.
func age(m *meta.ObjectMeta, now time.Time) string {
	return since(m.CreationTimestamp.Time, now)
}

// since renders the time from t to now, or "<unknown>" when t is unset
// (Kubernetes' translateTimestampSince).
func since(t, now time.Time) string {
	if t.IsZero() {
		return unknown
	}
	return HumanDuration(now.Sub(t))
}

// containerCells lays out a template's containers on one line each for
// the CONTAINERS and IMAGES columns: "app,sidecar" and "nginx,envoy".
func containerCells(cs []core.Container) (names, images string) {
	n := make([]string, len(cs))
	i := make([]string, len(cs))
	for k, c := range cs {
		n[k], i[k] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

// formatLabels renders a label map as "k1=v1,k2=v2" sorted by key, or
// "<none>" (Kubernetes' labels.FormatLabels).
func formatLabels(m map[string]string) string {
	if len(m) == 0 {
		return none
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// formatLabelSelector renders a spec selector in selector syntax, or
// "<none>" when it selects everything or nothing, "<error>" when it does
// not parse (Kubernetes' metav1.FormatLabelSelector).
func formatLabelSelector(ls *meta.LabelSelector) string {
	sel, err := labels.SelectorFromLabelSelector(ls)
	if err != nil {
		return "<error>"
	}
	if s := sel.String(); s != "" {
		return s
	}
	return none
}

// replicas reads a replica count that defaulting sets; nil means the
// default of 1, as after defaulting.
func replicas(p *int32) int64 {
	if p == nil {
		return 1
	}
	return int64(*p)
}

// printBoolPtr renders an optional flag as "True", "False" or "<unset>".
func printBoolPtr(b *bool) string {
	switch {
	case b == nil:
		return unset
	case *b:
		return "True"
	}
	return "False"
}
