package lineproto

import (
	"io"
	"sync"
)

// keepFree is how many written chunks a Stream keeps for reuse: enough
// that a gather written as fast as it is made allocates nothing.
const keepFree = 4

// Stream writes chunks to w in a goroutine of its own, in the order taken.
// Taking never blocks: when w is slow (telegraf not reading), chunks wait
// in memory, so a gather is never stuck on stdout while it holds the probes.
type Stream struct {
	w     io.Writer
	mu    sync.Mutex
	wake  *sync.Cond
	queue [][]byte // taken, not yet written
	free  [][]byte // written, for reuse
	busy  bool     // a write is under way
	err   error    // the first write error; later chunks are dropped
}

// NewStream starts writing to w.
func NewStream(w io.Writer) *Stream {
	s := &Stream{w: w}
	s.wake = sync.NewCond(&s.mu)
	go s.run()
	return s
}

// Take queues full for writing (when not empty) and returns an empty chunk
// to fill next, or nil when none is free.
func (s *Stream) Take(full []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(full) > 0 {
		s.queue = append(s.queue, full)
		s.wake.Broadcast()
	}
	if n := len(s.free); n > 0 {
		c := s.free[n-1]
		s.free = s.free[:n-1]
		return c
	}
	return nil
}

// Wait blocks until every chunk taken is written and returns the first
// write error.
func (s *Stream) Wait() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) > 0 || s.busy {
		s.wake.Wait()
	}
	return s.err
}

func (s *Stream) run() {
	s.mu.Lock()
	for {
		for len(s.queue) == 0 {
			s.wake.Wait()
		}
		c, failed := s.queue[0], s.err != nil
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.busy = true
		s.mu.Unlock()
		var err error
		if !failed {
			_, err = s.w.Write(c)
		}
		s.mu.Lock()
		s.busy = false
		if err != nil && s.err == nil {
			s.err = err
		}
		if len(s.free) < keepFree {
			s.free = append(s.free, c[:0])
		}
		s.wake.Broadcast()
	}
}
