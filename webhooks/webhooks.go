package webhooks

import (
	"fmt"
	"maps"
	"strconv"
	"time"
)

// DefaultTimeout is the per-attempt timeout of a hook whose timeout is unset
// (Flagger's "10s").
const DefaultTimeout = 10 * time.Second

// Hook is one webhook to call: Flagger's CanaryWebhook with the timeout
// already parsed.
type Hook struct {
	// Name is the hook's name in the canary spec; it names the hook in errors.
	Name string
	// URL is where the payload is POSTed.
	URL string
	// Type is Flagger's hook type ("rollout", "pre-rollout", "event", …). The
	// client does not read it; it travels with the hook for the caller.
	Type string
	// Timeout bounds each attempt, including reading the response. Zero or
	// negative means DefaultTimeout (Flagger would wait forever on "0s"; augur
	// deliberately does not).
	Timeout time.Duration
	// Retries is how many more attempts are made after a retryable failure.
	// Zero or negative means a single attempt.
	Retries int
	// DisableTLS skips TLS certificate verification for this hook.
	DisableTLS bool
	// Metadata is the hook's metadata. It may hold credentials, so it is
	// never put in errors or logs.
	Metadata map[string]string
}

// Payload is the JSON body POSTed to a hook, byte-for-byte Flagger's
// CanaryWebhookPayload: {"name","namespace","phase","checksum","metadata"},
// with metadata omitted when empty.
type Payload struct {
	// Name is the canary's name.
	Name string `json:"name"`
	// Namespace is the canary's namespace.
	Namespace string `json:"namespace"`
	// Phase is the canary phase sent to the hook (see Flagger's hook table).
	Phase string `json:"phase"`
	// Checksum is Flagger's opaque canary checksum; it is sent as given.
	Checksum string `json:"checksum"`
	// Metadata is, for non-event hooks, the hook's metadata.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// ParseTimeout applies Flagger's webhook timeout rule: a string shorter than
// two characters means "10s", anything else must parse with
// time.ParseDuration. The error names the field and the rejected value; the
// caller adds the hook's name.
func ParseTimeout(s string) (time.Duration, error) {
	if len(s) < 2 {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("webhook timeout %q: %w", s, err)
	}
	return d, nil
}

// EventType is the Kubernetes event type sent to event hooks.
type EventType string

// The two event types Flagger records.
const (
	// EventNormal is an informational event.
	EventNormal EventType = "Normal"
	// EventWarning is a warning event.
	EventWarning EventType = "Warning"
)

// Metadata keys of an event-hook payload. They win over hook metadata keys
// of the same name.
const (
	// EventMessageKey holds the event message.
	EventMessageKey = "eventMessage"
	// EventTypeKey holds the EventType.
	EventTypeKey = "eventType"
	// EventTimestampKey holds the event time in Unix milliseconds.
	EventTimestampKey = "timestamp"
)

// Event is one canary event to forward to event hooks.
type Event struct {
	// Name is the canary's name.
	Name string
	// Namespace is the canary's namespace.
	Namespace string
	// Phase is the canary's current status phase.
	Phase string
	// Message is the event message.
	Message string
	// Type is EventNormal or EventWarning.
	Type EventType
	// Time is when the event happened; it is sent as Unix milliseconds.
	Time time.Time
}

// EventPayload builds Flagger's event-hook payload: the event's canary and
// phase, no checksum, and metadata holding eventMessage, eventType and
// timestamp (Unix milliseconds) plus every hook metadata key that does not
// collide with those three.
func EventPayload(hook Hook, ev Event) Payload {
	md := make(map[string]string, len(hook.Metadata)+3)
	maps.Copy(md, hook.Metadata)
	md[EventMessageKey] = ev.Message
	md[EventTypeKey] = string(ev.Type)
	md[EventTimestampKey] = strconv.FormatInt(ev.Time.UnixMilli(), 10)
	return Payload{
		Name:      ev.Name,
		Namespace: ev.Namespace,
		Phase:     ev.Phase,
		Metadata:  md,
	}
}
