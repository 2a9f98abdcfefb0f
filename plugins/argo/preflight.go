package argo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"

	"github.com/augurproj/augur/lint"
)

// PreflightFunc lints what the rollout of Argo Rollout namespace/name
// depends on, read from the cluster, and returns the findings about it. The
// CLI builds it over package kube.
type PreflightFunc func(ctx context.Context, namespace, rollout string) ([]lint.Finding, error)

// modePreflight is a configuration with preflight: true.
const modePreflight = "preflight"

// validatePreflight checks a preflight configuration: it measures nothing,
// so the measurement fields are errors rather than silently ignored.
func (p *parsed) validatePreflight(defaultTimeout time.Duration) error {
	p.mode = modePreflight
	if p.Query != "" || p.Template != nil || p.Builtin != "" || p.Data != "" || p.Address != "" ||
		p.ThresholdRange != nil || len(p.Judge) > 0 {
		return errors.New("preflight: true checks the Rollout's configuration and measures nothing: " +
			"drop query, template, builtin, address, data, thresholdRange and judge (use another metric for them)")
	}
	p.timeout = defaultTimeout
	if p.Timeout != "" {
		d, err := time.ParseDuration(p.Timeout)
		if err != nil || d <= 0 || d > MaxTimeout {
			return fmt.Errorf("timeout %q: want a Go duration between 0 and %s", p.Timeout, MaxTimeout)
		}
		p.timeout = d
	}
	return nil
}

// runPreflight lints the Rollout: Failed with the error findings, Successful
// without; Error when there is no cluster access or the cluster cannot be read.
func (p *Provider) runPreflight(ctx context.Context, run *v1alpha1.AnalysisRun, cfg *parsed) verdict {
	if p.preflight == nil {
		return verdict{phase: v1alpha1.AnalysisPhaseError, message: "preflight needs cluster access: " +
			"start the plugin with `augur argo-plugin --cluster` (args in the argo-rollouts-config entry)"}
	}
	ns := runNamespace(run)
	name := cfg.Target
	if name == "" {
		name = cfg.Name
	}
	if name == "" && run != nil {
		for _, o := range run.OwnerReferences {
			if o.Kind == "Rollout" {
				name = o.Name
			}
		}
	}
	if name == "" {
		return verdict{phase: v1alpha1.AnalysisPhaseError, message: configErrorf("preflight: the AnalysisRun has no Rollout owner: give target, the Rollout's name").Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	fs, err := p.preflight(ctx, ns, name)
	if err != nil {
		return verdict{phase: v1alpha1.AnalysisPhaseError, message: fmt.Sprintf("preflight of Rollout %s/%s: %v", ns, name, err)}
	}
	var errs []lint.Finding
	for _, f := range fs {
		if f.Severity == lint.Error {
			errs = append(errs, f)
		}
	}
	v := verdict{value: fmt.Sprint(len(errs))}
	if len(errs) > 0 {
		v.phase = v1alpha1.AnalysisPhaseFailed
		v.message = fmt.Sprintf("augur preflight: Rollout %s/%s: %d error(s): %s", ns, name, len(errs), lint.OneLine(errs))
		return v
	}
	v.phase = v1alpha1.AnalysisPhaseSuccessful
	v.message = fmt.Sprintf("augur preflight: Rollout %s/%s: no errors (%s)", ns, name, lint.Summary(fs))
	return v
}
