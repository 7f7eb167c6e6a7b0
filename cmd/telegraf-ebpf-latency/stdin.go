package main

import (
	"bufio"
	"errors"
	"io"
	"os"
)

// foldStdin hands telegraf's shim a stdin on which every line is empty.
// The shim reads stdin with a bufio.Scanner, which stops at the first line
// of 64 KiB or more as if stdin had closed: the plugin then exited 0,
// silently. A gather signal of any length must stay a gather signal, so the
// real stdin is read here, line by line at any length, and each line is
// passed on as a bare newline. Call it before shim.New, which keeps os.Stdin.
func foldStdin() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	real := os.Stdin
	os.Stdin = r
	go func() {
		_ = foldLines(real, w)
		w.Close() // EOF for the shim: it stops as telegraf's execd intends
	}()
	return nil
}

// foldLines writes one newline to w for each line read from r, including a
// last line without its newline (as bufio.Scanner counts it). It returns
// when r ends (nil) or fails, or when w fails.
func foldLines(r io.Reader, w io.Writer) error {
	br := bufio.NewReader(r)
	partial := false // bytes of a line seen, its newline not yet
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			partial = false
			if _, err := w.Write([]byte{'\n'}); err != nil {
				return err
			}
			continue
		case errors.Is(err, bufio.ErrBufferFull):
			partial = true // the rest of this line follows
			continue
		}
		if partial || len(chunk) > 0 {
			if _, err := w.Write([]byte{'\n'}); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
}
