package apiserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
)

// decodeObject turns a JSON or YAML body into an object of kind k. It
// checks that the body's apiVersion and kind (when given) match the path,
// and applies the request's fieldValidation to unknown and duplicate
// fields: Strict rejects them, Warn (the default) returns them as warnings,
// Ignore drops them silently.
func decodeObject(r *http.Request, k *apis.Kind, body []byte) (meta.Object, []string, error) {
	doc, dups, err := toJSON(body, mediaType(r))
	if err != nil {
		return nil, nil, err
	}
	return decodeDoc(r, k, doc, dups)
}

func decodeDoc(r *http.Request, k *apis.Kind, doc []byte, dups []string) (meta.Object, []string, error) {
	var tm meta.TypeMeta
	if err := json.Unmarshal(doc, &tm); err != nil {
		return nil, nil, apierrors.New(apierrors.ErrBadRequest, "the request body must be a JSON or YAML object: %v", err)
	}
	if tm.Kind != "" && tm.Kind != k.Kind {
		return nil, nil, apierrors.New(apierrors.ErrBadRequest,
			"the kind in the request body (%s) does not match the resource in the path (%s, kind %s)", tm.Kind, k.Resource, k.Kind)
	}
	if tm.APIVersion != "" && tm.APIVersion != k.APIVersion() {
		return nil, nil, apierrors.New(apierrors.ErrBadRequest,
			"the apiVersion in the request body (%s) does not match the API version in the path (%s)", tm.APIVersion, k.APIVersion())
	}
	obj := k.New()
	unknown, err := decodeInto(doc, obj)
	if err != nil {
		return nil, nil, prefixErr(err, k.Kind+" in version \""+k.Version+"\" cannot be handled as a "+k.Kind+": ")
	}
	setTypeMeta(k, obj)
	var problems []string
	for _, u := range unknown {
		problems = append(problems, "unknown field "+strconv.Quote(u))
	}
	for _, d := range dups {
		problems = append(problems, "duplicate field "+strconv.Quote(d))
	}
	if len(problems) == 0 {
		return obj, nil, nil
	}
	switch fv := r.URL.Query().Get("fieldValidation"); fv {
	case "Strict":
		return nil, nil, apierrors.New(apierrors.ErrBadRequest, "%s in version %q cannot be handled as a %s: strict decoding error: %s",
			k.Kind, k.Version, k.Kind, strings.Join(problems, ", "))
	case "Ignore":
		return obj, nil, nil
	case "", "Warn":
		return obj, problems, nil
	default:
		return nil, nil, apierrors.New(apierrors.ErrBadRequest, "fieldValidation must be one of Ignore, Warn or Strict, not %q", fv)
	}
}

func prefixErr(err error, prefix string) error {
	st := apierrors.ToStatus(err)
	st.Message = prefix + st.Message
	return apierrors.FromStatus(st)
}

// writeWarnings sends each warning as an HTTP Warning header, which kubectl
// prints as "Warning: ...".
func writeWarnings(w http.ResponseWriter, warnings []string) {
	for _, msg := range warnings {
		w.Header().Add("Warning", `299 - `+strconv.Quote(msg))
	}
}

func isDryRun(r *http.Request) bool {
	for _, v := range r.URL.Query()["dryRun"] {
		if v == "All" {
			return true
		}
	}
	return false
}
