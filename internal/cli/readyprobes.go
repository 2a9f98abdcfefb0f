package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/kube/clustermetrics"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/vendors"
	"github.com/augurproj/augur/redact"
	"github.com/augurproj/augur/server"
)

// onlineTypes are the provider types whose /readyz probe is their own
// IsOnline check (Flagger's), not the Prometheus probe query.
func onlineType(t string) bool {
	return contains(vendors.Types, t) || contains(clustermetrics.Types, t)
}

// vendorProbes are /readyz's probes of the non-Prometheus providers that
// the MetricTemplates name: one per distinct provider of the files'
// templates, and one for the cluster's templates (listed on every /readyz,
// so templates added later are checked too). Secrets are read on every
// probe, as Flagger reads them on every tick.
func vendorProbes(reg *metrics.Registry, set *manifest.Set, cluster *kube.Source, recorded bool) []server.Probe {
	if recorded {
		return nil // --data: the vendor types refuse, nothing to probe
	}
	var secrets engine.SecretSource
	switch {
	case cluster != nil:
		secrets = cluster
	case set != nil && len(set.Secrets) > 0:
		secrets = setSecrets{set}
	}
	var probes []server.Probe
	if set != nil {
		seen := map[string]bool{}
		for _, mt := range set.Templates {
			if !onlineType(mt.Spec.Provider.Type) {
				continue
			}
			k := templateProviderKey(mt)
			if seen[k] {
				continue
			}
			seen[k] = true
			mt := mt
			probes = append(probes, server.Probe{Name: probeName(mt), Provider: onlineProbe{check: func(ctx context.Context) error {
				return templateOnline(ctx, reg, secrets, mt)
			}}})
		}
	}
	if cluster != nil {
		probes = append(probes, server.Probe{Name: "metrics providers of the cluster's MetricTemplates (" + strings.Join(append(append([]string{}, vendors.Types...), clustermetrics.Types...), ", ") + ")",
			Provider: onlineProbe{check: func(ctx context.Context) error { return clusterOnline(ctx, reg, cluster) }}})
	}
	return probes
}

// onlineProbe is a probe whose check is the provider's IsOnline.
type onlineProbe struct {
	check func(ctx context.Context) error
}

func (p onlineProbe) Query(context.Context, string, time.Time) (float64, error) {
	return 0, errors.New("an online probe runs no query")
}

func (p onlineProbe) IsOnline(ctx context.Context) error { return p.check(ctx) }

var _ metrics.OnlineChecker = onlineProbe{}

func probeName(mt analysis.MetricTemplate) string {
	addr := mt.Spec.Provider.Address
	if u, err := url.Parse(addr); err == nil && u.User != nil {
		addr = u.Redacted()
	}
	name := mt.Spec.Provider.Type
	if addr != "" {
		name += " " + addr
	}
	return name + " (MetricTemplate " + mt.Metadata.Namespace + "/" + mt.Metadata.Name + ")"
}

// templateProviderKey identifies a template's provider: the same type,
// address, options and secret are probed once.
func templateProviderKey(mt analysis.MetricTemplate) string {
	p := mt.Spec.Provider
	secret := ""
	if p.SecretRef != nil {
		secret = mt.Metadata.Namespace + "/" + p.SecretRef.Name
	}
	hs := make([]string, 0, len(p.Headers))
	for k, v := range p.Headers {
		hs = append(hs, k+"="+strings.Join(v, ","))
	}
	sort.Strings(hs)
	return strings.Join([]string{p.Type, p.Address, fmt.Sprint(p.InsecureSkipVerify), p.Region, secret, strings.Join(hs, "\x00")}, "\x00")
}

// templateOnline builds the template's provider (its Secret read now) and
// runs its IsOnline. Every credential is added to the request's redaction
// set before anything can fail.
func templateOnline(ctx context.Context, reg *metrics.Registry, secrets engine.SecretSource, mt analysis.MetricTemplate) error {
	p := mt.Spec.Provider
	cfg := metrics.Config{Type: p.Type, Address: p.Address, Headers: p.Headers, InsecureSkipVerify: p.InsecureSkipVerify, Region: p.Region}
	if ref := p.SecretRef; ref != nil {
		cfg.HasSecret = true
		if secrets == nil {
			return fmt.Errorf("secret %s.%s: no Secret source (give the Secret with -f, or a cluster)", ref.Name, mt.Metadata.Namespace)
		}
		data, err := secrets.Secret(ctx, mt.Metadata.Namespace, ref.Name)
		if err != nil {
			return fmt.Errorf("secret %s.%s: %w", ref.Name, mt.Metadata.Namespace, err)
		}
		cfg.Credentials = data
	}
	cfg.Redact(redact.FromContext(ctx)) // the answer's boundary scrubs them too
	rs := redact.New(redact.FromContext(ctx))
	cfg.Redact(rs)
	prov, err := reg.New(cfg)
	if err != nil {
		return rs.Error(err)
	}
	oc, ok := prov.(metrics.OnlineChecker)
	if !ok {
		return nil
	}
	return rs.Error(oc.IsOnline(ctx))
}

// clusterOnline checks every distinct non-Prometheus provider of the
// cluster's MetricTemplates, concurrently.
func clusterOnline(ctx context.Context, reg *metrics.Registry, cluster *kube.Source) error {
	tpls, err := cluster.MetricTemplates(ctx, "")
	if errors.Is(err, kube.ErrListing) {
		return err // not knowing the providers is not "all online"
	}
	// An undecodable template (the other errors) fails its own evaluations.
	if err := ctx.Err(); err != nil {
		return err
	}
	seen := map[string]bool{}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, mt := range tpls {
		if !onlineType(mt.Spec.Provider.Type) || seen[templateProviderKey(mt)] {
			continue
		}
		seen[templateProviderKey(mt)] = true
		wg.Go(func() {
			if err := templateOnline(ctx, reg, cluster, mt); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", probeName(mt), err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}
