package cli

import (
	"context"
	"fmt"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/lint"
	"github.com/augurproj/augur/plugins/argo"
	"github.com/augurproj/augur/server"
)

// preflightFor is the preflight gate over the cluster: nil without one
// (the endpoint then says it needs --cluster).
func preflightFor(src *kube.Source) server.PreflightFunc {
	if src == nil {
		return nil
	}
	return func(ctx context.Context, namespace, name string, opts lint.Options) ([]lint.Finding, error) {
		return preflight(ctx, src, "Canary", namespace, name, opts)
	}
}

// preflight lints the namespace of kind namespace/name (a Flagger Canary
// or an Argo Rollout) read from the cluster and keeps the findings about
// it and the objects its rollout depends on.
func preflight(ctx context.Context, src *kube.Source, kind, namespace, name string, opts lint.Options) ([]lint.Finding, error) {
	objs, facts, err := clusterLintObjects(ctx, src, namespace)
	if err != nil {
		return nil, err
	}
	key := kind + " " + namespace + "/" + name
	focus := []string{key}
	found := false
	for _, o := range objs {
		if o.Key() != key || (kind == "Canary" && o.APIVersion != "flagger.app/v1beta1") {
			continue
		}
		found = true
		if kind == "Canary" {
			ref, _ := o.Body["spec"].(map[string]any)["targetRef"].(map[string]any)
			tk, _ := ref["kind"].(string)
			tn, _ := ref["name"].(string)
			focus = append(focus, tk+" "+namespace+"/"+tn)
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: %w in the cluster", key, engine.ErrNotFound)
	}
	opts.Cluster = facts
	fs, err := lint.Run(objs, opts)
	if err != nil {
		return nil, err
	}
	return lint.Focus(fs, focus...), nil
}

// argoPreflight is the preflight of `augur argo-plugin --cluster`.
func argoPreflight(src *kube.Source) argo.PreflightFunc {
	return func(ctx context.Context, namespace, name string) ([]lint.Finding, error) {
		return preflight(ctx, src, "Rollout", namespace, name, lint.Options{})
	}
}
