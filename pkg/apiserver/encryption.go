package apiserver

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	"minik8s/pkg/store"
)

// EncryptionConfiguration is the subset of Kubernetes'
// apiserver.config.k8s.io/v1 EncryptionConfiguration minik8s reads
// (--encryption-provider-config): for the listed resources, providers in
// order; the first provider's first key encrypts new writes, every key of
// every provider decrypts what carries its prefix, identity reads (and,
// first, writes) plain data.
type EncryptionConfiguration struct {
	Kind       string                  `json:"kind"`
	APIVersion string                  `json:"apiVersion"`
	Resources  []EncryptionResourceSet `json:"resources"`
}

// EncryptionResourceSet is one resources entry.
type EncryptionResourceSet struct {
	Resources []string             `json:"resources"`
	Providers []EncryptionProvider `json:"providers"`
}

// EncryptionProvider is one of aesgcm, aescbc or identity.
type EncryptionProvider struct {
	AESGCM   *EncryptionKeys `json:"aesgcm,omitempty"`
	AESCBC   *EncryptionKeys `json:"aescbc,omitempty"`
	Identity *struct{}       `json:"identity,omitempty"`
}

// EncryptionKeys are a provider's named keys.
type EncryptionKeys struct {
	Keys []EncryptionKey `json:"keys"`
}

// EncryptionKey is a named AES key: 16, 24 or 32 bytes, base64.
type EncryptionKey struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// valueCipher is one named key of one mode.
type valueCipher struct {
	prefix string // "k8s:enc:aesgcm:v1:<name>:"
	seal   func(plain, aad []byte) ([]byte, error)
	open   func(sealed, aad []byte) ([]byte, error)
}

// transformer encrypts and decrypts stored values. write nil means new
// values are stored as they are (identity first).
type transformer struct {
	write *valueCipher
	read  []*valueCipher
}

// Encryption is a parsed EncryptionConfiguration: a transformer per
// encrypted resource.
type Encryption struct {
	byResource map[string]*transformer
}

// AESGCMConfig is an EncryptionConfiguration file that encrypts Secrets
// with one AES-GCM key (16, 24 or 32 bytes) named name, and still reads
// Secrets stored before encryption was turned on.
func AESGCMConfig(name string, key []byte) []byte {
	return []byte(fmt.Sprintf(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aesgcm:
      keys:
      - name: %s
        secret: %s
  - identity: {}
`, name, base64.StdEncoding.EncodeToString(key)))
}

// ReadEncryptionConfig parses an EncryptionConfiguration file
// (--encryption-provider-config).
func ReadEncryptionConfig(path string) (*Encryption, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg EncryptionConfiguration
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]*transformer{}
	for i, set := range cfg.Resources {
		t, err := newTransformer(set.Providers)
		if err != nil {
			return nil, fmt.Errorf("%s: resources[%d]: %w", path, i, err)
		}
		for _, res := range set.Resources {
			res = strings.TrimSuffix(res, ".") // "secrets" or "secrets." (core group)
			if res != "secrets" && res != "configmaps" {
				return nil, fmt.Errorf("%s: resources[%d]: minik8s encrypts secrets and configmaps only, not %q", path, i, res)
			}
			out[res] = t
		}
	}
	return &Encryption{byResource: out}, nil
}

func newTransformer(providers []EncryptionProvider) (*transformer, error) {
	if len(providers) == 0 {
		return nil, errors.New("no providers")
	}
	t := &transformer{}
	for i, p := range providers {
		var mode string
		var keys *EncryptionKeys
		switch {
		case p.AESGCM != nil:
			mode, keys = "aesgcm", p.AESGCM
		case p.AESCBC != nil:
			mode, keys = "aescbc", p.AESCBC
		case p.Identity != nil:
			continue
		default:
			return nil, fmt.Errorf("providers[%d]: want one of aesgcm, aescbc, identity", i)
		}
		if len(keys.Keys) == 0 {
			return nil, fmt.Errorf("providers[%d].%s: no keys", i, mode)
		}
		for j, k := range keys.Keys {
			c, err := newValueCipher(mode, k)
			if err != nil {
				return nil, fmt.Errorf("providers[%d].%s.keys[%d]: %w", i, mode, j, err)
			}
			if i == 0 && j == 0 {
				t.write = c
			}
			t.read = append(t.read, c)
		}
	}
	return t, nil
}

func newValueCipher(mode string, k EncryptionKey) (*valueCipher, error) {
	if k.Name == "" || strings.Contains(k.Name, ":") {
		return nil, fmt.Errorf("key name %q must be non-empty and without ':'", k.Name)
	}
	raw, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return nil, fmt.Errorf("key %q: secret is not base64: %w", k.Name, err)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w (want 16, 24 or 32 bytes)", k.Name, err)
	}
	c := &valueCipher{prefix: "k8s:enc:" + mode + ":v1:" + k.Name + ":"}
	switch mode {
	case "aesgcm":
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		// The etcd key is authenticated data: a value copied under another
		// key does not decrypt (Kubernetes does the same).
		c.seal = func(plain, aad []byte) ([]byte, error) {
			nonce := make([]byte, gcm.NonceSize())
			if _, err := rand.Read(nonce); err != nil {
				return nil, err
			}
			return gcm.Seal(nonce, nonce, plain, aad), nil
		}
		c.open = func(sealed, aad []byte) ([]byte, error) {
			if len(sealed) < gcm.NonceSize() {
				return nil, errors.New("ciphertext too short")
			}
			return gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
		}
	case "aescbc":
		c.seal = func(plain, _ []byte) ([]byte, error) { return cbcSeal(block, plain) }
		c.open = func(sealed, _ []byte) ([]byte, error) { return cbcOpen(block, sealed) }
	}
	return c, nil
}

func cbcSeal(block cipher.Block, plain []byte) ([]byte, error) {
	bs := block.BlockSize()
	pad := bs - len(plain)%bs
	padded := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, bs+len(padded))
	if _, err := rand.Read(out[:bs]); err != nil {
		return nil, err
	}
	cipher.NewCBCEncrypter(block, out[:bs]).CryptBlocks(out[bs:], padded)
	return out, nil
}

func cbcOpen(block cipher.Block, sealed []byte) ([]byte, error) {
	bs := block.BlockSize()
	if len(sealed) < 2*bs || len(sealed)%bs != 0 {
		return nil, errors.New("ciphertext has a bad length")
	}
	out := make([]byte, len(sealed)-bs)
	cipher.NewCBCDecrypter(block, sealed[:bs]).CryptBlocks(out, sealed[bs:])
	pad := int(out[len(out)-1])
	if pad == 0 || pad > bs || pad > len(out) {
		return nil, errors.New("bad padding")
	}
	return out[:len(out)-pad], nil
}

func (t *transformer) encrypt(key string, value []byte) ([]byte, error) {
	if t.write == nil {
		return value, nil
	}
	sealed, err := t.write.seal(value, []byte(key))
	if err != nil {
		return nil, err
	}
	return append([]byte(t.write.prefix), sealed...), nil
}

// decrypt returns the plain value. A value not written with the current
// write key comes back with a trailing newline, which JSON decoding
// ignores but which makes the API server's "unchanged, skip the write"
// check see a difference: rewriting every secret (kubectl replace) then
// re-encrypts old data with the new key, as Kubernetes' stale-value check
// does.
func (t *transformer) decrypt(key string, value []byte) ([]byte, error) {
	if !bytes.HasPrefix(value, []byte("k8s:enc:")) {
		// identity: written before encryption was on
		if t.write != nil {
			return append(value[:len(value):len(value)], '\n'), nil
		}
		return value, nil
	}
	for _, c := range t.read {
		if bytes.HasPrefix(value, []byte(c.prefix)) {
			plain, err := c.open(value[len(c.prefix):], []byte(key))
			if err != nil {
				return nil, fmt.Errorf("decrypting %s: %w", key, err)
			}
			if c != t.write {
				plain = append(plain, '\n')
			}
			return plain, nil
		}
	}
	return nil, fmt.Errorf("decrypting %s: no configured key matches its prefix (was a key removed from the encryption config too early?)", key)
}

// encryptingStore applies transformers to the values under their
// prefixes (/registry/core/secrets/) on the way into and out of the store:
// the store below, and etcd, only ever see ciphertext.
type encryptingStore struct {
	store.Store
	byPrefix map[string]*transformer
}

func newEncryptingStore(st store.Store, enc *Encryption) store.Store {
	if enc == nil || len(enc.byResource) == 0 {
		return st
	}
	es := &encryptingStore{Store: st, byPrefix: map[string]*transformer{}}
	for res, t := range enc.byResource {
		es.byPrefix["/registry/core/"+res+"/"] = t
	}
	return es
}

func (es *encryptingStore) transformerFor(key string) *transformer {
	for p, t := range es.byPrefix {
		if strings.HasPrefix(key, p) {
			return t
		}
	}
	return nil
}

func (es *encryptingStore) in(key string, value []byte) ([]byte, error) {
	if t := es.transformerFor(key); t != nil {
		return t.encrypt(key, value)
	}
	return value, nil
}

func (es *encryptingStore) out(kv *store.KV) error {
	if t := es.transformerFor(kv.Key); t != nil && kv.Value != nil {
		v, err := t.decrypt(kv.Key, kv.Value)
		if err != nil {
			return err
		}
		kv.Value = v
	}
	return nil
}

func (es *encryptingStore) Create(ctx context.Context, key string, value []byte) (int64, error) {
	v, err := es.in(key, value)
	if err != nil {
		return 0, err
	}
	return es.Store.Create(ctx, key, v)
}

func (es *encryptingStore) Get(ctx context.Context, key string) (store.KV, error) {
	kv, err := es.Store.Get(ctx, key)
	if err != nil {
		return kv, err
	}
	return kv, es.out(&kv)
}

func (es *encryptingStore) List(ctx context.Context, prefix string, opts store.ListOptions) (store.ListResult, error) {
	res, err := es.Store.List(ctx, prefix, opts)
	if err != nil {
		return res, err
	}
	for i := range res.KVs {
		if err := es.out(&res.KVs[i]); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (es *encryptingStore) Update(ctx context.Context, key string, value []byte, rev int64) (store.KV, error) {
	v, err := es.in(key, value)
	if err != nil {
		return store.KV{}, err
	}
	kv, err := es.Store.Update(ctx, key, v, rev)
	if kv.Key != "" {
		if derr := es.out(&kv); derr != nil && err == nil {
			err = derr
		}
	}
	return kv, err
}

func (es *encryptingStore) Delete(ctx context.Context, key string, rev int64) (store.KV, error) {
	kv, err := es.Store.Delete(ctx, key, rev)
	if kv.Key != "" {
		if derr := es.out(&kv); derr != nil && err == nil {
			err = derr
		}
	}
	return kv, err
}

// Watch decrypts events under encrypted prefixes in a relay goroutine
// that ends with the inner watch.
func (es *encryptingStore) Watch(ctx context.Context, prefix string, rev int64) (<-chan store.Event, error) {
	ch, err := es.Store.Watch(ctx, prefix, rev)
	if err != nil {
		return ch, err
	}
	watched := false
	for p := range es.byPrefix {
		if strings.HasPrefix(p, prefix) || strings.HasPrefix(prefix, p) {
			watched = true
		}
	}
	if !watched {
		return ch, nil
	}
	out := make(chan store.Event)
	go func() {
		defer close(out)
		for ev := range ch {
			if ev.Type != store.Bookmark && ev.Type != store.Error {
				if err := es.out(&ev.KV); err != nil {
					ev = store.Event{Type: store.Error, Err: err}
				} else if t := es.transformerFor(ev.KV.Key); t != nil && ev.PrevValue != nil {
					if ev.PrevValue, err = t.decrypt(ev.KV.Key, ev.PrevValue); err != nil {
						ev = store.Event{Type: store.Error, Err: err}
					}
				}
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
			if ev.Type == store.Error {
				return
			}
		}
	}()
	return out, nil
}
