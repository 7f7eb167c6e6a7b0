// Package cgroup is the user-space half of cgroup attribution
// (bpf/headers/cgroup.bpf.h), shared by every probe: the by_cgroup,
// cgroups and max_cgroups keys, the cgroup v2 id -> path resolver on the
// cgroup2 mount, the tag a path becomes, and the glob verdicts pushed into
// the kernel's exclusion map.
//
// A probe adopts it in five steps (the syscall probe is the example):
//   - embed Attribution in its config table beside slowevent.Config and call
//     its Validate from the table's Validate; both define Prepare and
//     Describe, so name them: c.Attribution.Prepare, c.Config.Prepare;
//   - add a `__u64 cgroup` field to its histogram key, include cgroup.bpf.h,
//     take the id with cgroup_current() (or the id of the task the operation
//     is charged to), skip the operation unless cgroup_wanted(id), and on a
//     histogram miss key the new series with cgroup_admit(id); size the
//     histogram map with SeriesPerKey;
//   - call Attribution.Prepare on the spec before load and
//     Attribution.NewTagger on the loaded collection;
//   - in Gather: Tagger.Begin, then Tagger.Tag(key.Cgroup) for each series it
//     keeps (Write it under tag "cgroup", skip it on Wait, delete it on Drop),
//     then Tagger.Finish with the cgroup ids of the series expiry deleted;
//   - add Tagger.Counters to its Status.
//
// A nil *Tagger is what by_cgroup = false gives: the probe skips the calls
// but still calls Counters, which writes zeros.
package cgroup

import (
	"fmt"

	"github.com/influxdata/telegraf/filter"
)

// Attribution holds the keys of every probe table that can split its series by
// cgroup; probes embed it.
type Attribution struct {
	// ByCgroup adds the tag cgroup: the cgroup v2 path (shortened) of the
	// task an operation is charged to.
	ByCgroup bool `toml:"by_cgroup"`
	// Cgroups are globs on the cgroup's tag or full path; empty means all.
	Cgroups []string `toml:"cgroups"`
	// MaxCgroups bounds the cgroup tag: later cgroups fold into "other".
	MaxCgroups int `toml:"max_cgroups"`
}

// DefaultMax is max_cgroups when the table leaves it out.
const DefaultMax = 64

// maxMax bounds the kernel maps max_cgroups sizes.
const maxMax = 4096

// Default has attribution off and the default cap.
func Default() Attribution { return Attribution{MaxCgroups: DefaultMax} }

// Validate names the key and the value it refuses.
func (c *Attribution) Validate() error {
	if c.MaxCgroups < 1 || c.MaxCgroups > maxMax {
		return fmt.Errorf("max_cgroups: %d out of range (want 1 to %d)", c.MaxCgroups, maxMax)
	}
	if _, err := compileGlobs(c.Cgroups); err != nil {
		return err
	}
	if len(c.Cgroups) > 0 && !c.ByCgroup {
		return fmt.Errorf("cgroups: %q needs by_cgroup = true", c.Cgroups)
	}
	return nil
}

// Describe completes a probe's start log line: "" when attribution is off.
func (c *Attribution) Describe() string {
	if !c.ByCgroup {
		return ""
	}
	if len(c.Cgroups) > 0 {
		return fmt.Sprintf(", by cgroup (at most %d, only %q)", c.MaxCgroups, c.Cgroups)
	}
	return fmt.Sprintf(", by cgroup (at most %d)", c.MaxCgroups)
}

// globs is the compiled `cgroups` key: one filter per pattern, since
// telegraf reads braces as glob syntax only beside another glob.
type globs []filter.Filter

func compileGlobs(patterns []string) (globs, error) {
	var g globs
	for _, p := range patterns {
		if p == "" {
			return nil, fmt.Errorf("cgroups: empty pattern")
		}
		f, err := filter.Compile([]string{p})
		if err != nil {
			return nil, fmt.Errorf("cgroups: bad glob %q: %v", p, err)
		}
		g = append(g, f)
	}
	return g, nil
}

// keeps says whether a cgroup known by its tag and path is wanted: no
// globs, or one matching either.
func (g globs) keeps(tag, path string) bool {
	if len(g) == 0 {
		return true
	}
	for _, f := range g {
		if f.Match(tag) || f.Match(path) {
			return true
		}
	}
	return false
}
