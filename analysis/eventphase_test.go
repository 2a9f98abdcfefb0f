package analysis

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// phased is an event's type, text and phase, for comparison.
type phased struct {
	Type    EventType
	Message string
	Phase   Phase
}

func phasesOf(evs []Event) []phased {
	out := []phased{}
	for _, e := range evs {
		out = append(out, phased{e.Type, e.Message, e.Phase})
	}
	return out
}

// TestEventPhases pins the phase of the Canary object Flagger records each
// event on (what its event hooks send): the phase the tick started in,
// except for the texts Flagger records on a copy with the new phase.
func TestEventPhases(t *testing.T) {
	tests := []struct {
		name   string
		status CanaryStatus
		rev    bool
		want   []phased
	}{
		{"initialisation carries Initialized, the providers check the starting phase", CanaryStatus{}, false, []phased{
			{EventNormal, "all the metrics providers are available!", PhaseInitializing},
			{EventNormal, "Initialization done! podinfo.test", PhaseInitialized}}},
		{"a new revision's scale-up carries Progressing", CanaryStatus{Phase: PhaseSucceeded}, true, []phased{
			{EventNormal, "New revision detected! Scaling up podinfo.test", PhaseProgressing}}},
		{"a rollback's threshold event carries the starting phase, Canary failed! carries Failed",
			CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 5}, false, []phased{
				{EventWarning, "Rolling back podinfo.test failed checks threshold reached 5", PhaseProgressing},
				{EventWarning, "Canary failed! Scaling down podinfo.test", PhaseFailed}}},
		{"an advance carries the starting phase", CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10}, false, []phased{
			{EventNormal, "Advance podinfo.test canary weight 20", PhaseProgressing}}},
		{"entering Promoting is recorded on the Progressing canary", CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 50}, false, []phased{
			{EventNormal, "Copying podinfo.test template spec to podinfo-primary.test", PhaseProgressing}}},
		{"promotion completed carries Succeeded", CanaryStatus{Phase: PhaseFinalising}, false, []phased{
			{EventNormal, "Promotion completed! Scaling down podinfo.test", PhaseSucceeded}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := podinfo()
			in := Input{Canary: c, Status: tt.status, NewRevision: tt.rev, Now: tick0}
			d, _ := drive(t, in, newWorld(&in.Canary).answer)
			if diff := cmp.Diff(tt.want, phasesOf(d.Events)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAddPostRolloutEvents pins runPostRolloutHooks' events: after a
// promotion they come before "Promotion completed!" with phase Succeeded,
// after a rollback they follow everything on the starting phase, and the
// first failure ends them.
func TestAddPostRolloutEvents(t *testing.T) {
	done := Event{Type: EventNormal, Message: "Promotion completed! Scaling down podinfo.test", Phase: PhaseSucceeded}
	failed := Event{Type: EventWarning, Message: "Canary failed! Scaling down podinfo.test", Phase: PhaseFailed}
	results := []HookResult{{Name: "a"}, {Name: "b", Err: "boom"}, {Name: "c"}}

	d := Decision{PostRollout: PhaseSucceeded, Events: []Event{done}}
	AddPostRolloutEvents(&d, PhaseFinalising, results)
	want := []phased{
		{EventNormal, "Post-rollout check a passed", PhaseSucceeded},
		{EventWarning, "Post-rollout hook b failed boom", PhaseSucceeded},
		{EventNormal, done.Message, PhaseSucceeded},
	}
	if diff := cmp.Diff(want, phasesOf(d.Events)); diff != "" {
		t.Errorf("after a promotion (-want +got):\n%s", diff)
	}

	d = Decision{PostRollout: PhaseFailed, Events: []Event{failed}}
	AddPostRolloutEvents(&d, PhaseProgressing, results[:1])
	want = []phased{
		{EventWarning, failed.Message, PhaseFailed},
		{EventNormal, "Post-rollout check a passed", PhaseProgressing},
	}
	if diff := cmp.Diff(want, phasesOf(d.Events)); diff != "" {
		t.Errorf("after a rollback (-want +got):\n%s", diff)
	}
}
