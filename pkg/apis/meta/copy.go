package meta

import "encoding/json"

// DeepCopy copies an API object through JSON, the one encoding every API
// type round-trips exactly. Objects from an informer's cache are shared,
// so every change starts from a copy.
func DeepCopy[T any](in *T) (*T, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		return nil, err
	}
	return out, nil
}
