package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Each round's requests are compared with the floor's round beside them, and
// the run reports the median of those ratios: one round the machine slowed
// for the service alone does not move it as it moves a pooled comparison.
func TestTheRatioToTheFloorIsTheMedianOfTheRounds(t *testing.T) {
	round := func(n int, throughput, floorThroughput, p50, floorP50 float64) roundStats {
		rep := &report{Kinds: []kindStats{{Kind: "immediate", Throughput: throughput, P50: p50}}}
		rep, err := withFloor(rep, &report{Kinds: []kindStats{{Kind: floorKind, Throughput: floorThroughput, P50: floorP50}}})
		assert.NoError(t, err)
		return roundStats{Round: n, Kinds: rep.Kinds}
	}
	rounds := []roundStats{
		round(1, 30, 40, 30, 20), // 75 %, 1.5×
		round(2, 10, 40, 90, 20), // 25 %, 4.5×: a round the machine slowed the service alone
		round(3, 32, 40, 26, 20), // 80 %, 1.3×
		round(4, 34, 40, 24, 20), // 85 %, 1.2×
		round(5, 28, 40, 28, 20), // 70 %, 1.4×
	}
	rep := &report{Kinds: []kindStats{{Kind: "immediate", Throughput: 26.8, P50: 39.6}, {Kind: floorKind, Throughput: 40, P50: 20}}}
	rep.compareByRounds(rounds)

	assert.InDelta(t, 0.75, rep.Kinds[0].ThroughputVsFloor, 1e-9)
	assert.InDelta(t, 1.4, rep.Kinds[0].P50VsFloor, 1e-9)
	assert.Zero(t, rep.Kinds[1].ThroughputVsFloor, "the floor is not compared with itself")
	assert.Len(t, rep.Rounds, 5, "each round's own figures are reported")

	rep.compareByRounds(rounds[1:]) // an even count: the mean of the middle two
	assert.InDelta(t, 0.75, rep.Kinds[0].ThroughputVsFloor, 1e-9)
	assert.InDelta(t, 1.35, rep.Kinds[0].P50VsFloor, 1e-9)
}

// A round's recorder also records into the run's, so the run's own figures
// cover every round.
func TestARoundRecordsIntoTheRun(t *testing.T) {
	run := newRecorder()
	first, second := run.round(), run.round()
	first.record("immediate", 10e6, "200", true)
	second.record("immediate", 30e6, "200", true)
	second.record("immediate", 0, "503", false)

	assert.Equal(t, 1, first.count())
	assert.Equal(t, 2, second.count())
	assert.Equal(t, 3, run.count())
	assert.Len(t, run.latencies["immediate"], 2)
	assert.Equal(t, 1, run.errors["immediate"])
}
