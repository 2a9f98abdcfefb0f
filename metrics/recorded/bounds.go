package recorded

import "time"

// DataBounds returns the times of the first and last sample the provider
// reads (staleness markers included), or two zero times when it holds no
// data. Callers use it to refuse evaluation times outside the recording.
func (p *Provider) DataBounds() (first, last time.Time) {
	return p.store.Start(), p.store.End()
}

// SampleInterval estimates the data's scrape interval: the most common gap
// between consecutive samples of a series (over at most the first 100
// samples of each series), or 0 when no series has two samples. An
// evaluation up to one interval after the last sample is still covered by
// the data, as the next scrape had not happened yet.
func (p *Provider) SampleInterval() time.Duration {
	counts := map[int64]int{}
	for _, ms := range p.store.series {
		ts := ms.ts[:min(len(ms.ts), 101)]
		for i := 1; i < len(ts); i++ {
			counts[ts[i]-ts[i-1]]++
		}
	}
	var best int64
	for gap, n := range counts {
		if n > counts[best] || (n == counts[best] && gap < best) {
			best = gap
		}
	}
	return time.Duration(best) * time.Millisecond
}
