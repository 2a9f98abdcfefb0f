package recorded

import (
	"time"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// DataBounds returns the times of the first and last sample the provider
// reads (staleness markers included), or two zero times when it holds no
// data. Callers use it to refuse evaluation times outside the recording.
func (p *Provider) DataBounds() (first, last time.Time) {
	return p.store.Start(), p.store.End()
}

// SampleInterval estimates the data's scrape interval: the most common gap
// between consecutive samples of a series (over at most the first 100
// samples of each series), or 0 when no series has two samples. Messages
// about the data's bounds name it.
func (p *Provider) SampleInterval() time.Duration {
	counts := map[int64]int{}
	var it chunkenc.Iterator
	var xc chunkenc.XORChunk
	for _, ms := range p.store.series {
		seen, prev := 0, int64(0)
		for _, c := range ms.chunks {
			xc.Reset(c.data)
			it = xc.Iterator(it)
			for seen <= 100 && it.Next() != chunkenc.ValNone {
				t, _ := it.At()
				if seen > 0 {
					counts[t-prev]++
				}
				prev = t
				seen++
			}
			if seen > 100 {
				break
			}
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
