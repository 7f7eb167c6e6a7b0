package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// goTestJSON runs real `go test -json` on a throwaway module holding src.
func goTestJSON(t *testing.T, src string) []byte {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example\n\ngo 1.26\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(src), 0o600))
	cmd := exec.Command("go", "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	out, _ := cmd.Output() // exits 1 when a test fails: judged below
	require.NotEmpty(t, out)
	return out
}

func TestSkipsFailTheRun(t *testing.T) {
	out := goTestJSON(t, `package x

import "testing"

func TestPasses(t *testing.T) {}

func TestSkipsItself(t *testing.T) { t.Skip("needs root") }

func TestParent(t *testing.T) {
	t.Run("runs", func(t *testing.T) {})
	t.Run("skips", func(t *testing.T) { t.Skip("no env") })
}
`)
	var printed bytes.Buffer
	res, err := summarize(bytes.NewReader(out), &printed)
	require.NoError(t, err)
	require.Equal(t, []string{"example TestSkipsItself", "example TestParent/skips"}, res.skipped)
	require.Empty(t, res.failed)
	require.Equal(t, 3, res.passed) // TestPasses, TestParent/runs, TestParent
	require.Contains(t, printed.String(), "needs root", "the test output is shown")

	var summary bytes.Buffer
	require.False(t, report(res, &summary), "a skip fails the run")
	require.Contains(t, summary.String(), "SKIPPED (a failure in CI): example TestSkipsItself")
}

func TestFailuresFailTheRun(t *testing.T) {
	out := goTestJSON(t, `package x

import "testing"

func TestPasses(t *testing.T) {}

func TestFails(t *testing.T) { t.Fatal("wrong") }
`)
	res, err := summarize(bytes.NewReader(append([]byte("make: echo of the command\n"), out...)), &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, []string{"example TestFails"}, res.failed)
	require.Equal(t, []string{"example"}, res.failedPackages)
	require.False(t, report(res, &bytes.Buffer{}))
}

func TestAllPassingIsGood(t *testing.T) {
	out := goTestJSON(t, "package x\n\nimport \"testing\"\n\nfunc TestPasses(t *testing.T) {}\n")
	res, err := summarize(bytes.NewReader(out), &bytes.Buffer{})
	require.NoError(t, err)
	require.True(t, report(res, &bytes.Buffer{}))
	// An empty run (a build that never started) is not good.
	require.False(t, report(result{}, &bytes.Buffer{}))
}

func TestBuildFailureFailsTheRun(t *testing.T) {
	out := goTestJSON(t, "package x\n\nimport \"testing\"\n\nfunc TestPasses(t *testing.T) { undefined() }\n")
	var printed bytes.Buffer
	res, err := summarize(bytes.NewReader(out), &printed)
	require.NoError(t, err)
	require.Equal(t, []string{"example"}, res.failedPackages)
	require.Contains(t, printed.String(), "undefined")
	require.False(t, report(res, &bytes.Buffer{}))
}
