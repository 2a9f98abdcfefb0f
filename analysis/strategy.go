package analysis

// NextStepWeight is Flagger's nextStepWeight: how far the canary's weight
// moves from canaryWeight on the next step. With stepWeight > 0, or no
// stepWeights, it is stepWeight (0 or less stalls the canary). With the
// stepWeights ladder it is the distance to the next rung after the one the
// canary is on (the first rung from 0; the rest of the way to 100 when the
// weight is on no rung but the first), never more than 100-canaryWeight,
// and 1 at 100 so that the promotion step still happens.
func NextStepWeight(a *Analysis, canaryWeight int) int {
	if a == nil {
		return 0
	}
	if a.StepWeight > 0 || len(a.StepWeights) == 0 {
		return a.StepWeight
	}
	maxStep := 100 - canaryWeight
	if maxStep == 0 {
		return 1
	}
	if canaryWeight == 0 {
		return min(maxStep, a.StepWeights[0])
	}
	for i := 0; i < len(a.StepWeights)-1; i++ {
		if a.StepWeights[i] == canaryWeight {
			return min(maxStep, a.StepWeights[i+1]-canaryWeight)
		}
	}
	return maxStep
}

// strategy runs the deployment strategy once the tick's checks passed.
func (t *tick) strategy() {
	eff := *t.a
	if t.provider == kubernetesProvider {
		// Flagger mutates its in-memory copy of the analysis for this tick only.
		if len(eff.Match) > 0 {
			t.event(warning(msgABUnsupported))
			eff.Match = nil
		}
		if eff.Iterations < 1 {
			t.event(warning(msgNoProgressive))
			t.event(warning(msgSetIterations))
			eff.Iterations = kubernetesIterations
		}
	}
	switch eff.Strategy() {
	case StrategyABTesting:
		t.abTesting(&eff)
	case StrategyBlueGreen:
		t.blueGreen(&eff)
	default:
		t.canary(&eff)
	}
}

func (t *tick) abTesting(a *Analysis) {
	if a.Iterations > t.st.Iterations {
		t.route(100, false)
		t.st.Iterations++
		t.event(normal(t.n.advanceIteration(t.st.Iterations, a.Iterations)))
		t.action = ActionAdvance
		t.reason("A/B testing: the checks passed, matching traffic goes to the canary; iteration %d of %d.", t.st.Iterations, a.Iterations)
		return
	}
	if !t.confirmPromotion(a) {
		return
	}
	if a.Iterations == t.st.Iterations {
		t.promote(a, "A/B testing: all %d iterations passed", a.Iterations)
		return
	}
	t.hold("A/B testing: status.iterations %d is past analysis.iterations %d, so Flagger neither iterates nor promotes.", t.st.Iterations, a.Iterations)
}

func (t *tick) blueGreen(a *Analysis) {
	if a.Iterations > t.st.Iterations {
		if t.provider != kubernetesProvider && a.Mirror && !t.mir {
			t.route(0, true)
		}
		t.st.Iterations++
		t.event(normal(t.n.advanceIteration(t.st.Iterations, a.Iterations)))
		t.action = ActionAdvance
		if t.mir {
			t.reason("Blue/green with mirroring: the checks passed, the canary receives a mirror of the traffic; iteration %d of %d.", t.st.Iterations, a.Iterations)
		} else {
			t.reason("Blue/green: the checks passed, traffic stays on the primary; iteration %d of %d.", t.st.Iterations, a.Iterations)
		}
		return
	}
	if !t.confirmPromotion(a) {
		return
	}
	if a.Iterations == t.st.Iterations {
		if t.provider != kubernetesProvider {
			if a.Mirror {
				t.event(normal(msgStopMirroring))
			} else {
				t.event(normal(msgRoutingToCanary))
			}
			t.route(100, false)
		}
		t.st.Iterations++
		t.action = ActionAdvance
		t.reason("Blue/green: all %d iterations passed; all traffic goes to the canary for one more checked tick before the promotion.", a.Iterations)
		return
	}
	if a.Iterations < t.st.Iterations {
		t.promote(a, "Blue/green: the canary passed its checks with all traffic")
	}
}

func (t *tick) canary(a *Analysis) {
	step := NextStepWeight(a, t.rw)
	if step <= 0 {
		t.hold("The next step weight is %d (stepWeight %d, stepWeights %v), so the canary cannot advance: the analysis stalls, as in Flagger.", step, a.StepWeight, a.StepWeights)
		return
	}
	if !t.mir && !inPhase(t.st.Phase, PhasePromoting, PhaseWaitingPromotion, PhaseFinalising) {
		res, ok := t.gate(HookConfirmTrafficIncrease)
		if !ok {
			return
		}
		if res.failed != nil {
			t.event(warning(t.n.waitingTraffic(res.failed.Name)))
			if !t.muted(HookConfirmTrafficIncrease, res.failed.Name) {
				t.alert(SeverityWarn, alertWaitingTraffic)
			}
			t.hold("The confirm-traffic-increase hook %s did not approve (%s): the weight stays at %d%% (no failed check is counted).", res.failed.Name, res.failed.explain(), t.rw)
			return
		}
	}
	maxWeight := a.GetMaxWeight()
	if t.rw < maxWeight {
		from := t.rw
		switch {
		case a.Mirror && t.rw == 0 && !t.mir:
			t.route(0, true)
			t.reason("Mirroring: the checks passed, so the canary first receives a mirror of the traffic at weight 0.")
		case a.Mirror && t.rw == 0:
			// Flagger does not cap this step; a router cannot exceed 100%.
			t.route(min(step, 100), false)
			t.reason("Mirroring ends: the checks passed with mirrored traffic, so the canary weight goes from 0 to %d%%.", t.rw)
		default:
			t.route(min(100, t.rw+step), false)
			t.reason("The checks passed: the canary weight goes from %d%% to %d%% (step %d, max weight %d).", from, t.rw, step, maxWeight)
		}
		t.st.CanaryWeight = t.rw
		t.event(normal(t.n.advanceWeight(t.rw)))
		t.action = ActionAdvance
		return
	}
	if !t.confirmPromotion(a) {
		return
	}
	t.promote(a, "The canary passed its checks at %d%%, at or above the max weight %d%%", t.rw, maxWeight)
}

// confirmPromotion runs the confirm-promotion hooks; a failure parks the
// canary in WaitingPromotion (or keeps it there) and holds.
func (t *tick) confirmPromotion(a *Analysis) bool {
	res, ok := t.gate(HookConfirmPromotion)
	if !ok {
		return false
	}
	if res.failed == nil {
		return true
	}
	if t.st.Phase != PhaseWaitingPromotion {
		t.setPhase(PhaseWaitingPromotion, a.Iterations)
		t.event(warning(t.n.waitingPromotion(res.failed.Name)))
		if !t.muted(HookConfirmPromotion, res.failed.Name) {
			t.alert(SeverityWarn, alertWaitingPromotion)
		}
	} else {
		t.st.Iterations = a.Iterations - 1
	}
	t.hold("The confirm-promotion hook %s did not approve (%s): the canary waits for promotion approval (phase WaitingPromotion); checks keep running and failures still count.", res.failed.Name, res.failed.explain())
	return false
}

// promote copies the canary spec to the primary and enters Promoting.
func (t *tick) promote(a *Analysis, format string, args ...any) {
	t.event(normal(t.n.copying()))
	t.setPhase(PhasePromoting, a.Iterations)
	t.action = ActionPromote
	t.reason(format+": the canary spec is copied to the primary (Promoting).", args...)
}
