package analysis

// configuredHooks returns the webhooks of type ht in spec order (an empty
// type counts as rollout).
func configuredHooks(a *Analysis, ht HookType) []Webhook {
	if a == nil {
		return nil
	}
	var hs []Webhook
	for _, h := range a.Webhooks {
		if NormalizeHookType(h.Type) == ht {
			hs = append(hs, h)
		}
	}
	return hs
}

// hookResults returns the results of the hooks of type ht that decide this
// tick: for a gating type up to and including the first failure, for the
// rollback type up to and including the first success. With no webhook of
// that type it returns none. ok is false when the tick must stop: the
// results are not gathered yet (t.need is set) or they do not match the
// spec (a malformed-input hold is recorded). The decisive results are added
// to the Decision's hooks.
func (t *tick) hookResults(ht HookType) (decisive []HookResult, ok bool) {
	want := configuredHooks(t.a, ht)
	if len(want) == 0 {
		return nil, true
	}
	got, present := t.in.Hooks[ht]
	if !present && ht == HookRollout {
		got, present = t.in.Hooks[""]
	}
	if !present {
		t.need = &Need{Hooks: ht}
		return nil, false
	}
	for i, h := range want {
		if i >= len(got) {
			t.malformed("%d results for the %d %s hooks and none of them decides the tick (the caller stops at the deciding result, but not before)", len(got), len(want), ht)
			return nil, false
		}
		if got[i].Name != h.Name {
			t.malformed("%s hook result %d is for %q but the spec's hook %d is %q", ht, i+1, got[i].Name, i+1, h.Name)
			return nil, false
		}
		deciding := !got[i].Passed()
		if ht == HookRollback {
			deciding = got[i].Passed()
		}
		if deciding {
			decisive = got[:i+1]
			break
		}
	}
	if decisive == nil {
		decisive = got[:len(want)]
	}
	for _, r := range decisive {
		r.Type = ht
		t.hooks = append(t.hooks, r)
	}
	return decisive, true
}

// gateResult is the outcome of a gating hook type.
type gateResult struct {
	// failed is the first failed result, nil when every hook passed.
	failed *HookResult
}

// gate runs a gating hook type: it records the "check passed" events of the
// hooks that passed and returns the first failure, if any.
func (t *tick) gate(ht HookType) (gateResult, bool) {
	results, ok := t.hookResults(ht)
	if !ok {
		return gateResult{}, false
	}
	for i := range results {
		if !results[i].Passed() {
			return gateResult{failed: &results[i]}, true
		}
		if e, ok := hookPassedEvent(ht, results[i].Name); ok {
			t.event(e)
		}
	}
	return gateResult{}, true
}

// muted reports whether the webhook of type ht named name sets muteAlert.
func (t *tick) muted(ht HookType, name string) bool {
	for _, h := range configuredHooks(t.a, ht) {
		if h.Name == name {
			return h.MuteAlert
		}
	}
	return false
}

// HookCallEvent is the event Flagger records right after a hook of type ht
// returns r, before it calls the next hook of that type: a gating hook's
// "check passed" (its failure's event comes from the step that stops the
// tick), and a rollback hook's "not signaling a rollback" or "check
// passed". The core records the same events, in the same order, right after
// the events that preceded the need; a shell sends them to the event hooks
// as each hook returns (compat sched scenarios with several hooks of a type).
func HookCallEvent(ht HookType, r HookResult) (Event, bool) {
	if ht == HookRollback {
		return rollbackHookEvent(r), true
	}
	if !r.Passed() {
		return Event{}, false
	}
	return hookPassedEvent(ht, r.Name)
}
