// Command gotest reads `go test -json` on stdin, prints the tests' output as
// plain go test would, and exits 1 when any test failed or was skipped. CI
// counts a skip as a failure: a test that cannot run there proves nothing,
// whether or not the test itself checks EBPF_LATENCY_REQUIRE_PRIVILEGED.
//
//	make test TEST_FLAGS=-json | go run ./.ci/gotest
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// result counts what a run did; tests are "package TestName".
type result struct {
	passed          int
	skipped, failed []string
	failedPackages  []string
}

func main() {
	res, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(1)
	}
	if !report(res, os.Stdout) {
		os.Exit(1)
	}
}

// summarize copies the output of the run to w and collects the verdicts.
// Lines that are not test2json events (make's own echo) pass through.
func summarize(r io.Reader, w io.Writer) (result, error) {
	var res result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Action == "" {
			fmt.Fprintln(w, sc.Text())
			continue
		}
		name := ev.Package + " " + ev.Test
		switch {
		case ev.Action == "output" || ev.Action == "build-output":
			fmt.Fprint(w, ev.Output)
		case ev.Test == "" && ev.Action == "fail":
			res.failedPackages = append(res.failedPackages, ev.Package)
		case ev.Test == "": // a package passing, or skipped for having no tests
		case ev.Action == "pass":
			res.passed++
		case ev.Action == "skip":
			res.skipped = append(res.skipped, name)
		case ev.Action == "fail":
			res.failed = append(res.failed, name)
		}
	}
	return res, sc.Err()
}

// report says what went wrong and whether the run is good.
func report(res result, w io.Writer) bool {
	for _, name := range res.skipped {
		fmt.Fprintf(w, "SKIPPED (a failure in CI): %s\n", name)
	}
	for _, name := range res.failed {
		fmt.Fprintf(w, "FAILED: %s\n", name)
	}
	for _, pkg := range res.failedPackages {
		fmt.Fprintf(w, "FAILED package: %s\n", pkg)
	}
	fmt.Fprintf(w, "gotest: %d passed, %d skipped, %d failed, %d packages failed\n",
		res.passed, len(res.skipped), len(res.failed), len(res.failedPackages))
	if res.passed == 0 {
		fmt.Fprintln(w, "gotest: no test passed: not a test run")
		return false
	}
	return len(res.skipped)+len(res.failed)+len(res.failedPackages) == 0
}
