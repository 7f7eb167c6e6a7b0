package bench

import (
	"fmt"
	"testing"
	"time"
)

// readyTimeout bounds the wait for a variant's programs to run at all; it
// fails setup, it is not a measurement.
const readyTimeout = 30 * time.Second

// Row is one variant's samples, one per round.
type Row struct {
	Variant
	Programs []string // kernel names, from the first round
	Samples  []Sample
}

// RunRounds measures every variant of the path rounds times with n events
// each. Variants are interleaved within a round and the order rotates from
// round to round, so drift on a busy machine spreads over all of them.
func RunRounds(t testing.TB, w Workload, variants []Variant, n, rounds int) []*Row {
	rows := make([]*Row, len(variants))
	for i, v := range variants {
		rows[i] = &Row{Variant: v}
	}
	for r := 0; r < rounds; r++ {
		for k := range rows {
			row := rows[(k+r)%len(rows)]
			s, names := measure(t, w, row.Variant, n)
			if row.Programs == nil {
				row.Programs = names
			}
			row.Samples = append(row.Samples, s)
		}
	}
	return rows
}

// measure starts v, proves its programs run, and brackets one workload run
// with stats snapshots taken as close to it as possible.
func measure(t testing.TB, w Workload, v Variant, n int) (Sample, []string) {
	t.Helper()
	run, err := v.Start(t)
	if err != nil {
		t.Fatalf("%s: starting: %v", v.Name, err)
	}
	defer func() {
		if err := run.Stop(); err != nil {
			t.Errorf("%s: stopping: %v", v.Name, err)
		}
	}()
	// One warm run even when the hooks already fire for other processes:
	// probes may resolve per-task state at the next gather.
	w.Warm(t)
	waitReady(t, w, v.Name, run)

	var s Sample
	healthBefore := health(run)
	recBefore := recorded(t, v.Name, run)
	before, err := readCounts(run.Programs)
	if err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	evBefore, err := readCounts(run.Events)
	if err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	s.Work = w.Run(t, n)
	after, err := readCounts(run.Programs)
	if err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	evAfter, err := readCounts(run.Events)
	if err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	s.Kernel = after.sub(before)
	s.Events = evAfter.sub(evBefore).RunCount
	s.Recorded = recorded(t, v.Name, run) - recBefore
	for k, n := range health(run) {
		if d := n - healthBefore[k]; d > 0 {
			if s.Health == nil {
				s.Health = map[string]uint64{}
			}
			s.Health[k] = d
		}
	}

	names := make([]string, 0, len(run.Programs))
	for _, p := range run.Programs {
		names = append(names, progName(p))
	}
	return s, names
}

func recorded(t testing.TB, name string, run *Running) uint64 {
	t.Helper()
	if run.Recorded == nil {
		return 0
	}
	n, err := run.Recorded()
	if err != nil {
		t.Fatalf("%s: reading the probe's histogram: %v", name, err)
	}
	return n
}

func health(run *Running) map[string]uint64 {
	if run.Health == nil {
		return nil
	}
	return run.Health()
}

// waitReady warms the workload until every program that must run has run.
func waitReady(t testing.TB, w Workload, name string, run *Running) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		idle := ""
		for _, p := range run.ready() {
			st, err := p.Stats()
			if err != nil {
				t.Fatalf("%s: reading stats: %v", name, err)
			}
			if st.RunCount == 0 {
				idle = progName(p)
				break
			}
		}
		if idle == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: program %s never ran within %v (BPF stats enabled? hook attached?)", name, idle, readyTimeout)
		}
		w.Warm(t)
	}
}

// rowByName finds a variant's row.
func rowByName(rows []*Row, name string) (*Row, error) {
	for _, r := range rows {
		if r.Name == name {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no variant %q", name)
}
