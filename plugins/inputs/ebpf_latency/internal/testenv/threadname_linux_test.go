//go:build linux

package testenv

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A require failing inside fn ends the named thread's goroutine with
// runtime.Goexit: AsNamedThread must fail the test then, not wait forever
// (the runq odd-comms test once hung until the suite's timeout so).
func TestAsNamedThreadFailsWhenFnStops(t *testing.T) {
	rec := &failRecorder{TB: t}
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		AsNamedThread(rec, "stops", func() { rec.FailNow() })
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second): // a hang guard, not a speed check
		t.Fatal("AsNamedThread still waiting after fn stopped its goroutine")
	}
	require.Equal(t, 2, rec.failures(), "fn's own failure, then AsNamedThread's")
}

// failRecorder is a testing.TB whose FailNow only counts and ends the
// calling goroutine, as testing.T's does.
type failRecorder struct {
	testing.TB
	mu    sync.Mutex
	fails int
}

func (r *failRecorder) Helper()               {}
func (r *failRecorder) Errorf(string, ...any) {}
func (r *failRecorder) FailNow() {
	r.mu.Lock()
	r.fails++
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *failRecorder) failures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fails
}
