package loadgen

import (
	"math"
	"slices"
	"time"
)

// Stats summarises latency samples.
type Stats struct {
	N                        int
	P50, P90, P99, Mean, Max time.Duration
}

// Summarize computes exact statistics over all samples (it sorts them in
// place). Percentiles use the nearest-rank method: the p-th percentile is
// the smallest sample such that at least p% of the samples are ≤ it, so it
// is always a latency that was really observed. An empty input gives zeros.
func Summarize(samples []time.Duration) Stats {
	if len(samples) == 0 {
		return Stats{}
	}
	slices.Sort(samples)
	var sum float64
	for _, s := range samples {
		sum += float64(s)
	}
	return Stats{
		N:    len(samples),
		P50:  Percentile(samples, 50),
		P90:  Percentile(samples, 90),
		P99:  Percentile(samples, 99),
		Mean: time.Duration(math.Round(sum / float64(len(samples)))),
		Max:  samples[len(samples)-1],
	}
}

// Percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted; p ≤ 0 gives the minimum, an empty slice gives 0.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The tolerance keeps binary fractions from pushing an exact rank up
	// one: 99.9 % of 1,000 samples is the 999th, not the 1,000th.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	return sorted[min(max(rank, 1), n)-1]
}

// micros converts d to microseconds.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
