package analysis

import (
	"fmt"
	"slices"
	"strings"
)

// The texts below are Flagger v1.44.0's event and alert messages
// (pkg/controller/scheduler*.go), reproduced exactly because users compare
// augur's output with `kubectl describe canary`. Flagger names the canary
// object (<name>.<ns>) in some and the target workload (<target>.<ns>) in
// others; the arguments follow Flagger's choice for each text.

// Event texts with no argument.
const (
	msgSuspended        = "skipping canary run as object is suspended"
	msgRoutingToPrimary = "Routing all traffic to primary"
	msgRoutingToCanary  = "Routing all traffic to canary"
	msgStopMirroring    = "Stop traffic mirroring and route all traffic to canary"
	msgABUnsupported    = "A/B testing is not supported when using the kubernetes provider"
	msgNoProgressive    = "Progressive traffic is not supported when using the kubernetes provider"
	msgSetIterations    = "Setting canaryAnalysis.iterations: 10"
	msgNoUsableMetric   = "Metric query failed for no usable metrics template and query were configured"
	// msgProvidersOnline and msgProvidersError are checkMetricProviderAvailability's.
	msgProvidersOnline = "all the metrics providers are available!"
	msgProvidersError  = "Error checking metric providers: "
)

// Alert texts with no argument.
const (
	alertNewRevision       = "New revision detected, progressing canary analysis."
	alertWaitingApproval   = "Canary is waiting for approval."
	alertWaitingTraffic    = "Canary traffic increase is waiting for approval."
	alertWaitingPromotion  = "Canary promotion is waiting for approval."
	alertManualRollback    = "Rolling back manual webhook invoked"
	alertPromotionFinished = "Canary analysis completed successfully, promotion finished."
	alertSkippedPromotion  = "Canary analysis was skipped, promotion finished."
)

const (
	// kubernetesProvider is the mesh provider that cannot shift traffic;
	// Flagger runs its canaries as blue/green with kubernetesIterations.
	kubernetesProvider   = "kubernetes"
	kubernetesIterations = 10
	// defaultReadinessSubject names the workload in readiness texts when
	// targetRef.kind is empty.
	defaultReadinessSubject = "deployment"
)

// names holds the identifiers Flagger's texts interpolate.
type names struct {
	name, ns, target, kind string
}

func namesOf(c *Canary) names {
	return names{
		name:   c.Metadata.Name,
		ns:     c.Metadata.Namespace,
		target: c.Spec.TargetRef.Name,
		kind:   c.Spec.TargetRef.Kind,
	}
}

func (n names) canary() string   { return n.name + "." + n.ns }
func (n names) workload() string { return n.target + "." + n.ns }
func (n names) primary() string  { return n.target + "-primary." + n.ns }

func (n names) initialized() string { return "Initialization done! " + n.canary() }
func (n names) initAlert() string {
	return fmt.Sprintf("New %s detected, initialization completed.", n.kind)
}
func (n names) scalingUp() string { return "New revision detected! Scaling up " + n.workload() }
func (n names) restarting() string {
	return "New revision detected! Restarting analysis for " + n.workload()
}
func (n names) starting() string { return "Starting canary analysis for " + n.workload() }
func (n names) copying() string {
	return "Copying " + n.workload() + " template spec to " + n.primary()
}
func (n names) completed() string { return "Promotion completed! Scaling down " + n.workload() }
func (n names) skipped() string {
	return "Promotion completed! Canary analysis was skipped for " + n.workload()
}
func (n names) failed() string { return "Canary failed! Scaling down " + n.canary() }
func (n names) manualRollback() string {
	return "Rolling back " + n.canary() + " manual webhook invoked"
}

func (n names) thresholdReached(failed int) string {
	return fmt.Sprintf("Rolling back %s failed checks threshold reached %d", n.canary(), failed)
}

func thresholdAlert(failed int) string {
	return fmt.Sprintf("Failed checks threshold reached %d", failed)
}

// promotionFailed is Flagger's handleFailedPromotion event (the primary
// exceeded its progress deadline while Promoting or Finalising), recorded
// after the readiness error itself.
func (n names) promotionFailed(msg string) string {
	return "Promotion of " + n.workload() + " failed, primary not ready: " + msg
}

func promotionFailedAlert(msg string) string { return "Promotion failed, primary not ready: " + msg }

func (n names) advanceWeight(w int) string {
	return fmt.Sprintf("Advance %s canary weight %d", n.canary(), w)
}

func (n names) advancePrimary(w int) string {
	return fmt.Sprintf("Advance %s primary weight %d", n.canary(), w)
}

func (n names) advanceIteration(i, total int) string {
	return fmt.Sprintf("Advance %s canary iteration %d/%d", n.canary(), i, total)
}

func (n names) waitingApproval(hook string) string {
	return "Halt " + n.canary() + " advancement waiting for approval " + hook
}

func (n names) waitingTraffic(hook string) string {
	return "Halt " + n.canary() + " advancement waiting for traffic increase approval " + hook
}

func (n names) waitingPromotion(hook string) string {
	return "Halt " + n.canary() + " advancement waiting for promotion approval " + hook
}

func (n names) preRolloutFailed(hook, err string) string {
	return "Halt " + n.canary() + " advancement pre-rollout check " + hook + " failed " + err
}

func (n names) externalFailed(hook, err string) string {
	return "Halt " + n.canary() + " advancement external check " + hook + " failed " + err
}

// hookPassedEvent is the event a passing hook of a gating type records.
func hookPassedEvent(t HookType, hook string) (Event, bool) {
	switch t {
	case HookConfirmRollout:
		return normal("Confirm-rollout check " + hook + " passed"), true
	case HookPreRollout:
		return normal("Pre-rollout check " + hook + " passed"), true
	case HookConfirmTrafficIncrease:
		return normal("Confirm-traffic-increase check " + hook + " passed"), true
	case HookConfirmPromotion:
		return normal("Confirm-promotion check " + hook + " passed"), true
	}
	return Event{}, false
}

func rollbackHookEvent(r HookResult) Event {
	if r.Passed() {
		return warning("Rollback check " + r.Name + " passed")
	}
	return normal("Rollback hook " + r.Name + " not signaling a rollback")
}

// readinessMessage is the error text of a readiness event: the caller's
// message, else the text Flagger's Deployment controller produces.
func (n names) readinessMessage(r Readiness, primary, deadline bool) string {
	if r.Message != "" {
		return r.Message
	}
	subject := strings.ToLower(n.kind)
	if subject == "" {
		subject = defaultReadinessSubject
	}
	reason := "waiting for rollout to finish"
	if primary {
		if deadline {
			reason = fmt.Sprintf("%s %q exceeded its progress deadline", subject, n.target+"-primary")
		}
		return n.primary() + " not ready: " + reason
	}
	if deadline {
		reason = fmt.Sprintf("%s %q exceeded its progress deadline", subject, n.target)
	}
	return "canary " + subject + " " + n.workload() + " not ready: " + reason
}

// haltEvent is the event Flagger records for the first failing metric.
func (n names) haltEvent(c *Canary, o *Observation, v violation) Event {
	if o.Err != nil {
		return n.metricErrorEvent(c, o)
	}
	op := "<"
	if v.side > 0 {
		op = ">"
	}
	switch o.Kind {
	case KindSuccessRate:
		return warning(fmt.Sprintf("Halt %s advancement success rate %.2f%% %s %v%%", n.canary(), o.Value, op, v.bound))
	case KindDuration:
		return warning(fmt.Sprintf("Halt %s advancement request duration %v %s %v", n.canary(), millis(o.Value), op, millis(v.bound)))
	default:
		return warning(fmt.Sprintf("Halt %s advancement %s %.2f %s %v", n.canary(), o.Metric, o.Value, op, v.bound))
	}
}

// metricErrorEvent is Flagger's event for a metric that has no value. Its
// "error" events (recordEventErrorf) are Warning events in Kubernetes.
func (n names) metricErrorEvent(c *Canary, o *Observation) Event {
	e := o.Err
	if e.Kind == ErrKindJudge {
		// augur's text: Flagger has no judges.
		return warning("Judge configuration of " + o.Metric + " is invalid: " + e.Message)
	}
	switch o.Kind {
	case KindSuccessRate, KindDuration:
		if e.Kind == ErrKindNoValues {
			msg := fmt.Sprintf("Halt advancement no values found for %s metric %s probably %s is not receiving traffic",
				o.Observer, o.Metric, n.workload())
			if o.Kind == KindSuccessRate {
				msg += ": " + e.Message
			}
			return warning(msg)
		}
		if e.Kind == ErrKindProvider && c.Spec.MetricsServer != "" {
			return warning(fmt.Sprintf("Error building Prometheus client for %s %s", c.Spec.MetricsServer, e.Message))
		}
		return warning("Prometheus query failed: " + e.Message)
	case KindQuery:
		if e.Kind == ErrKindNoValues {
			return warning("Halt advancement no values found for metric: " + o.Metric)
		}
		return warning("Prometheus query failed for " + o.Metric + ": " + e.Message)
	default:
		switch e.Kind {
		case ErrKindNoValues:
			return warning("Halt advancement no values found for custom metric: " + o.Metric + ": " + e.Message)
		case ErrKindNoMetric:
			return warning(msgNoUsableMetric)
		case ErrKindTemplate:
			return warning("Metric template " + o.Template + " error: " + e.Message)
		case ErrKindSecret:
			return warning("Metric template " + o.Template + " secret " + o.Secret + " error: " + e.Message)
		case ErrKindProvider:
			return warning("Metric template " + o.Template + " provider " + o.ProviderType + " error: " + e.Message)
		case ErrKindRender:
			return warning("Metric template " + o.Template + " query render error: " + e.Message)
		}
		return warning("Metric query failed for " + o.Metric + ": " + e.Message)
	}
}

func normal(msg string) Event  { return Event{Type: EventNormal, Message: msg} }
func warning(msg string) Event { return Event{Type: EventWarning, Message: msg} }

// AddPostRolloutEvents adds to d.Events the events Flagger's
// runPostRolloutHooks records for the post-rollout hook results (in spec
// order, up to and including the first failure): "Post-rollout check <name>
// passed" or "Post-rollout hook <name> failed <err>". start is the status
// phase the tick started in. After a promotion (d.PostRollout Succeeded)
// Flagger runs the hooks on the Succeeded copy just before its final
// "Promotion completed!" event, so they go before d's last event with phase
// Succeeded; after a rollback or a failed promotion they follow every other
// event, recorded on the canary as the tick found it.
func AddPostRolloutEvents(d *Decision, start Phase, results []HookResult) {
	if len(results) == 0 {
		return
	}
	phase := startPhase(start)
	if d.PostRollout == PhaseSucceeded {
		phase = PhaseSucceeded
	}
	evs := make([]Event, 0, len(results))
	for _, r := range results {
		e := normal("Post-rollout check " + r.Name + " passed")
		if !r.Passed() {
			e = warning(fmt.Sprintf("Post-rollout hook %s failed %s", r.Name, r.Err))
		}
		e.Phase = phase
		evs = append(evs, e)
		if !r.Passed() {
			break
		}
	}
	d.Events = slices.Insert(d.Events, PostRolloutAt(d), evs...)
}

// PostRolloutAt is where, among d's events, Flagger runs the post-rollout
// hooks d asks for (and records their events): before the last event after
// a promotion ("Promotion completed!"), after every event otherwise. Event
// hooks receive the events before it before the post-rollout hooks run.
func PostRolloutAt(d *Decision) int {
	at := len(d.Events)
	if d.PostRollout == PhaseSucceeded && at > 0 {
		at--
	}
	return at
}
