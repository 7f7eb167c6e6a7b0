package main

import (
	"bytes"
	"os"
	"testing"
)

// The committed JSON is what the generator writes: edit the Go code and run
// make dashboards, never the JSON by hand.
func TestCommittedJSONMatchesGenerator(t *testing.T) {
	for name, b := range files {
		want, err := render(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%s: %v (make dashboards writes it)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator writes: run make dashboards and commit the result", name)
		}
	}
}
