package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// FioJob is one fio run of 4 KiB O_DIRECT random reads, one job, psync:
// one I/O in flight, so each read's latency is the path under test.
type FioJob struct {
	Device string // block device path
	Size   int64  // region to read, bytes; must hold N distinct blocks
	N      int    // I/Os to issue
}

const fioBlock = 4096

func (j FioJob) args(output string) []string {
	return []string{
		"--name=bench", "--filename=" + j.Device,
		"--rw=randread", "--bs=4k", "--direct=1", "--ioengine=psync", "--numjobs=1",
		"--size=" + strconv.FormatInt(j.Size, 10),
		// Both bounds: fio stops at whichever comes first.
		"--number_ios=" + strconv.Itoa(j.N),
		"--io_size=" + strconv.FormatInt(int64(j.N)*fioBlock, 10),
		"--invalidate=0", "--randrepeat=1",
		"--output-format=json", "--output=" + output,
	}
}

// fioReport is the part of fio's JSON output we read.
type fioReport struct {
	Jobs []struct {
		Error int `json:"error"`
		Read  struct {
			TotalIOs uint64 `json:"total_ios"`
			LatNs    struct {
				Mean float64 `json:"mean"`
			} `json:"lat_ns"`
		} `json:"read"`
	} `json:"jobs"`
}

// Run runs fio to completion; it is killed by PID if the test ends first.
func (j FioJob) Run(t testing.TB) Result {
	t.Helper()
	if int64(j.N)*fioBlock > j.Size {
		t.Fatalf("fio: %d reads need %d bytes, region has %d", j.N, int64(j.N)*fioBlock, j.Size)
	}
	out := filepath.Join(t.TempDir(), "fio.json")
	cmd := exec.CommandContext(t.Context(), "fio", j.args(out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fio %v: %v\n%s", cmd.Args[1:], err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("fio output: %v", err)
	}
	res, err := parseFio(data)
	if err != nil {
		t.Fatalf("fio output %s: %v", out, err)
	}
	return res
}

func parseFio(data []byte) (Result, error) {
	var rep fioReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return Result{}, err
	}
	if len(rep.Jobs) != 1 {
		return Result{}, fmt.Errorf("want one job, got %d", len(rep.Jobs))
	}
	job := rep.Jobs[0]
	if job.Error != 0 {
		return Result{}, fmt.Errorf("job error %d", job.Error)
	}
	return Result{Ops: job.Read.TotalIOs, WallNs: job.Read.LatNs.Mean}, nil
}
