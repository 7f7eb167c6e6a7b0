package disk

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// Rows for two disks: the one here at start takes a row at load; of two
// made after start, whose first reads go to the hash, the gather gives one
// the row left and the other none (no room). Every read is counted exactly
// in one series per disk on every hook, whichever maps its samples are in
// (read from the kernel: the first disk's in its row alone, the adopted
// one's in the hash and its row, the one without room in the hash alone),
// and every line matches a probe keeping all series in the hash.
func TestDisksWithAndWithoutRowsCountEveryRead(t *testing.T) {
	testenv.RequirePrivileged(t)
	const n = 7
	for _, hook := range []string{"tp_btf", "raw_tp", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			first := loopOnTmpfs(t)
			ours := map[uint32]bool{devOf(first): true}
			p := startWithRows(t, hook, 2, ours, 0)
			hashCfg := DefaultConfig()
			hashCfg.Hook, hashCfg.HashSeries = hook, true
			hashOnly := startProbe(t, hashCfg)
			require.True(t, p.rows.hasRow(devOf(first)), "a disk here at start has a row")

			late := []*testenv.LoopDevice{loopOnTmpfs(t), loopOnTmpfs(t)}
			for _, d := range late {
				ours[devOf(d)] = true
			}
			all := append([]*testenv.LoopDevice{first}, late...)
			for round := 1; round <= 2; round++ {
				for _, d := range all {
					testenv.IssueDirect(t, d.Path, false, n, 0)
				}
				acc, hashAcc := gather(t, p), gather(t, hashOnly)
				for _, d := range all {
					s, ok := findSeries(acc, map[string]string{"device": d.Name, "op": "read", "stage": StageService})
					require.True(t, ok, "round %d: no read series of %s", round, d.Name)
					requireConsistent(t, s, uint64(round*n))
					require.Equal(t, linesOf(hashAcc, d.Name), linesOf(acc, d.Name), "round %d: %s's lines as with the hash alone", round, d.Name)
				}
			}

			adopted := slices.IndexFunc(late, func(d *testenv.LoopDevice) bool { return p.rows.hasRow(devOf(d)) })
			require.NotEqual(t, -1, adopted, "a disk made after start got the row left")
			rowless := late[1-adopted]
			require.False(t, p.rows.hasRow(devOf(rowless)), "two rows, three disks: one has none")
			for _, c := range []struct {
				disk          *testenv.LoopDevice
				inHash, inRow uint64
			}{
				{first, 0, 2 * n},
				{late[adopted], n, n},
				{rowless, 2 * n, 0},
			} {
				hash, row := completionsIn(t, p, devOf(c.disk))
				require.Equal(t, [2]uint64{c.inHash, c.inRow}, [2]uint64{hash, row}, "%s's reads in the hash and in its row", c.disk.Name)
			}
		})
	}
}

// startWithRows starts a default probe on hook with rows for disks disks,
// given only to the disks in ours (others' I/O must not take them), its
// series expiring after idleAfter (0: the default).
func startWithRows(t *testing.T, hook string, disks uint32, ours map[uint32]bool, idleAfter time.Duration) *diskProbe {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Hook = hook
	p := newProbe(cfg, testutil.Logger{}).(*diskProbe)
	p.rowDisks, p.rowAccept = disks, func(dev uint32) bool { return ours[dev] }
	if idleAfter > 0 {
		p.ExpireIdleSeries(idleAfter)
	}
	start(t, p)
	return p
}

// devOf is the kernel's dev_t of a loop device, as the probe keys it.
func devOf(d *testenv.LoopDevice) uint32 { return d.Major<<20 | d.Minor }

// linesOf are the name, tags and field keys of every line of device's
// series, sorted. (Values may differ by a bucket between two probes: each
// reads the clock itself at completion.)
func linesOf(acc *testutil.Accumulator, device string) []string {
	var lines []string
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Tags()["device"] != device {
			continue
		}
		line := m.Name()
		for _, k := range slices.Sorted(maps.Keys(m.Tags())) {
			line += "," + k + "=" + m.Tags()[k]
		}
		for _, f := range slices.Sorted(maps.Keys(m.Fields())) {
			line += " " + f
		}
		lines = append(lines, line)
	}
	slices.Sort(lines)
	return lines
}

// completionsIn reads the kernel's maps: the reads of dev recorded in the
// hash and in its row (completions, summed over CPUs).
func completionsIn(t *testing.T, p *diskProbe, dev uint32) (hash, row uint64) {
	t.Helper()
	key := diskbpf.DiskDiskHistKey{Dev: dev, Op: 0}
	hash = sumCompletions(t, p.att.Collection.Maps[diskbpf.DiskMapDiskHists], &key)
	if r, ok := p.rows.rowOfKey(&key); ok {
		row = sumCompletions(t, p.att.Collection.Maps[diskbpf.DiskMapDiskRows], &r)
	}
	return hash, row
}

func sumCompletions(t *testing.T, m *ebpf.Map, key any) uint64 {
	t.Helper()
	var perCPU []leadWord
	if err := m.Lookup(key, &perCPU); errors.Is(err, ebpf.ErrKeyNotExist) {
		return 0
	} else {
		require.NoError(t, err)
	}
	var n uint64
	for _, w := range perCPU {
		n += uint64(w)
	}
	return n
}

// leadWord is the first word of a CPU's struct disk_hists: completions.
type leadWord uint64

func (w *leadWord) UnmarshalBinary(b []byte) error {
	*w = leadWord(binary.NativeEndian.Uint64(b))
	return nil
}

// With no row left, a disk takes the row of one whose series all ended
// (expire_idle_series: gone, or idle that long), and no sample of either is
// filed under the other: the ended disk's entry goes at one gather, its row
// drains until the next, and only then serves the taker. Exact counts for
// both disks at every gather on every hook; where each disk's samples are,
// from the kernel's maps.
func TestRowOfAnEndedDiskGoesToANewOne(t *testing.T) {
	testenv.RequirePrivileged(t)
	const n = 5
	const idleAfter = 300 * time.Millisecond
	for _, hook := range []string{"tp_btf", "raw_tp", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			ended := loopOnTmpfs(t)
			ours := map[uint32]bool{devOf(ended): true}
			p := startWithRows(t, hook, 1, ours, idleAfter)
			taker := loopOnTmpfs(t)
			ours[devOf(taker)] = true

			// step reads n blocks of each disk given, gathers, and checks
			// each disk's read count (0: no series) and where its samples are.
			type want struct{ reads, inHash, inRow uint64 }
			step := func(name string, read []*testenv.LoopDevice, wantEnded, wantTaker want) {
				t.Helper()
				for _, d := range read {
					testenv.IssueDirect(t, d.Path, false, n, 0)
				}
				acc := gather(t, p)
				for _, c := range []struct {
					disk *testenv.LoopDevice
					want want
				}{{ended, wantEnded}, {taker, wantTaker}} {
					s, ok := findSeries(acc, map[string]string{"device": c.disk.Name, "op": "read", "stage": StageService})
					require.Equal(t, c.want.reads > 0, ok, "%s: %s has a read series", name, c.disk.Name)
					if ok {
						requireConsistent(t, s, c.want.reads)
					}
					hash, row := completionsIn(t, p, devOf(c.disk))
					require.Equal(t, [2]uint64{c.want.inHash, c.want.inRow}, [2]uint64{hash, row}, "%s: %s's reads in the hash and its row", name, c.disk.Name)
				}
			}
			both, takerOnly := []*testenv.LoopDevice{ended, taker}, []*testenv.LoopDevice{taker}
			step("both read", both, want{n, 0, n}, want{n, n, 0})
			time.Sleep(idleAfter + 100*time.Millisecond)
			// ended's series expire (its row cleared): it still had them at this read.
			step("ended idle", takerOnly, want{}, want{2 * n, 2 * n, 0})
			// ended had no series at this read: its entry goes, its row drains.
			step("row drains", takerOnly, want{}, want{3 * n, 3 * n, 0})
			// The drained row held nothing: the taker gets it.
			step("row taken", takerOnly, want{}, want{4 * n, 4 * n, 0})
			require.True(t, p.rows.hasRow(devOf(taker)), "the taker has the row")
			step("taker in its row", takerOnly, want{}, want{5 * n, 4 * n, n})
			// The ended disk is back: a new series, in the hash (no row left).
			step("ended back", []*testenv.LoopDevice{ended}, want{n, n, 0}, want{5 * n, 4 * n, n})
		})
	}
}
