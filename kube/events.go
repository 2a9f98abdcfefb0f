package kube

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/augurproj/augur/analysis"
)

// EventReason is the reason of the Events augur records, the one Flagger
// gives every event of its scheduler.
const EventReason = "Synced"

// EventComponent is the source component of the Events augur records
// (Flagger's is "flagger").
const EventComponent = "augur"

// EmitEvents records the decision's events (Flagger's messages, in order)
// as core/v1 Events on the Canary c: involved object kind Canary, apiVersion
// flagger.app/v1beta1, reason Synced, type Normal or Warning, source
// component augur. The Canary must exist in the cluster (its uid ties the
// Events to it, so `kubectl describe canary` lists them). Events are named
// <canary>.<hex nanoseconds> from the wall clock, one nanosecond apart, so
// their names sort in decision order. It returns the number of Events
// created; on error, the Events before the failing one were created.
func (s *Source) EmitEvents(ctx context.Context, c *analysis.Canary, d analysis.Decision) (int, error) {
	if len(d.Events) == 0 {
		return 0, nil
	}
	ns, name := c.Metadata.Namespace, c.Metadata.Name
	if ns == "" {
		ns = s.namespace
	}
	u, err := s.dyn.Resource(CanaryResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("recording events: %w", readError(analysis.KindCanary, CanaryResource, ns, name, err))
	}
	ref := corev1.ObjectReference{
		Kind: analysis.KindCanary, APIVersion: analysis.APIVersion,
		Namespace: ns, Name: name, UID: u.GetUID(), ResourceVersion: u.GetResourceVersion(),
	}
	now := s.now()
	events := s.core.CoreV1().Events(ns)
	for i, e := range d.Events {
		t := now.Add(time.Duration(i)) // one nanosecond apart
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", name, t.UnixNano()), Namespace: ns},
			InvolvedObject: ref,
			Reason:         EventReason,
			Message:        e.Message,
			Type:           eventType(e.Type),
			Source:         corev1.EventSource{Component: EventComponent, Host: s.host},
			FirstTimestamp: metav1.NewTime(t),
			LastTimestamp:  metav1.NewTime(t),
			Count:          1,
		}
		_, err := events.Create(ctx, ev, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// Another writer used the same nanosecond: let the server pick a name.
			ev.Name, ev.GenerateName = "", name+"."
			_, err = events.Create(ctx, ev, metav1.CreateOptions{})
		}
		if err != nil {
			return i, fmt.Errorf("recording event %d of %d (%q) on Canary %s/%s: %w", i+1, len(d.Events), e.Message, ns, name, err)
		}
	}
	return len(d.Events), nil
}

// eventType maps an analysis event type to the Kubernetes one; anything
// but Normal is a Warning, as Flagger records errors as warnings.
func eventType(t analysis.EventType) string {
	if t == analysis.EventNormal {
		return corev1.EventTypeNormal
	}
	return corev1.EventTypeWarning
}
