package analysis

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis/judges"
)

// Step runs one tick of Flagger v1.44.0's advanceCanary as far as the input
// allows. It returns either a Need — the next thing Flagger would have
// consulted at this point of the tick (one webhook type, or every metric) —
// or the tick's Decision.
//
// The caller adds what was asked for (Input.Hooks[type], or Input.Metrics
// with MetricsGathered) and calls Step again with the same input otherwise;
// Step replays the tick from the start, so it is deterministic and never
// asks for the same thing twice. Hooks are asked for lazily, exactly when
// Flagger would call them: a hook type with no webhooks configured is never
// asked for, and neither are metrics when the analysis has none.
//
// Hook results are read in spec order: a gating type (confirm-rollout,
// pre-rollout, rollout, confirm-traffic-increase, confirm-promotion) fails
// at its first failed result, a rollback type signals at its first passing
// result, and results after the deciding one are ignored. Results that do
// not match the configured webhooks, or observations that do not cover the
// configured metrics, are a malformed input: the Decision holds with a
// reason and changes nothing.
func Step(in Input) Result {
	t := newTick(&in)
	t.run()
	if t.need != nil {
		return Result{Need: t.need, Events: t.events}
	}
	d := t.finish()
	return Result{Decision: &d}
}

// tick is one Step's working state.
type tick struct {
	in  *Input
	c   *Canary
	a   *Analysis
	n   names
	st  CanaryStatus
	mir bool
	// rw is the canary's share at the router.
	rw       int
	provider string
	// metricIdx maps metric names to their spec position (set when the
	// observations are validated).
	metricIdx map[string]int

	need    *Need
	action  Action
	events  []Event
	alerts  []AlertMessage
	checks  []Check
	summary *judges.Summary
	hooks   []HookResult
	reasons []string
	post    Phase
	// held is the split the status holds; routed is set when the tick
	// routes (for the kubernetes provider, whose router reads differently,
	// an unrouted tick reports held).
	held   Weights
	routed bool
	// isMalformed is set when the input was malformed: nothing changes.
	isMalformed bool
}

func newTick(in *Input) *tick {
	st := in.Status
	routes := st.Routes()
	provider := in.Canary.Spec.Provider
	if provider == "" {
		provider = in.MeshProvider
	}
	if provider == "" {
		provider = DefaultMeshProvider
	}
	read := routes
	if provider == kubernetesProvider {
		// Flagger's kubernetes provider has no router: its NopRouter
		// reports the canary at 100 once an iteration has run, else at 0,
		// whatever was routed before (found by compat
		// TestSchedulerGenerated: a failed promotion leaves the canary
		// routed at 100, yet the next analysis starts from 0). The tick
		// reads that; what it reports stays the status's own split unless
		// the tick routes.
		read = Weights{Primary: 100}
		if st.Iterations > 0 {
			read = Weights{Canary: 100}
		}
	}
	return &tick{
		in:       in,
		c:        &in.Canary,
		a:        in.Canary.GetAnalysis(),
		n:        namesOf(&in.Canary),
		st:       st,
		mir:      read.Mirrored,
		rw:       read.Canary,
		held:     routes,
		provider: provider,
		action:   ActionHold,
	}
}

// event records e on the Canary object as the tick found it (see
// Event.Phase); eventIn records it on a copy whose phase is p.
func (t *tick) event(e Event) { t.eventIn(startPhase(t.in.Status.Phase), e) }
func (t *tick) eventIn(p Phase, e Event) {
	e.Phase = p
	t.events = append(t.events, e)
}

// startPhase is the phase of the Canary object at the start of a tick:
// Flagger's empty phase is Initializing.
func startPhase(p Phase) Phase {
	if p == "" {
		return PhaseInitializing
	}
	return p
}
func (t *tick) alert(s AlertSeverity, msg string) {
	t.alerts = append(t.alerts, AlertMessage{Severity: s, Message: msg})
}
func (t *tick) reason(format string, args ...any) {
	t.reasons = append(t.reasons, fmt.Sprintf(format, args...))
}

// hold ends the tick with ActionHold.
func (t *tick) hold(format string, args ...any) {
	t.action = ActionHold
	t.reason(format, args...)
}

// setPhase is Flagger's SetStatusPhase: every phase but Progressing, Waiting
// and Promoting zeroes canaryWeight and iterations (WaitingPromotion keeps
// iterations-1). Entering Promoting keeps both; Finalising zeroes them a tick
// later. The router is not touched.
func (t *tick) setPhase(p Phase, iterations int) {
	t.st.Phase = p
	if p != PhaseProgressing && p != PhaseWaiting && p != PhasePromoting {
		t.st.CanaryWeight = 0
		t.st.Iterations = 0
		if p == PhaseWaitingPromotion {
			t.st.Iterations = iterations - 1
		}
	}
}

// syncStatus is Flagger's SyncStatus with a fresh status: phase set, every
// counter zeroed. The analysis start is cleared too; finish sets it to the
// tick's time when the new phase is an analysis phase.
func (t *tick) syncStatus(p Phase) {
	t.st.Phase = p
	t.st.CanaryWeight = 0
	t.st.FailedChecks = 0
	t.st.Iterations = 0
	t.st.AnalysisStart = ""
}

func (t *tick) route(canary int, mirrored bool) {
	t.routed = true
	t.rw = min(max(canary, 0), 100)
	t.mir = mirrored
}

func (t *tick) iterations() int {
	if t.a == nil {
		return 0
	}
	return t.a.Iterations
}

func inPhase(p Phase, ps ...Phase) bool { return slices.Contains(ps, p) }

func (t *tick) run() {
	in := t.in
	phase := t.st.Phase
	if t.c.Spec.Suspend {
		t.event(normal(msgSuspended))
		t.hold("The canary is suspended (spec.suspend), so the tick does nothing.")
		return
	}
	if phase == "" || phase == PhaseInitializing {
		// Flagger checks the metrics providers on every tick that starts
		// initialising (unless the analysis is skipped); the outcome is an
		// event only.
		if !t.c.SkipAnalysis() {
			if in.Providers == nil {
				t.need = &Need{Providers: true}
				return
			}
			if in.Providers.Err != "" {
				t.event(warning(msgProvidersError + in.Providers.Err))
			} else {
				t.event(normal(msgProvidersOnline))
			}
		}
		t.syncStatus(PhaseInitialized)
		t.route(0, false)
		t.eventIn(PhaseInitialized, normal(t.n.initialized()))
		t.alert(SeverityInfo, t.n.initAlert())
		t.hold("Phase %q: the primary is created from the target and the canary scaled to zero (Initialized); there is nothing to analyse yet.", phase)
		return
	}
	if !inPhase(phase, PhaseProgressing, PhaseWaiting, PhaseWaitingPromotion, PhasePromoting, PhaseFinalising) && !in.NewRevision {
		t.hold("Phase %s and no new revision: there is nothing to analyse.", phase)
		return
	}
	skip := t.c.SkipAnalysis()
	r := in.Readiness
	promoting := inPhase(phase, PhasePromoting, PhaseFinalising)
	// A deadline belongs to the primary when the primary is the one not
	// ready (or, naming neither, while promoting); Flagger checks the
	// primary only when the analysis is not skipped.
	primaryFlagged := r.PrimaryNotReady || (!r.CanaryNotReady && promoting)
	primaryDeadline := !skip && r.DeadlineExceeded && primaryFlagged
	if !skip && (primaryDeadline || r.PrimaryNotReady) {
		t.primaryNotReady(primaryDeadline)
		return
	}
	if !t.checkCanaryStatus() {
		return
	}
	if inPhase(phase, PhaseProgressing, PhaseWaitingPromotion) && in.NewRevision {
		t.event(normal(t.n.restarting()))
		t.route(0, false)
		t.syncStatus(PhaseProgressing)
		t.action = ActionAdvance
		t.reason("A new revision was detected during the analysis (phase %s): all traffic goes back to the primary and the analysis restarts from weight 0 with no failed checks.", phase)
		return
	}
	if r.CanaryNotReady && !r.DeadlineExceeded {
		t.event(warning(t.n.readinessMessage(r, false, false)))
		t.hold("The canary workload is not ready yet (retriable): the tick ends without counting a failed check.")
		return
	}
	if r.DeadlineExceeded && !primaryDeadline && (r.CanaryNotReady || !primaryFlagged) {
		// Flagger's IsCanaryReady error: the error is the event, and a
		// non-retriable one rolls back at once, before skipAnalysis and
		// whatever the phase (its "Rolling back … progress deadline
		// exceeded" branch is unreachable in v1.44.0; compat sched
		// progress-deadline).
		t.event(warning(t.n.readinessMessage(r, false, true)))
		t.reason("The canary exceeded its progress deadline (non-retriable): Flagger rolls back at once, whatever the phase (%s) and the failed checks (%d of threshold %d).", phase, t.st.FailedChecks, t.a.GetThreshold())
		t.rollback()
		return
	}
	if skip {
		t.skipAnalysis()
		return
	}
	// Rollback hooks run in Progressing and WaitingPromotion only. Flagger's
	// docs (and the phase list in its code) include Waiting too, but a
	// Waiting canary never gets this far in Flagger's tick: checkCanaryStatus
	// ends every Waiting tick, whether the confirm-rollout gate opens or not.
	// Augur reproduces what Flagger does, not what its docs say.
	if inPhase(phase, PhaseProgressing, PhaseWaitingPromotion) {
		signalled, ok := t.rollbackHooks()
		if !ok || signalled {
			return
		}
	}
	switch phase {
	case PhasePromoting:
		t.promotionShift()
		return
	case PhaseFinalising:
		t.finalise()
		return
	}
	threshold := t.a.GetThreshold()
	if t.st.FailedChecks >= threshold {
		t.reason("Failed checks %d reached the threshold %d on an earlier tick: rolling back.", t.st.FailedChecks, threshold)
		t.rollback()
		return
	}
	if !t.analyse(threshold) {
		return
	}
	t.strategy()
}

// primaryNotReady handles Flagger's IsPrimaryReady error.
func (t *tick) primaryNotReady(deadline bool) {
	msg := t.n.readinessMessage(t.in.Readiness, true, deadline)
	if !deadline {
		t.event(warning(msg))
		t.hold("The primary workload is not ready yet (retriable): the tick ends without counting a failed check.")
		return
	}
	t.event(warning(msg))
	if inPhase(t.st.Phase, PhasePromoting, PhaseFinalising) {
		t.event(warning(t.n.promotionFailed(msg)))
		t.alert(SeverityError, promotionFailedAlert(msg))
		t.route(100, false)
		t.syncStatus(PhaseFailed)
		// Flagger stores the weight that matches the routing.
		t.st.CanaryWeight = 100
		t.post = PhaseFailed
		t.action = ActionRollback
		t.reason("The promoted primary exceeded its progress deadline during %s: the promotion failed, so all traffic goes to the canary (the only healthy copy of the new revision) and the canary is marked Failed.", t.in.Status.Phase)
		return
	}
	t.reason("The primary exceeded its progress deadline (non-retriable): rolling back regardless of failed checks.")
	t.rollback()
}

// checkCanaryStatus is Flagger's checkCanaryStatus: it reports whether the
// tick goes on. A new revision (any phase outside the analysis) is gated by
// the confirm-rollout hooks and then starts Progressing on the next tick.
func (t *tick) checkCanaryStatus() bool {
	phase := t.st.Phase
	if inPhase(phase, PhaseProgressing, PhaseWaitingPromotion, PhasePromoting, PhaseFinalising) {
		return true
	}
	res, ok := t.gate(HookConfirmRollout)
	if !ok {
		return false
	}
	if res.failed != nil {
		if phase != PhaseWaiting {
			t.setPhase(PhaseWaiting, t.iterations())
			t.event(warning(t.n.waitingApproval(res.failed.Name)))
			if !t.muted(HookConfirmRollout, res.failed.Name) {
				t.alert(SeverityWarn, alertWaitingApproval)
			}
		}
		t.hold("The confirm-rollout hook %s did not approve the new revision (%s): the canary waits for approval (phase Waiting).", res.failed.Name, res.failed.explain())
		return false
	}
	t.eventIn(PhaseProgressing, normal(t.n.scalingUp()))
	t.alert(SeverityInfo, alertNewRevision)
	t.syncStatus(PhaseProgressing)
	t.action = ActionAdvance
	if phase == PhaseWaiting {
		t.reason("The confirm-rollout hooks approved the waiting revision: the canary is scaled up and the analysis starts on the next tick.")
	} else {
		t.reason("A new revision was detected (phase %s): the canary is scaled up and the analysis starts on the next tick.", phase)
	}
	return false
}

func (t *tick) skipAnalysis() {
	t.route(0, false)
	t.event(normal(t.n.copying()))
	t.setPhase(PhaseSucceeded, t.iterations())
	t.eventIn(PhaseSucceeded, normal(t.n.skipped()))
	t.alert(SeverityInfo, alertSkippedPromotion)
	t.post = PhaseSucceeded
	t.action = ActionPromote
	if t.a == nil {
		t.reason("The canary has no analysis block, so analysis is skipped: the canary is promoted at once (Succeeded).")
	} else {
		t.reason("spec.skipAnalysis is set: the canary is promoted at once without analysis (Succeeded).")
	}
}

// rollbackHooks runs the rollback hooks; it reports whether one signalled a
// rollback (and handled it), and false in ok when the tick must stop for a
// Need or a malformed input.
func (t *tick) rollbackHooks() (signalled, ok bool) {
	results, ok := t.hookResults(HookRollback)
	if !ok {
		return false, false
	}
	var signal *HookResult
	for i := range results {
		t.event(rollbackHookEvent(results[i]))
		if results[i].Passed() {
			signal = &results[i]
			break
		}
	}
	if signal == nil {
		return false, true
	}
	t.event(warning(t.n.manualRollback()))
	t.alert(SeverityWarn, alertManualRollback)
	t.reason("The rollback hook %s signalled a rollback.", signal.Name)
	t.rollback()
	return true, true
}

// rollback is Flagger's rollback(): all traffic to the primary, canary
// scaled to zero, status Failed, post-rollout hooks with phase Failed.
func (t *tick) rollback() {
	threshold := t.a.GetThreshold()
	if t.st.FailedChecks >= threshold {
		t.event(warning(t.n.thresholdReached(t.st.FailedChecks)))
		t.alert(SeverityError, thresholdAlert(t.st.FailedChecks))
	}
	t.route(0, false)
	t.eventIn(PhaseFailed, warning(t.n.failed()))
	t.syncStatus(PhaseFailed)
	t.post = PhaseFailed
	t.action = ActionRollback
}

// promotionShift is Flagger's runPromotionTrafficShift (phase Promoting).
func (t *tick) promotionShift() {
	t.action = ActionPromote
	if t.provider == kubernetesProvider {
		t.setPhase(PhaseFinalising, t.iterations())
		t.reason("Promoting with the kubernetes provider: no traffic shifting is possible, so the promotion moves to Finalising.")
		return
	}
	step := 0
	if t.a != nil {
		step = t.a.StepWeightPromotion
	}
	if step == 0 {
		t.event(normal(msgRoutingToPrimary))
		t.route(0, false)
		t.setPhase(PhaseFinalising, t.iterations())
		t.reason("The canary spec was copied to the primary: all traffic goes back to the primary in one step (stepWeightPromotion is 0), then Finalising.")
		return
	}
	if t.rw <= 0 {
		t.hold("Promoting with stepWeightPromotion %d but the canary receives no traffic: Flagger does nothing on this tick.", step)
		return
	}
	primary := min(100, 100-t.rw+step)
	canary := max(0, t.rw-step)
	t.route(canary, false)
	t.event(normal(t.n.advancePrimary(primary)))
	if primary == 100 {
		t.setPhase(PhaseFinalising, t.iterations())
		t.reason("Promotion traffic shift by stepWeightPromotion %d: the primary reaches 100%%, so the promotion moves to Finalising.", step)
		return
	}
	t.st.CanaryWeight = canary
	t.reason("Promotion traffic shift by stepWeightPromotion %d: primary %d%%, canary %d%%.", step, primary, canary)
}

// finalise is Flagger's Finalising tick: canary scaled to zero, Succeeded.
func (t *tick) finalise() {
	t.setPhase(PhaseSucceeded, t.iterations())
	t.eventIn(PhaseSucceeded, normal(t.n.completed()))
	t.alert(SeverityInfo, alertPromotionFinished)
	t.post = PhaseSucceeded
	t.action = ActionPromote
	t.reason("The promotion is finished: the canary is scaled to zero and the rollout Succeeded.")
}

// analyse runs the tick's checks: the pre-rollout hooks on the first tick of
// an analysis (no metrics then), else the rollout hooks and every metric. It
// reports whether the checks passed and the tick goes on to the strategy.
func (t *tick) analyse(threshold int) bool {
	if t.rw == 0 && t.st.Iterations == 0 && !(t.a.Mirror && t.mir) {
		t.event(normal(t.n.starting()))
		res, ok := t.gate(HookPreRollout)
		if !ok {
			return false
		}
		if res.failed != nil {
			t.event(warning(t.n.preRolloutFailed(res.failed.Name, res.failed.Err)))
			t.failCheck(threshold, "the pre-rollout hook %s failed: %s", res.failed.Name, res.failed.explain())
			return false
		}
		t.reason("First analysis tick (no traffic on the canary yet): the pre-rollout hooks passed and no metrics are checked.")
		return true
	}
	res, ok := t.gate(HookRollout)
	if !ok {
		return false
	}
	if res.failed != nil {
		t.event(warning(t.n.externalFailed(res.failed.Name, res.failed.Err)))
		t.failCheck(threshold, "the rollout hook %s failed: %s", res.failed.Name, res.failed.explain())
		return false
	}
	if len(t.a.Metrics) == 0 {
		t.reason("The analysis has no metrics; the rollout hooks passed.")
		return true
	}
	if !t.in.MetricsGathered {
		t.need = &Need{Metrics: true}
		return false
	}
	if !t.validMetrics() {
		return false
	}
	return t.evaluateMetrics(threshold)
}

// failCheck is Flagger's SetStatusFailedChecks(failedChecks+1) plus a hold.
func (t *tick) failCheck(threshold int, format string, args ...any) {
	t.st.FailedChecks++
	t.hold("Failed check: %s; failed checks %d of threshold %d (rollback on the tick after it is reached).",
		fmt.Sprintf(format, args...), t.st.FailedChecks, threshold)
}

// metricPass orders Flagger's two metric passes: builtin and inline-query
// metrics first (runBuiltinMetricChecks), then templates (runMetricChecks).
func metricPass(k MetricKind) int {
	if k == KindTemplate {
		return 1
	}
	return 0
}

// indexMetrics maps each metric name to its first position in the spec.
func (t *tick) indexMetrics() {
	t.metricIdx = make(map[string]int, len(t.a.Metrics))
	for i := range t.a.Metrics {
		if _, dup := t.metricIdx[t.a.Metrics[i].Name]; !dup {
			t.metricIdx[t.a.Metrics[i].Name] = i
		}
	}
}

// validMetrics checks that the observations belong to configured metrics,
// have a known kind and cover every configured metric.
func (t *tick) validMetrics() bool {
	t.indexMetrics()
	obs := t.in.Metrics
	covered := make([]bool, len(t.a.Metrics))
	for i := range obs {
		idx, ok := t.metricIdx[obs[i].Metric]
		if !ok {
			t.malformed("the observation %q names no metric of the analysis", obs[i].Metric)
			return false
		}
		if !knownKind(obs[i].Kind) {
			t.malformed("the observation of %s has an unknown kind %q", obs[i].Metric, obs[i].Kind)
			return false
		}
		covered[idx] = true
	}
	for i := range t.a.Metrics {
		if !covered[t.metricIdx[t.a.Metrics[i].Name]] {
			t.malformed("the metrics were gathered but the metric %s has no observation", t.a.Metrics[i].Name)
			return false
		}
	}
	return true
}

// evaluateMetrics turns every observation into a Check. The tick fails if
// any check fails; its event is the one Flagger records, for the first
// failure in Flagger's evaluation order (augur's text when a judge failed
// it). With no failure, an inconclusive judged check holds the tick without
// counting a failed check.
func (t *tick) evaluateMetrics(threshold int) bool {
	obs := t.in.Metrics
	t.checks = make([]Check, len(obs))
	first := -1
	var firstV violation
	var inconclusive []string
	for i := range obs {
		c, v := evaluate(&obs[i])
		t.checks[i] = c
		if c.Passed {
			continue
		}
		if c.Inconclusive {
			inconclusive = append(inconclusive, c.Metric)
			continue
		}
		if first < 0 || t.before(&obs[i], i, &obs[first], first) {
			first, firstV = i, v
		}
	}
	t.score()
	if first < 0 && len(inconclusive) == 0 {
		t.reason("All %d metric checks passed.", len(obs))
		return true
	}
	if first < 0 {
		t.event(t.n.judgeInconclusiveEvent(inconclusive))
		t.hold("%d of %d metric checks are inconclusive (%s): a judged metric that cannot decide yet holds the tick without counting a failed check (failed checks %d of threshold %d).",
			len(inconclusive), len(obs), inconclusiveReasons(t.checks), t.st.FailedChecks, threshold)
		return false
	}
	failed := 0
	for i := range t.checks {
		if !t.checks[i].Passed && !t.checks[i].Inconclusive {
			failed++
		}
	}
	if firstV.judge != nil {
		t.event(t.n.judgeHaltEvent(obs[first].Metric, firstV.judge))
	} else {
		t.event(t.n.haltEvent(t.c, &obs[first], firstV))
	}
	t.failCheck(threshold, "%d of %d metric checks failed (the first in Flagger's order: %s)", failed, len(obs), t.checks[first].Reason)
	return false
}

// inconclusiveReasons joins the reasons of the inconclusive checks.
func inconclusiveReasons(checks []Check) string {
	var out []string
	for i := range checks {
		if checks[i].Inconclusive {
			out = append(out, checks[i].Reason)
		}
	}
	return strings.Join(out, "; ")
}

func (t *tick) before(a *Observation, ai int, b *Observation, bi int) bool {
	if pa, pb := metricPass(a.Kind), metricPass(b.Kind); pa != pb {
		return pa < pb
	}
	if ia, ib := t.metricIdx[a.Metric], t.metricIdx[b.Metric]; ia != ib {
		return ia < ib
	}
	return ai < bi
}

// malformed ends the tick with a hold that changes nothing.
func (t *tick) malformed(format string, args ...any) {
	t.isMalformed = true
	t.summary = nil
	t.st = t.in.Status
	routes := t.in.Status.Routes()
	t.rw, t.mir = routes.Canary, routes.Mirrored
	t.events, t.alerts, t.checks, t.post = nil, nil, nil, ""
	t.hold("Malformed input, nothing changes: "+format+".", args...)
}

func (t *tick) finish() Decision {
	if t.provider == kubernetesProvider && !t.routed {
		t.rw, t.mir = t.held.Canary, t.held.Mirrored
	}
	st := t.st
	st.Mirrored = t.mir
	st.RouterWeight = nil
	if t.rw != st.CanaryWeight {
		rw := t.rw
		st.RouterWeight = &rw
	}
	st.LastTransitionTime = t.in.Status.LastTransitionTime
	if st.Phase != t.in.Status.Phase && !t.in.Now.IsZero() {
		st.LastTransitionTime = t.in.Now.UTC().Format(time.RFC3339)
	}
	if !t.isMalformed {
		st.AnalysisStart = analysisStart(st, t.in.Now)
	}
	d := Decision{
		Action:      t.action,
		Status:      st,
		Events:      t.events,
		Checks:      t.checks,
		Hooks:       t.hooks,
		Alerts:      t.alerts,
		Reasons:     t.reasons,
		PostRollout: t.post,
		Weights:     Weights{Primary: 100 - t.rw, Canary: t.rw, Mirrored: t.mir},
		Score:       t.summary,
	}
	if d.Events == nil {
		d.Events = []Event{}
	}
	if d.Checks == nil {
		d.Checks = []Check{}
	}
	if d.Reasons == nil {
		d.Reasons = []string{}
	}
	return d
}

// analysisStart is the next status's analysisStart: kept while the canary
// is in an analysis phase (Progressing, WaitingPromotion), set to the tick's
// time when an analysis phase has none yet (a new or restarted analysis, or
// a status written before the field existed), and cleared in every other
// phase. A zero Now leaves an unset start unset.
func analysisStart(st CanaryStatus, now time.Time) string {
	if !inPhase(st.Phase, PhaseProgressing, PhaseWaitingPromotion) {
		return ""
	}
	if st.AnalysisStart == "" && !now.IsZero() {
		return now.UTC().Format(time.RFC3339Nano)
	}
	return st.AnalysisStart
}
