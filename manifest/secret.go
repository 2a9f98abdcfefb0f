package manifest

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/augurproj/augur/analysis"
	yaml "go.yaml.in/yaml/v3"
)

// KindSecret is the kind of a core v1 Secret.
const KindSecret = "Secret"

// SecretData holds a Secret's decoded values. It never prints or encodes a
// value: fmt and JSON show the keys with "<redacted>".
type SecretData map[string]string

// String lists the keys only.
func (d SecretData) String() string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "Secret data {" + strings.Join(keys, ", ") + "} (values redacted)"
}

// GoString is String, so %#v redacts too.
func (d SecretData) GoString() string { return d.String() }

// MarshalJSON encodes every value as "<redacted>".
func (d SecretData) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:\"<redacted>\"", k)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// Secret is a core v1 Secret read from a file (as `kubectl get secret -o
// yaml` prints it): the source of MetricTemplate secretRefs without a
// cluster.
type Secret struct {
	Namespace, Name string
	// Data merges data (base64-decoded) and stringData (which wins, as the
	// API server applies it).
	Data SecretData
}

// SecretKey is the Key of a Secret.
func SecretKey(s *Secret) Key {
	return Key{Kind: KindSecret, Namespace: s.Namespace, Name: s.Name}
}

// secretObject is the wire form of a v1 Secret.
type secretObject struct {
	APIVersion string              `json:"apiVersion,omitempty"`
	Kind       string              `json:"kind,omitempty"`
	Metadata   analysis.ObjectMeta `json:"metadata"`
	Data       map[string]string   `json:"data,omitempty"`
	StringData map[string]string   `json:"stringData,omitempty"`
	Type       string              `json:"type,omitempty"`
	Immutable  *bool               `json:"immutable,omitempty"`
}

var secretSchema = func() *schema {
	s := schemaOf(reflect.TypeFor[secretObject]())
	s.set("metadata", &fieldSchema{s: schemaOf(reflect.TypeFor[objectMeta]())})
	return s
}()

// secret decodes a v1 Secret. Errors name the key, never a value.
func (d *decoder) secret(w *walker, n *yaml.Node, es []entry) {
	var o secretObject
	origin, _, ok := d.decodeObject(w, n, es, secretSchema, KindSecret, &o)
	if !ok {
		return
	}
	s := Secret{Namespace: o.Metadata.Namespace, Name: o.Metadata.Name, Data: SecretData{}}
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	for _, k := range sortedKeys(o.Data) {
		v, err := base64.StdEncoding.DecodeString(strings.TrimSpace(o.Data[k]))
		if err != nil {
			w.errorf(n, "data."+k, ErrType, "Secret %s/%s: data.%s is not base64 (put plain text under stringData)", s.Namespace, s.Name, k)
			return
		}
		s.Data[k] = string(v)
	}
	for k, v := range o.StringData {
		s.Data[k] = v
	}
	if d.add(SecretKey(&s), origin) {
		d.set.Secrets = append(d.set.Secrets, s)
	}
}

// LookupSecret returns the data of the Secret namespace/name given in the
// files: the source of MetricTemplate secretRefs without a cluster. The map
// is a copy.
func (s *Set) LookupSecret(namespace, name string) (map[string]string, error) {
	for i := range s.Secrets {
		sec := &s.Secrets[i]
		if sec.Name == name && sec.Namespace == orDefault(namespace) {
			out := make(map[string]string, len(sec.Data))
			for k, v := range sec.Data {
				out[k] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("Secret %s/%s is not in the files given with -f (add it as `kubectl get secret -o yaml` prints it)", orDefault(namespace), name)
}
