// Package strategicpatch applies a Kubernetes strategic merge patch (SMP):
// the body kubectl sends with Content-Type
// application/strategic-merge-patch+json from apply (client-side), edit,
// rollout restart, label and patch --type=strategic.
//
// # Why Kubernetes needs it
//
// A JSON merge patch (RFC 7386) merges objects key by key, but replaces an
// array wholesale. That is wrong for most Kubernetes lists: to change the
// image of one container, a merge patch must resend every container, and a
// client that read the object before another client added a sidecar would
// silently drop the sidecar. SMP fixes this by knowing, per list, how its
// elements are identified: containers by name, container ports by
// containerPort, conditions by type. Patch elements are merged into the
// original element with the same key, so a patch only names what it changes.
//
// # What is implemented
//
// Apply merges a patch into an original document with these rules, a subset
// of k8s.io/apimachinery/pkg/util/strategicpatch that covers what kubectl
// sends:
//
//   - Maps merge recursively; a null value deletes the key; any other value
//     replaces the original (RFC 7386).
//   - A list whose Schema strategy names a merge key merges element by
//     element: a patch element with the key of an original element is merged
//     into it by these same rules, other patch elements are appended, and
//     original elements the patch does not mention stay where they are.
//   - A list with the merge strategy and no key (metadata.finalizers) is a
//     set: the result is the original followed by the new values.
//   - Every other list is replaced by the patch's list.
//
// and these directives, which are honoured and never left in the result:
//
//   - "$patch": "replace" in a map replaces the whole map; the element
//     {"$patch": "replace"} in a list makes the patch list replace the
//     original list. "$patch": "merge" is the default and a no-op.
//   - "$patch": "delete" in an element of a keyed list deletes the original
//     element with that key; in a map (as in Kubernetes) it empties the map.
//   - "$retainKeys": [...] in a map drops, after merging, every key of that
//     map not listed. kubectl sends it when a union field changes, e.g. a
//     Deployment strategy from RollingUpdate to Recreate.
//   - "$deleteFromPrimitiveList/<field>": [...] removes those values from
//     the original primitive list <field> before the patch is merged, as
//     Kubernetes does.
//   - "$setElementOrder/<field>": [...] orders the merged list <field>. The
//     entries are merge-key maps ({"name": "web"}) for keyed lists and plain
//     values for primitive lists. Our choice, simpler than Kubernetes' own
//     interleaving: elements named in the order list come first, in that
//     order; elements it does not name follow in their merged relative
//     order. For what kubectl apply sends (every element it owns, in
//     manifest order) both give the same result.
//
// Not implemented: "$retainKeys" validation against the patch's own keys,
// the parallel-list directives, and the OpenAPI-driven schema; the caller
// says how each list merges through a Schema, and KubernetesSchema knows
// the merge keys of the built-in kinds.
//
// Apply is pure: it reads two byte slices and returns a new one, never
// panics, and reports a malformed patch or directive as an error that says
// what is wrong, so the API server can answer 400 Bad Request with it.
package strategicpatch
