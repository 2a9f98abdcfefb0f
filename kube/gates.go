package kube

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// DefaultGatesConfigMap is the name of the ConfigMap that holds the manual
// gates of `augur serve` in a cluster (in augur's own namespace).
const DefaultGatesConfigMap = "augur-gates"

// MaxGatesPerConfigMap bounds the gates one ConfigMap holds: a ConfigMap is
// at most 1 MiB, and a gate takes at most ~420 bytes (key and value).
const MaxGatesPerConfigMap = 2000

// GatesLabel marks the gate ConfigMap (value "gates").
const GatesLabel = "app.kubernetes.io/component"

// ErrGatesFull is returned when the ConfigMap holds MaxGatesPerConfigMap
// gates and another one is opened.
var ErrGatesFull = errors.New("too many open gates")

// gateBackoff spaces the retries of a write that lost a race with another
// replica (a 409 Conflict on the ConfigMap's resourceVersion).
var gateBackoff = wait.Backoff{Steps: 50, Duration: 5 * time.Millisecond, Factor: 1.5, Jitter: 1, Cap: 500 * time.Millisecond}

// ConfigMapGates keeps key-value pairs (augur's manual gates, keyed
// "namespace/name" of a Canary) in the data of one ConfigMap, so that every
// replica of augur answers the same and a restart forgets nothing. Writes
// are read-modify-write cycles guarded by the API server's optimistic
// concurrency: an update carries the resourceVersion it read, and a 409
// Conflict (another replica wrote first) repeats the cycle on the new data.
// Every call reads the API server; nothing is cached.
//
// It needs get and update on that ConfigMap (and create, unless it exists).
type ConfigMapGates struct {
	core            kubernetes.Interface
	namespace, name string
}

// Gates returns the gate store of the ConfigMap namespace/name in the
// Source's cluster (namespace "" is Source.Namespace(); name "" is
// DefaultGatesConfigMap).
func (s *Source) Gates(namespace, name string) *ConfigMapGates {
	if namespace == "" {
		namespace = s.namespace
	}
	if name == "" {
		name = DefaultGatesConfigMap
	}
	return &ConfigMapGates{core: s.core, namespace: namespace, name: name}
}

// String names the ConfigMap ("configmap augur-system/augur-gates").
func (g *ConfigMapGates) String() string { return "configmap " + g.namespace + "/" + g.name }

// configMapKey is a ConfigMap data key's syntax.
var configMapKey = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// dataKey maps "namespace/name" to a data key. Namespaces and object names
// have no "_", so "namespace_name" is unambiguous.
func dataKey(key string) (string, error) {
	ns, name, ok := strings.Cut(key, "/")
	k := ns + "_" + name
	if !ok || ns == "" || name == "" || strings.Contains(ns+name, "_") || len(k) > 253 || !configMapKey.MatchString(k) {
		return "", fmt.Errorf("gate key %q: want namespace/name of Kubernetes names", key)
	}
	return k, nil
}

// Get returns the value of key.
func (g *ConfigMapGates) Get(ctx context.Context, key string) (string, bool, error) {
	k, err := dataKey(key)
	if err != nil {
		return "", false, err
	}
	cm, err := g.core.CoreV1().ConfigMaps(g.namespace).Get(ctx, g.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading %s: %w", g, err)
	}
	v, ok := cm.Data[k]
	return v, ok, nil
}

// Update reads key's value, calls f, and writes its answer (keep false:
// deletes the key) with the resourceVersion it read, repeating the cycle
// when another writer got there first. Nothing is written when nothing
// changes; the ConfigMap is created on the first write if missing.
func (g *ConfigMapGates) Update(ctx context.Context, key string, f func(old string, found bool) (string, bool, error)) error {
	k, err := dataKey(key)
	if err != nil {
		return err
	}
	cms := g.core.CoreV1().ConfigMaps(g.namespace)
	err = retry.OnError(gateBackoff, func(err error) bool {
		return (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) && ctx.Err() == nil
	}, func() error {
		cm, err := cms.Get(ctx, g.name, metav1.GetOptions{})
		missing := apierrors.IsNotFound(err)
		if err != nil && !missing {
			return fmt.Errorf("reading %s: %w", g, err)
		}
		if missing {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: g.name, Namespace: g.namespace,
				Labels: map[string]string{GatesLabel: "gates", "app.kubernetes.io/name": "augur"}}}
		}
		old, found := cm.Data[k]
		v, keep, err := f(old, found)
		switch {
		case err != nil:
			return err
		case !keep && !found, keep && found && v == old:
			return nil
		case keep && !found && len(cm.Data) >= MaxGatesPerConfigMap:
			return fmt.Errorf("%s: %w (%d): close some first", g, ErrGatesFull, MaxGatesPerConfigMap)
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		if keep {
			cm.Data[k] = v
		} else {
			delete(cm.Data, k)
		}
		if missing {
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: UserAgent})
		} else {
			_, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: UserAgent})
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", g, err)
	}
	return nil
}
