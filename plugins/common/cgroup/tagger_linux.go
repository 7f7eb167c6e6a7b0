package cgroup

import (
	"errors"
	"fmt"
	"maps"

	"github.com/cilium/ebpf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Names in every object that includes cgroup.bpf.h.
const (
	mapExcluded = "cgroup_excluded"
	mapSlots    = "cgroup_slots"
	mapCounters = "cgroup_counters"
	varOn       = "by_cgroup"
	varFilter   = "filter_cgroups"
)

// minExcluded is the room cgroup_excluded keeps for cgroups created after
// start; exclusions of removed cgroups are taken out at each scan.
const minExcluded = 4096

// counterNames mirror enum cgroup_counter in cgroup.bpf.h; CounterVerdictsFull
// is user space's own.
var counterNames = []string{"cgroup_folded", "cgroup_excluded"}

// CounterVerdictsFull counts exclusions cgroup_excluded had no room for:
// those cgroups are measured in the kernel and dropped at each gather.
const CounterVerdictsFull = "cgroup_verdicts_full"

// Prepare sets the object's knobs and map sizes before load; with a filter
// it scans the cgroup2 mount so the cgroups running now are judged before
// the first sample. Call it for every flavour attempted.
func (c *Attribution) Prepare(spec *ebpf.CollectionSpec) error {
	excluded, slots := spec.Maps[mapExcluded], spec.Maps[mapSlots]
	if excluded == nil || slots == nil || spec.Maps[mapCounters] == nil {
		return fmt.Errorf("object lacks map %s, %s or %s", mapExcluded, mapSlots, mapCounters)
	}
	filter := c.ByCgroup && len(c.Cgroups) > 0
	if err := hooks.SetKnobs(spec, map[string]any{varOn: c.ByCgroup, varFilter: filter}); err != nil {
		return err
	}
	excluded.MaxEntries, excluded.Contents, slots.MaxEntries = 1, nil, 1
	if !c.ByCgroup {
		return nil
	}
	slots.MaxEntries = uint32(c.MaxCgroups)
	if !filter {
		return nil
	}
	r, err := newResolver()
	if err != nil {
		return fmt.Errorf("cgroups: %w", err)
	}
	g, _ := compileGlobs(c.Cgroups) // validated
	for id, tag := range r.tags {
		if !g.keeps(tag, r.paths[id]) {
			excluded.Contents = append(excluded.Contents, ebpf.MapKV{Key: id, Value: uint8(1)})
		}
	}
	excluded.MaxEntries = uint32(max(2*len(excluded.Contents), minExcluded))
	return nil
}

// SeriesPerKey is how many series by_cgroup makes of one series without
// it, for sizing a probe's histogram map: max_cgroups and the fold.
func (c *Attribution) SeriesPerKey() int {
	if !c.ByCgroup {
		return 1
	}
	return c.MaxCgroups + 1
}

// Verdict says what a probe does with a series at one gather.
type Verdict int

const (
	// Write the series under the tag.
	Write Verdict = iota
	// Wait: its cgroup appeared during this gather; the next one writes it.
	Wait
	// Drop: delete the series, its cgroup matches no `cgroups` glob.
	Drop
)

// Tagger turns the cgroup ids of a probe's series into tags, gather after
// gather, and keeps the kernel's exclusions and max_cgroups slots up to
// date. A nil Tagger (by_cgroup off) is never called.
type Tagger struct {
	globs     globs
	filter    bool
	res       *resolver
	excluded  *ebpf.Map
	slots     *ebpf.Map
	counters  *ebpf.Map
	verdicts  map[uint64]bool // live ids judged: true when excluded
	missing   map[uint64]bool // ids holding a slot that the last scan did not find
	seen      map[uint64]bool // ids with a series kept in this gather
	dropped   []uint64
	full      uint64
	rescanned bool // EventTag scanned the mount since the last Begin
}

// NewTagger follows the loaded coll's cgroups; nil (and no error) when
// by_cgroup is off.
func (c *Attribution) NewTagger(coll *ebpf.Collection) (*Tagger, error) {
	if !c.ByCgroup {
		return nil, nil
	}
	g, _ := compileGlobs(c.Cgroups)
	t := &Tagger{
		globs:    g,
		filter:   len(c.Cgroups) > 0,
		excluded: coll.Maps[mapExcluded],
		slots:    coll.Maps[mapSlots],
		counters: coll.Maps[mapCounters],
		verdicts: map[uint64]bool{},
		missing:  map[uint64]bool{},
		seen:     map[uint64]bool{},
	}
	if t.excluded == nil || t.slots == nil || t.counters == nil {
		return nil, fmt.Errorf("object lacks map %s, %s or %s", mapExcluded, mapSlots, mapCounters)
	}
	var err error
	if t.res, err = newResolver(); err != nil {
		return nil, err
	}
	return t, t.judge()
}

// Begin starts a gather: if a cgroup holding a series is unknown, the
// mount is scanned again (at most once per gather, and never for an id a
// scan already missed), so every tag of this gather comes from one scan.
func (t *Tagger) Begin() error {
	t.rescanned = false
	clear(t.seen)
	t.dropped = t.dropped[:0]
	var (
		id, unknown uint64
		one         uint8
		found       bool
	)
	it := t.slots.Iterate()
	for it.Next(&id, &one) {
		if _, ok := t.res.tags[id]; !ok && !t.missing[id] {
			unknown, found = id, true
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", mapSlots, err)
	}
	if !found {
		return nil
	}
	if err := t.res.scan(); err != nil {
		return fmt.Errorf("resolving cgroup %d: %w", unknown, err)
	}
	clear(t.missing)
	it = t.slots.Iterate()
	for it.Next(&id, &one) {
		if _, ok := t.res.tags[id]; !ok {
			t.missing[id] = true
		}
	}
	return errors.Join(it.Err(), t.judge())
}

// judge pushes the verdicts of cgroups the last scan found first, and
// takes out those of cgroups since removed.
func (t *Tagger) judge() error {
	var errs []error
	for id, excluded := range t.verdicts {
		if _, live := t.res.tags[id]; live {
			continue
		}
		delete(t.verdicts, id)
		if excluded {
			if err := t.excluded.Delete(id); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, err)
			}
		}
	}
	for id, tag := range t.res.tags {
		if _, ok := t.verdicts[id]; ok {
			continue
		}
		excluded := !t.globs.keeps(tag, t.res.paths[id])
		t.verdicts[id] = excluded
		if excluded {
			if err := t.excluded.Update(id, uint8(1), ebpf.UpdateAny); err != nil {
				t.full++ // still dropped, at each gather (Tag)
			}
		}
	}
	return errors.Join(errs...)
}

// Tag is the tag of the series of cgroup id in this gather, and what to do
// with the series. An id the last scan did not find (a cgroup removed
// before it was read, or replaced: a restarted service has a new cgroup at
// the old path) is marked `\id:<id>`, or dropped when a filter cannot judge
// it.
func (t *Tagger) Tag(id uint64) (string, Verdict) {
	if id == FoldedID {
		return Folded, Write
	}
	if t.verdicts[id] {
		t.dropped = append(t.dropped, id)
		return "", Drop
	}
	tag, ok := t.res.tags[id]
	switch {
	case ok:
	case !t.missing[id]:
		t.seen[id] = true
		return "", Wait
	case t.filter:
		t.dropped = append(t.dropped, id)
		return "", Drop
	default:
		tag = unresolvedTag(id)
	}
	t.seen[id] = true
	return tag, Write
}

// EventTag is the tag of a slow event whose series is keyed by cgroup id:
// the tag that series has, or gets when it is first written (the mount is
// scanned for an id no scan met yet, at most once between two Begins).
// keep is false when the series is dropped (`cgroups` excludes the id, or
// a filter cannot judge it): its events go with it. It changes nothing the
// series' own Tag calls see, so a probe calls it before or after Begin.
func (t *Tagger) EventTag(id uint64) (tag string, keep bool) {
	if id == FoldedID {
		return Folded, true
	}
	if _, ok := t.res.tags[id]; !ok && !t.missing[id] && !t.rescanned {
		t.rescanned = true
		if t.res.scan() == nil {
			_ = t.judge() // a failed exclusion update is counted; the verdict stands
		}
	}
	if t.verdicts[id] {
		return "", false
	}
	if tag, ok := t.res.tags[id]; ok {
		return tag, true
	}
	if t.filter {
		return "", false
	}
	return unresolvedTag(id), true
}

// TagEvent is EventTag for an event's tag map: it sets tag cgroup, and
// says whether to emit the event. A nil Tagger (by_cgroup off) sets
// nothing and answers true.
func (t *Tagger) TagEvent(tags map[string]string, id uint64) bool {
	if t == nil {
		return true
	}
	tag, keep := t.EventTag(id)
	if keep {
		tags[TagName] = tag
	}
	return keep
}

// Finish ends a gather after the probe deleted its dropped and expired
// series: the max_cgroups slot of each of their cgroups left without a
// series is freed for a newcomer.
func (t *Tagger) Finish(expired []uint64) error {
	var errs []error
	for _, ids := range [][]uint64{t.dropped, expired} {
		for _, id := range ids {
			if t.seen[id] || id == FoldedID {
				continue
			}
			t.seen[id] = true // once
			if err := t.slots.Delete(id); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, fmt.Errorf("freeing the slot of cgroup %d: %w", id, err))
			}
			delete(t.missing, id)
		}
	}
	return errors.Join(errs...)
}

// Counters adds the cgroup counters to a probe's self-metrics: samples
// folded into "other", operations excluded by `cgroups`, exclusions the
// kernel had no room for. Zero when by_cgroup is off (t nil).
func (t *Tagger) Counters(into map[string]uint64) {
	for _, name := range counterNames {
		into[name] = 0
	}
	into[CounterVerdictsFull] = 0
	if t == nil {
		return
	}
	maps.Copy(into, probe.SumCounters(t.counters, counterNames))
	into[CounterVerdictsFull] = t.full
}

// TagInto is Tag for a probe's tag map: on Write it sets tag cgroup. A nil
// Tagger (by_cgroup off) sets nothing and answers Write.
func (t *Tagger) TagInto(tags map[string]string, id uint64) Verdict {
	if t == nil {
		return Write
	}
	tag, verdict := t.Tag(id)
	if verdict == Write {
		tags[TagName] = tag
	}
	return verdict
}
