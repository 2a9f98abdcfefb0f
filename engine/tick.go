package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/redact"
	"github.com/augurproj/augur/webhooks"
)

// HookCaller calls one webhook. *webhooks.Client implements it.
type HookCaller interface {
	Call(ctx context.Context, hook webhooks.Hook, p webhooks.Payload) error
}

// StaticHooks answers every webhook without any network call: Pass true
// means gates open, checks pass and rollback hooks do not signal a rollback;
// Pass false means every hook fails (and so rollback hooks do not signal
// either). It is what `--webhooks pass|fail` selects.
type StaticHooks struct {
	Pass bool
}

// Call implements HookCaller.
func (s StaticHooks) Call(_ context.Context, h webhooks.Hook, _ webhooks.Payload) error {
	if s.Pass && h.Type != string(analysis.HookRollback) {
		return nil
	}
	if h.Type == string(analysis.HookRollback) {
		return errors.New("rollback not signalled (webhooks answered statically)")
	}
	return errors.New("webhook failed (webhooks answered statically: fail)")
}

// TickRequest is one analysis tick's input.
type TickRequest struct {
	Canary      analysis.Canary
	Status      analysis.CanaryStatus
	NewRevision bool
	Readiness   analysis.Readiness
	// Checksum is passed through to webhook payloads; empty means a stable
	// hash of the canary spec.
	Checksum string
	// At is when the metrics are evaluated; zero means the provider's now.
	At time.Time
	// Now is the tick's time, handed to the core.
	Now time.Time
	// Templates, when set, are searched for templateRefs before Options.Templates.
	Templates TemplateSource
	// Hooks, when set, answers this tick's webhooks instead of Options.Hooks.
	Hooks HookCaller
	// Values gives metrics' values by metric name instead of querying them.
	Values map[string]Value
	// Judges are judge settings by metric name, merged key by key over the
	// Canary's judge annotations (see PlanOptions).
	Judges map[string]map[string]string
	// Score holds score thresholds (keys pass and marginal) merged over the
	// Canary's score annotation.
	Score map[string]string
	// Plans, when set, are the tick's metric plans, made by the caller with
	// PlanFor over the same Canary, Templates and Judges (to check them
	// first); the tick then does not plan again.
	Plans []MetricPlan
}

// maxSteps bounds the core's requests in one tick; the core asks for at most
// one hook type of each kind plus the metrics, far below this.
const maxSteps = 32

// Tick runs one tick: it asks the core what it needs, gathers exactly that
// (webhooks in spec order, all metrics concurrently), and returns the core's
// decision. Post-rollout and event hooks the decision calls for are run
// afterwards and recorded in Decision.Hooks.
func (e *Engine) Tick(ctx context.Context, req TickRequest) (analysis.Decision, error) {
	if err := analysis.ValidateStatus(req.Status); err != nil {
		// Never act on a status out of range: it would advance or promote.
		return analysis.Decision{}, fmt.Errorf("tick %s.%s: %w", req.Canary.Metadata.Name, req.Canary.Metadata.Namespace, err)
	}
	in := analysis.Input{
		Canary:       req.Canary,
		MeshProvider: e.opts.MeshProvider,
		Status:       req.Status,
		NewRevision:  req.NewRevision,
		Readiness:    req.Readiness,
		Hooks:        map[analysis.HookType][]analysis.HookResult{},
		Now:          req.Now,
	}
	if err := analysis.CheckMirror(&req.Canary, e.opts.MeshProvider); err != nil {
		return analysis.Decision{}, fmt.Errorf("tick: %w", err)
	}
	if err := analysis.CheckPromotionSteps(&req.Canary, e.opts.MeshProvider); err != nil {
		return analysis.Decision{}, fmt.Errorf("tick: %w", err)
	}
	checksum := req.Checksum
	if checksum == "" {
		checksum = SpecChecksum(&req.Canary)
	}
	score, err := ScoreConfig(&req.Canary, req.Score)
	if err != nil {
		return analysis.Decision{}, fmt.Errorf("tick %s.%s: %w", req.Canary.Metadata.Name, req.Canary.Metadata.Namespace, err)
	}
	in.Score = score
	// Events are sent to event hooks as Flagger records them: those the
	// core recorded before a need, before gathering it.
	sent := 0
	var eventHooks []analysis.HookResult
	for range maxSteps {
		if err := ctx.Err(); err != nil {
			return analysis.Decision{}, fmt.Errorf("tick %s.%s: %w", req.Canary.Metadata.Name, req.Canary.Metadata.Namespace, err)
		}
		r := analysis.Step(in)
		if r.Decision != nil {
			d := *r.Decision
			d.Hooks = append(d.Hooks, eventHooks...)
			e.afterDecision(ctx, &req, checksum, &d, min(sent, len(d.Events)))
			e.opts.Logger.Info("decision", "canary", req.Canary.Metadata.Namespace+"/"+req.Canary.Metadata.Name,
				"action", d.Action, "phase", d.Status.Phase, "weight", d.Status.CanaryWeight,
				"failedChecks", d.Status.FailedChecks, "reasons", d.Reasons)
			return d, nil
		}
		if r.Need == nil {
			return analysis.Decision{}, errors.New("analysis core returned neither a need nor a decision")
		}
		if len(r.Events) > sent {
			eventHooks = append(eventHooks, e.sendEvents(ctx, &req, checksum, r.Events[sent:])...)
			sent = len(r.Events)
		}
		switch {
		case r.Need.Providers:
			if in.Providers != nil {
				return analysis.Decision{}, errors.New("analysis core asked about the providers twice")
			}
			in.Providers = e.providersOnline(ctx, &req)
		case r.Need.Metrics:
			if in.MetricsGathered {
				return analysis.Decision{}, errors.New("analysis core asked for the metrics twice")
			}
			plans := req.Plans
			if plans == nil {
				var err error
				if plans, err = e.PlanFor(ctx, &req.Canary, PlanOptions{Templates: req.Templates, Judges: req.Judges}); err != nil {
					return analysis.Decision{}, fmt.Errorf("plan metrics: %w", err)
				}
			}
			at := req.At
			if at.IsZero() {
				at = req.Now
			}
			in.Metrics = e.EvaluateFor(ctx, plans, EvalOptions{
				At: req.At, JudgeAt: at, AnalysisStart: parseStart(req.Status.AnalysisStart),
				Interval: req.Canary.GetAnalysis().IntervalDuration(), Values: req.Values,
			})
			in.MetricsGathered = true
		case r.Need.Hooks != "":
			if _, done := in.Hooks[r.Need.Hooks]; done {
				return analysis.Decision{}, fmt.Errorf("analysis core asked for %s hooks twice", r.Need.Hooks)
			}
			// Flagger records a hook's event as the hook returns, before
			// it calls the next hook of the type: send it then, and skip it
			// when the core's events come back with it.
			pre := 0
			in.Hooks[r.Need.Hooks] = e.callHooksEach(ctx, &req, &req.Canary, r.Need.Hooks, payloadPhase(r.Need.Hooks, req.Status.Phase), checksum,
				func(hr analysis.HookResult) {
					if ev, ok := analysis.HookCallEvent(r.Need.Hooks, hr); ok {
						eventHooks = append(eventHooks, e.sendEvents(ctx, &req, checksum, []analysis.Event{ev})...)
						pre++
					}
				})
			sent += pre
		default:
			return analysis.Decision{}, errors.New("analysis core returned an empty need")
		}
	}
	return analysis.Decision{}, fmt.Errorf("analysis core did not decide within %d steps", maxSteps)
}

// payloadPhase is the phase Flagger puts in each hook type's payload.
func payloadPhase(t analysis.HookType, current analysis.Phase) analysis.Phase {
	switch t {
	case analysis.HookConfirmRollout, analysis.HookRollback, analysis.HookEvent:
		if current == "" {
			return analysis.PhaseInitializing
		}
		return current
	default:
		return analysis.PhaseProgressing
	}
}

// callHooks calls the canary's hooks of one type in spec order. Gating hooks
// stop at the first failure; rollback hooks stop at the first success (any
// success signals a rollback).
func (e *Engine) callHooks(ctx context.Context, req *TickRequest, c *analysis.Canary, t analysis.HookType, phase analysis.Phase, checksum string) []analysis.HookResult {
	return e.callHooksEach(ctx, req, c, t, phase, checksum, nil)
}

// callHooksEach is callHooks calling each (when set) after every hook.
func (e *Engine) callHooksEach(ctx context.Context, req *TickRequest, c *analysis.Canary, t analysis.HookType, phase analysis.Phase, checksum string, each func(analysis.HookResult)) []analysis.HookResult {
	results := []analysis.HookResult{}
	a := c.GetAnalysis()
	if a == nil {
		return results
	}
	for _, h := range a.Webhooks {
		if analysis.NormalizeHookType(h.Type) != t {
			continue
		}
		err := e.callOne(ctx, req, h, webhooks.Payload{
			Name: c.Metadata.Name, Namespace: c.Metadata.Namespace, Phase: string(phase),
			Checksum: checksum, Metadata: hookMetadata(h),
		})
		r := hookResult(h.Name, t, err)
		results = append(results, r)
		if each != nil {
			each(r)
		}
		e.opts.Logger.Debug("webhook", "type", t, "name", h.Name, "passed", err == nil, "error", r.Err)
		if t == analysis.HookRollback {
			if err == nil {
				break
			}
		} else if err != nil {
			break
		}
	}
	return results
}

// hookResult is a call's outcome: Flagger's error text (what its event
// says) and, when augur knows more, the fuller text as the detail.
func hookResult(name string, t analysis.HookType, err error) analysis.HookResult {
	r := analysis.HookResult{Name: name, Type: t}
	if err != nil {
		r.Err = webhooks.FlaggerText(err)
		if full := err.Error(); full != r.Err {
			r.Detail = full
		}
	}
	return r
}

func hookMetadata(h analysis.Webhook) map[string]string {
	if h.Metadata == nil {
		return nil
	}
	return *h.Metadata
}

func (e *Engine) callOne(ctx context.Context, req *TickRequest, h analysis.Webhook, p webhooks.Payload) error {
	caller := e.opts.Hooks
	if req.Hooks != nil {
		caller = req.Hooks
	}
	if caller == nil {
		return errors.New("no webhook caller configured")
	}
	timeout, err := webhooks.ParseTimeout(h.Timeout)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", h.Name, err)
	}
	return caller.Call(ctx, webhooks.Hook{
		Name: h.Name, URL: h.URL, Type: string(analysis.NormalizeHookType(h.Type)), Timeout: timeout,
		Retries: h.Retries, DisableTLS: h.DisableTLS, Metadata: hookMetadata(h),
	}, p)
}

// afterDecision runs the post-rollout hooks a decision asks for and sends
// its events not sent yet (from index sent) to event hooks, in Flagger's
// order: the events before the post-rollout hooks, the hooks, then their
// events and the rest. Their failures are recorded, never decisive.
func (e *Engine) afterDecision(ctx context.Context, req *TickRequest, checksum string, d *analysis.Decision, sent int) {
	if d.PostRollout != "" {
		at := max(analysis.PostRolloutAt(d), sent)
		d.Hooks = append(d.Hooks, e.sendEvents(ctx, req, checksum, d.Events[sent:at])...)
		sent = at
		// Flagger records each post-rollout hook's event (and sends it to
		// the event hooks) before it calls the next hook.
		var sentPost []analysis.HookResult
		post := e.callHooksEach(ctx, req, &req.Canary, analysis.HookPostRollout, d.PostRollout, checksum, func(r analysis.HookResult) {
			one := analysis.Decision{PostRollout: d.PostRollout}
			analysis.AddPostRolloutEvents(&one, req.Status.Phase, []analysis.HookResult{r})
			sentPost = append(sentPost, e.sendEvents(ctx, req, checksum, one.Events)...)
		})
		d.Hooks = append(d.Hooks, post...)
		d.Hooks = append(d.Hooks, sentPost...)
		before := len(d.Events)
		analysis.AddPostRolloutEvents(d, req.Status.Phase, post)
		sent += len(d.Events) - before
	}
	d.Hooks = append(d.Hooks, e.sendEvents(ctx, req, checksum, d.Events[sent:])...)
}

// sendEvents posts events to the canary's event hooks, each event to every
// event hook in spec order, as Flagger's sendEventToWebhook does.
func (e *Engine) sendEvents(ctx context.Context, req *TickRequest, checksum string, evs []analysis.Event) []analysis.HookResult {
	a := req.Canary.GetAnalysis()
	if a == nil || len(evs) == 0 {
		return nil
	}
	var out []analysis.HookResult
	for _, ev := range evs {
		for _, h := range a.Webhooks {
			if h.Type != analysis.HookEvent {
				continue
			}
			hook := webhooks.Hook{Name: h.Name, URL: h.URL, Type: string(h.Type), Metadata: hookMetadata(h)}
			p := webhooks.EventPayload(hook, webhooks.Event{
				Name: req.Canary.Metadata.Name, Namespace: req.Canary.Metadata.Namespace,
				Phase: string(eventPhase(ev, req.Status.Phase)), Message: redact.FromContext(ctx).String(ev.Message), Type: webhooks.EventType(ev.Type), Time: req.Now,
			})
			p.Checksum = checksum
			err := e.callOne(ctx, req, h, p)
			out = append(out, hookResult(h.Name, analysis.HookEvent, err))
		}
	}
	return out
}

// eventPhase is the phase an event hook receives for ev: the phase of the
// Canary object Flagger records it on (analysis.Event.Phase), else the
// phase the tick started in.
func eventPhase(ev analysis.Event, start analysis.Phase) analysis.Phase {
	if ev.Phase != "" {
		return ev.Phase
	}
	return payloadPhase(analysis.HookEvent, start)
}

// SpecChecksum is a stable hash of the canary's spec, used as the webhook
// payload checksum when the caller supplies none (Flagger hashes its tracked
// configs and last applied spec; the value is opaque to webhooks).
func SpecChecksum(c *analysis.Canary) string {
	b, err := json.Marshal(c.Spec)
	if err != nil {
		return ""
	}
	h := fnv.New32a()
	h.Write(b)
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// parseStart reads status.analysisStart; anything unparsable is unknown.
func parseStart(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
