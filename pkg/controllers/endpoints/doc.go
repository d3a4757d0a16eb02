// Package endpoints is the Endpoints controller: for every Service with a
// selector it keeps an Endpoints object of the same name listing the
// addresses and ports of the pods the selector matches, the way
// Kubernetes' pkg/controller/endpoint does.
//
//   - Which pods. Pods in the Service's namespace that match its
//     selector and have an IP. Terminating pods are left out (unless the
//     Service publishes not-ready addresses), and so are pods that have
//     finished for good (Succeeded, or Failed with restartPolicy Never).
//
//   - Ready or not. A pod whose Ready condition is True is listed under
//     addresses; any other under notReadyAddresses, where proxies send no
//     traffic. spec.publishNotReadyAddresses lists every pod as ready (a
//     StatefulSet's peers must find each other before they are ready).
//
//   - Ports. Each Service port's targetPort is a number, or the name of a
//     container port looked up in each pod. Pods that give one name
//     different numbers land in different subsets: a subset is a set of
//     addresses that all serve the same ports.
//
//   - Ownership. The Endpoints has no owner reference (as in
//     Kubernetes); the controller deletes it when its Service is gone.
//     Services without a selector are left alone: their Endpoints are
//     written by hand.
//
// The desired subsets come from the pure function Subsets; the
// controller's sync only compares and writes. Event handlers only enqueue
// Service keys.
package endpoints
