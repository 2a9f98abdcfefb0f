package recorded

import "time"

// DataBounds returns the times of the first and last sample the provider
// reads (staleness markers included), or two zero times when it holds no
// data. Callers use it to refuse evaluation times outside the recording.
func (p *Provider) DataBounds() (first, last time.Time) {
	return p.store.Start(), p.store.End()
}
