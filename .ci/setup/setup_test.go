// Package setup tests the repository's set-up commands: on a fresh Debian
// machine `sudo make test` installs what the tests need by itself.
package setup

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoRoot is two levels up from .ci/setup.
const repoRoot = "../.."

func makeOutput(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s", "-C", repoRoot}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make %v:\n%s", args, out)
	return string(out)
}

func installed(t *testing.T, pkg string) bool {
	t.Helper()
	out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return string(out) == "install ok installed"
}

// make test checks the Debian packages first, with an explicit timeout.
func TestMakeTestInstallsDepsFirst(t *testing.T) {
	dry := makeOutput(t, "-n", "test")
	deps := strings.Index(dry, "dpkg-query")
	gotest := strings.Index(dry, "go test")
	require.True(t, deps >= 0 && gotest > deps, "make test runs test-deps before go test:\n%s", dry)
	require.Regexp(t, `go test -count=1 -p 1 -timeout \d+m`, dry)
}

// A missing package is installed by make test-deps, and nothing is done
// when none is missing. hello stands in for a test dependency: tiny, and
// needed by nothing here, so removing it first disturbs no other test.
func TestTestDepsInstallsWhatIsMissing(t *testing.T) {
	if os.Geteuid() != 0 {
		const reason = "needs root: installs a Debian package"
		if os.Getenv("EBPF_LATENCY_REQUIRE_PRIVILEGED") == "1" {
			t.Fatal(reason)
		}
		t.Skip(reason)
	}
	const pkg = "hello"
	remove := func() {
		out, err := exec.Command("apt-get", "remove", "-y", "-qq", "-o", "DPkg::Lock::Timeout=120", pkg).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	remove()
	t.Cleanup(remove)
	require.False(t, installed(t, pkg))

	out := makeOutput(t, "test-deps", "TEST_DEBS=make "+pkg)
	require.Contains(t, out, "test-deps: installing "+pkg+"\n")
	require.True(t, installed(t, pkg), "make test-deps installed %s", pkg)

	require.Empty(t, makeOutput(t, "test-deps", "TEST_DEBS=make "+pkg), "nothing missing, nothing done")
}
