package printers

import (
	"strings"
	"time"

	"minik8s/pkg/apis/core"
)

// eventPrinter follows Kubernetes' event table, whose name column is
// last and wide: `kubectl get events` reads LAST SEEN, TYPE, REASON,
// OBJECT, MESSAGE.
var eventPrinter = &Printer{
	Columns: []Column{
		{Name: "Last Seen", Type: "string", Description: "The time at which the most recent occurrence of this event was recorded."},
		{Name: "Type", Type: "string", Description: "Type of this event (Normal, Warning), new types could be added in the future"},
		{Name: "Reason", Type: "string", Description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."},
		{Name: "Object", Type: "string", Description: "The object that this event is about."},
		{Name: "Subobject", Type: "string", Priority: 1, Description: "The part of the object the event is about, such as spec.containers{name}."},
		{Name: "Source", Type: "string", Priority: 1, Description: "The component reporting this event."},
		{Name: "Message", Type: "string", Description: "A human-readable description of the status of this operation."},
		{Name: "First Seen", Type: "string", Priority: 1, Description: "The time at which the event was first recorded."},
		{Name: "Count", Type: "string", Priority: 1, Description: "The number of times this event has occurred."},
		{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: nameColumn.Description},
	},
	Row: rowOf(func(e *core.Event, now time.Time) []any {
		first := since(e.FirstTimestamp.Time, now)
		if e.FirstTimestamp.IsZero() {
			first = since(e.EventTime.Time, now)
		}
		last := since(e.LastTimestamp.Time, now)
		if e.LastTimestamp.IsZero() {
			last = first
		}
		count := e.Count
		if e.Series != nil {
			last = since(e.Series.LastObservedTime.Time, now)
			count = e.Series.Count
		} else if count == 0 {
			// Singleton events of the events.k8s.io API carry no count.
			count = 1
		}
		return []any{
			last,
			e.Type,
			e.Reason,
			eventObject(&e.InvolvedObject),
			e.InvolvedObject.FieldPath,
			eventSource(e),
			strings.TrimSpace(e.Message),
			first,
			int64(count),
			e.Name,
		}
	}),
}

// eventObject names the involved object as "pod/web-1" (kind in lower
// case), or just the kind when the reference has no name.
func eventObject(ref *core.ObjectReference) string {
	kind := strings.ToLower(ref.Kind)
	if ref.Name == "" {
		return kind
	}
	return kind + "/" + ref.Name
}

// eventSource is "component, host", or "component" without a host,
// falling back to the reporting controller and instance of newer
// clients.
func eventSource(e *core.Event) string {
	component := firstNonEmpty(e.Source.Component, e.ReportingController)
	host := firstNonEmpty(e.Source.Host, e.ReportingInstance)
	if host == "" {
		return component
	}
	return component + ", " + host
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
