package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/augurproj/augur/analysis"
)

// DefaultMaxTicks bounds a replay that never ends on its own.
const DefaultMaxTicks = 1000

// ReplayRequest describes a whole rollout on a simulated clock.
type ReplayRequest struct {
	Canary analysis.Canary
	// Status is the status before the first tick (default: Progressing, all zero).
	Status analysis.CanaryStatus
	// Start is the first tick's time.
	Start time.Time
	// Interval between ticks (default: the canary's analysis interval).
	Interval time.Duration
	// MaxTicks bounds the replay (default DefaultMaxTicks).
	MaxTicks int
	// DataEnd, when set, is the time of the last recorded sample: a tick
	// later than DataEnd would evaluate time the data does not cover, so the
	// replay stops before it (ReplayResult.DataEnded) instead of reading
	// missing values as failed checks.
	DataEnd time.Time
	// Progress, when set, is called after each tick.
	Progress func(n int, t ReplayTick)
	// Judges and Score are passed to every tick (see TickRequest).
	Judges map[string]map[string]string
	Score  map[string]string
	// RangeQueries, when set, serves the ticks' instant queries from range
	// queries: each distinct query of a provider that answers them
	// (metrics.RangeQuerier) is fetched once per MaxRangePoints ticks with
	// query_range, step = Interval, starting at a tick, and each tick reads
	// its point. A missing point or a failed range query falls back to the
	// tick's instant query, so the decisions are the instant queries' own.
	// Against a live server it saves one request per tick; over recorded
	// data (the embedded engine) it evaluates each query's steps in one
	// pass instead of one instant query per tick.
	RangeQueries bool
	// RangeChunk is how many ticks one prefetching range query covers (0:
	// MaxRangePoints). A replay that may stop early over long recorded data
	// sets it lower, so at most one chunk of points is computed in vain.
	RangeChunk int
}

// ReplayTick is one tick of a replay: the time, the status before it, and the decision.
type ReplayTick struct {
	Time     time.Time             `json:"time"`
	Before   analysis.CanaryStatus `json:"-"`
	Decision analysis.Decision     `json:"decision"`
}

// ReplayResult is a whole replay.
type ReplayResult struct {
	// Result is the final phase (Succeeded, Failed) or the phase the replay stopped in.
	Result analysis.Phase `json:"result"`
	// Finished reports whether the canary reached Succeeded or Failed.
	Finished bool `json:"finished"`
	// DataEnded reports that the replay stopped at ReplayRequest.DataEnd
	// before the canary finished.
	DataEnded bool         `json:"dataEnded,omitempty"`
	Ticks     []ReplayTick `json:"ticks"`
}

// Replay runs ticks every interval from Start, feeding each decision's status
// into the next tick, until the canary is Succeeded or Failed or MaxTicks is
// reached. Metrics are evaluated at each tick's simulated time.
func (e *Engine) Replay(ctx context.Context, req ReplayRequest) (ReplayResult, error) {
	if req.Start.IsZero() {
		return ReplayResult{}, errors.New("replay: a start time is required")
	}
	interval := req.Interval
	if interval <= 0 {
		interval = req.Canary.GetAnalysis().IntervalDuration()
	}
	maxTicks := req.MaxTicks
	if maxTicks <= 0 {
		maxTicks = DefaultMaxTicks
	}
	status := req.Status
	if status.Phase == "" {
		status.Phase = analysis.PhaseProgressing
	}
	res := ReplayResult{Result: status.Phase}
	if req.RangeQueries {
		ctx = withPrefetch(ctx, newPrefetch(req.Start, interval, maxTicks, req.DataEnd, req.RangeChunk))
	}
	for i := range maxTicks {
		now := req.Start.Add(time.Duration(i) * interval)
		if !req.DataEnd.IsZero() && now.After(req.DataEnd) {
			res.DataEnded = true
			break
		}
		d, err := e.Tick(ctx, TickRequest{Canary: req.Canary, Status: status, At: now, Now: now, Judges: req.Judges, Score: req.Score})
		if err != nil {
			return res, fmt.Errorf("replay tick %d at %s: %w", i+1, now.UTC().Format(time.RFC3339), err)
		}
		t := ReplayTick{Time: now, Before: status, Decision: d}
		res.Ticks = append(res.Ticks, t)
		if req.Progress != nil {
			req.Progress(i+1, t)
		}
		status = d.Status
		res.Result = status.Phase
		if status.Phase == analysis.PhaseSucceeded || status.Phase == analysis.PhaseFailed {
			res.Finished = true
			break
		}
	}
	return res, nil
}
