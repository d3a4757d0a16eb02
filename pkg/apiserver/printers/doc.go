// Package printers computes the columns `kubectl get` shows: server-side
// printing.
//
// kubectl does not know how to summarise a Pod or a Deployment. It asks
// the API server for a meta.k8s.io/v1 Table and prints whatever columns
// the server sends, upper-casing their names; priority 1 columns only
// with -o wide. A server that sends a plain list gets NAME and AGE only.
// So the READY, STATUS and RESTARTS of `kubectl get pods` are computed
// here, with the rules of Kubernetes' pkg/printers/internalversion
// (printers.go), so that the output reads exactly as on a real cluster.
//
// The package owns the column definitions and the cell values of each
// kind. For(group, resource) returns a Printer; Printer.Row turns one
// object into one cell per column, for every column including the wide
// ones (as the Kubernetes API server does: it always prints wide and
// leaves the filtering to kubectl). The caller, the API server's table
// encoder, wraps columns and rows into the Table JSON and adds
// rows[].object.
//
// Everything here is a pure function of the object and the time "now"
// the caller passes in: no I/O, no clock, no global state beyond the
// fixed table of printers. Printers never modify the objects they print.
package printers
