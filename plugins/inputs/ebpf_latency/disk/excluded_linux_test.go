package disk

import (
	"slices"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// hashCompletions reads disk_hists from the kernel: the completions of
// each disk with a key there, summed over keys and CPUs.
func hashCompletions(t *testing.T, p *diskProbe) map[uint32]uint64 {
	t.Helper()
	m := p.att.Collection.Maps[diskbpf.DiskMapDiskHists]
	var (
		k      diskbpf.DiskDiskHistKey
		perCPU []leadWord
		keys   []diskbpf.DiskDiskHistKey
	)
	it := m.Iterate()
	for it.Next(&k, &perCPU) {
		keys = append(keys, k)
	}
	require.NoError(t, it.Err())
	out := map[uint32]uint64{}
	for i := range keys {
		out[keys[i].Dev] += sumCompletions(t, m, &keys[i])
	}
	return out
}

// With devices naming one disk and by_cgroup on (the hash path), a second
// disk's reads take no key in disk_hists on any hook, while the wanted
// disk's are counted exactly; a disk made after start is measured until
// the gather that judges it, and not after. unseen_completions sums the
// wanted disk's alone: the kernel's count of the skipped ones is no loss.
func TestUnwantedDisksTakeNoHashEntry(t *testing.T) {
	testenv.RequirePrivileged(t)
	const wantedReads, unwantedReads, lateReads = 9, 200, 7
	for _, hook := range []string{"tp_btf", "raw_tp", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			wanted, unwanted := loopOnTmpfs(t), loopOnTmpfs(t)
			cg := testenv.NewCgroup(t)
			cfg := byCgroup(wanted.Name)
			cfg.Hook = hook
			p := startProbe(t, cfg)

			late := addedLoopOnTmpfs(t)
			readIn(t, cg, unwanted.Path, unwantedReads, 0)
			readIn(t, cg, late.Path, lateReads, 0)
			readIn(t, cg, wanted.Path, wantedReads, 0)
			acc := gather(t, p)
			require.Equal(t, uint64(wantedReads), readsUnder(acc, wanted.Name, cg.Path), "the wanted disk's reads, exactly")
			inHash := hashCompletions(t, p)
			require.Zero(t, inHash[devOf(unwanted)], "the unwanted disk's reads in disk_hists")
			require.GreaterOrEqual(t, inHash[devOf(late)], uint64(lateReads), "a disk made after start is measured until judged")
			for _, d := range []*testenv.LoopDevice{unwanted, late} {
				_, ok := findSeries(acc, map[string]string{"device": d.Name})
				require.False(t, ok, "a series of %s written", d.Name)
			}

			before := inHash[devOf(late)]
			readIn(t, cg, late.Path, lateReads, lateReads)
			readIn(t, cg, unwanted.Path, unwantedReads, 0)
			acc = gather(t, p)
			inHash = hashCompletions(t, p)
			require.Equal(t, before, inHash[devOf(late)], "the late disk's reads after it was judged")
			require.Zero(t, inHash[devOf(unwanted)])
			require.Equal(t, uint64(wantedReads), readsUnder(acc, wanted.Name, cg.Path), "the wanted disk's reads (cumulative)")
			requireUnseenOfWantedAlone(t, p, acc, wanted.Name)
		})
	}
}

// requireUnseenOfWantedAlone checks unseen_completions is the unseen of
// the wanted disk's ebpf_disk_completions lines, the only ones written,
// and within the kernel's count of its completions: the skipped disks'
// completions (hundreds) are not in it.
func requireUnseenOfWantedAlone(t *testing.T, p *diskProbe, acc *testutil.Accumulator, wanted string) {
	t.Helper()
	var unseen, kernel uint64
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != CompletionsMeasurement {
			continue
		}
		require.Equal(t, wanted, m.Tags()["device"], "a completions line of a disk left out")
		unseen += m.Fields()["unseen"].(uint64)
		kernel += m.Fields()["kernel"].(uint64)
	}
	require.Positive(t, kernel, "the wanted disk's completions line")
	require.Equal(t, unseen, p.Status().Counters["unseen_completions"])
}

// The provoked loss the kernel filter ends: with room for 8 keys in
// disk_hists, reads of a disk left out in 8 cgroups come first; measured
// in the kernel, they fill the hash and the wanted disk's series is lost
// (hist_full). Skipped there, every wanted read is counted.
func TestUnwantedDisksCannotFillTheHash(t *testing.T) {
	testenv.RequirePrivileged(t)
	const room, wantedReads = 8, 5
	wanted, unwanted := loopOnTmpfs(t), loopOnTmpfs(t)
	cg := testenv.NewCgroup(t)
	p := newProbe(byCgroup(wanted.Name), testutil.Logger{}).(*diskProbe)
	p.histEntries = room
	start(t, p)
	require.Equal(t, uint32(room), p.seriesRoom)

	for range room {
		readIn(t, testenv.NewCgroup(t), unwanted.Path, 1, 0)
	}
	readIn(t, cg, wanted.Path, wantedReads, 0)
	acc := gather(t, p)
	require.Zero(t, p.Status().Counters["hist_full"], "samples lost to a full hash")
	require.Equal(t, uint64(wantedReads), readsUnder(acc, wanted.Name, cg.Path))
}

// On the rows path (the default) a disk left out takes no row: one here at
// start is marked skipped in its disk_row_of_dev entry before load, one
// made after start at the gather that judges it (measured in the hash
// until then). Their reads go nowhere after; the wanted disk's are exact,
// and it holds the only row given, on every hook.
func TestUnwantedDisksTakeNoRow(t *testing.T) {
	testenv.RequirePrivileged(t)
	const n = 6
	for _, hook := range []string{"tp_btf", "raw_tp", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			wanted, unwanted := loopOnTmpfs(t), loopOnTmpfs(t)
			cfg := DefaultConfig()
			cfg.Devices, cfg.Hook = []string{wanted.Name}, hook
			p := startProbe(t, cfg)
			requireOnlyRow(t, p, wanted)
			requireMarked(t, p, unwanted)

			late := addedLoopOnTmpfs(t)
			for round := 1; round <= 2; round++ {
				for _, d := range []*testenv.LoopDevice{unwanted, late, wanted} {
					testenv.IssueDirect(t, d.Path, false, n, int64((round-1)*n))
				}
				acc := gather(t, p)
				s, ok := findSeries(acc, map[string]string{"device": wanted.Name, "op": "read", "stage": StageService})
				require.True(t, ok, "round %d: no read series of the wanted disk", round)
				requireConsistent(t, s, uint64(round*n))
				hash, row := completionsIn(t, p, devOf(unwanted))
				require.Equal(t, [2]uint64{0, 0}, [2]uint64{hash, row}, "round %d: the unwanted disk's reads in the hash and a row", round)
				hash, row = completionsIn(t, p, devOf(late))
				require.Equal(t, [2]uint64{n, 0}, [2]uint64{hash, row}, "round %d: the late disk's reads: its first round's, in the hash", round)
				requireMarked(t, p, late)
				requireOnlyRow(t, p, wanted)
				requireUnseenOfWantedAlone(t, p, acc, wanted.Name)
			}
		})
	}
}

// requireOnlyRow checks d's disk is the only one given a row.
func requireOnlyRow(t *testing.T, p *diskProbe, d *testenv.LoopDevice) {
	t.Helper()
	require.Equal(t, map[uint32]bool{devOf(d): true}, func() map[uint32]bool {
		given := map[uint32]bool{}
		for dev := range p.rows.rowOf {
			given[dev] = true
		}
		return given
	}(), "disks with a row")
}

// requireMarked reads d's disk_row_of_dev entry from the kernel: marked
// skipped, or, where another disk holds the entry, d is in disk_excluded.
func requireMarked(t *testing.T, p *diskProbe, d *testenv.LoopDevice) {
	t.Helper()
	var entry diskbpf.DiskDiskRow
	require.NoError(t, p.rows.table.Lookup(rowEntry(devOf(d), p.rows.mask), &entry))
	if entry.Dev == devOf(d) {
		require.Equal(t, rowExcluded, entry.Row, "%s's entry", d.Name)
		return
	}
	var v uint8
	require.NoError(t, p.excluded.table.Lookup(devOf(d), &v), "%s: entry another's, and not in %s", d.Name, diskbpf.DiskMapDiskExcluded)
}

// Without a devices filter the programs the kernel runs never look at
// disk_excluded (the check is compiled out, rows path or hash path); with
// one, every completion program does.
func TestDeviceFilterPrunedWhenOff(t *testing.T) {
	testenv.RequirePrivileged(t)
	completions := []string{diskbpf.DiskProgDiskCompleteBtf, diskbpf.DiskProgDiskCompleteRaw, diskbpf.DiskProgDiskCompleteTp}
	for _, rows := range []bool{false, true} {
		for _, filter := range []bool{false, true} {
			refs := testenv.MapReferences(t, diskbpf.LoadDisk, func(spec *ebpf.CollectionSpec) error {
				if err := spec.Variables[diskbpf.DiskVarUseRows].Set(rows); err != nil {
					return err
				}
				return spec.Variables[diskbpf.DiskVarFilterDevices].Set(filter)
			}, diskbpf.DiskMapDiskExcluded)
			for prog, n := range refs {
				if filter && slices.Contains(completions, prog) {
					require.Positive(t, n, "rows %v: %s checks disk_excluded with a filter", rows, prog)
				} else {
					require.Zero(t, n, "rows %v, filter %v: %s uses disk_excluded", rows, filter, prog)
				}
			}
		}
	}
}

// addedLoopOnTmpfs is loopOnTmpfs on a loop device made after the call: a
// disk the probe did not see at start.
func addedLoopOnTmpfs(t *testing.T) *testenv.LoopDevice {
	t.Helper()
	return testenv.NewAddedLoopDevice(t, tmpfsImage(t))
}
