package hooks

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// Attached is a loaded probe object with its links.
type Attached struct {
	Kind       Kind
	Collection *ebpf.Collection
	Passed     []Attempt // flavours tried before Kind, and why they failed
	links      []link.Link
	deferred   []Hook // loaded, attached only by AttachDeferred
}

// Options steer Attach.
type Options struct {
	// Pin restricts the walk to one flavour (config `hook`, and tests that
	// prove every fallback works).
	Pin *Kind
	// Prepare edits the trimmed spec before load (knobs, map sizes).
	Prepare func(spec *ebpf.CollectionSpec, kind Kind) error
	// Skip lists programs this configuration does not need (e.g. start-time
	// hooks when the kernel keeps start times itself).
	Skip map[string]bool
	// Deferred lists programs to load now and attach only when the probe
	// calls AttachDeferred (a fallback it may need later, at no cost until
	// then). Other flavours' programs are not affected.
	Deferred map[string]bool
}

// Attach loads and attaches the first flavour that works.
func Attach(spec *ebpf.CollectionSpec, flavours []Flavour, opts Options) (*Attached, error) {
	var passed []Attempt
	for _, fl := range flavours {
		if opts.Pin != nil && *opts.Pin != fl.Kind {
			continue
		}
		att, err := attachFlavour(spec, fl, opts)
		if err == nil {
			att.Passed = passed
			return att, nil
		}
		passed = append(passed, Attempt{Kind: fl.Kind, Err: err})
	}
	if len(passed) == 0 {
		return nil, fmt.Errorf("no hook flavour %v offered by this probe", opts.Pin)
	}
	return nil, AttemptsError(passed)
}

func attachFlavour(spec *ebpf.CollectionSpec, fl Flavour, opts Options) (*Attached, error) {
	trimmed := spec.Copy()
	wanted := make(map[string]Hook)
	for _, h := range fl.Hooks {
		if !opts.Skip[h.Program] {
			wanted[h.Program] = h
		}
	}
	for name := range trimmed.Programs {
		if _, ok := wanted[name]; !ok {
			delete(trimmed.Programs, name)
		}
	}
	if opts.Prepare != nil {
		if err := opts.Prepare(trimmed, fl.Kind); err != nil {
			return nil, err
		}
	}
	if fl.Kind == Tracepoint {
		if err := kernel.EnsureTracefs(); err != nil {
			return nil, err
		}
	}
	coll, err := ebpf.NewCollection(trimmed)
	if err != nil {
		return nil, explainDenied("loading", err, fl.Kind)
	}
	att := &Attached{Kind: fl.Kind, Collection: coll}
	for _, h := range fl.Hooks {
		if opts.Skip[h.Program] || fl.Kind == Uprobe || fl.Kind == UprobeMulti {
			continue
		}
		if opts.Deferred[h.Program] {
			att.deferred = append(att.deferred, h)
			continue
		}
		l, err := attachOne(coll.Programs[h.Program], fl.Kind, h)
		if err != nil {
			att.Close()
			return nil, explainDenied(fmt.Sprintf("attaching %s to %s", h.Program, h.Event), err, fl.Kind)
		}
		att.links = append(att.links, l)
	}
	return att, nil
}

func attachOne(prog *ebpf.Program, kind Kind, h Hook) (link.Link, error) {
	if prog == nil {
		return nil, fmt.Errorf("program %s missing from the object", h.Program)
	}
	switch kind {
	case TPBTF:
		return link.AttachTracing(link.TracingOptions{Program: prog})
	case RawTP:
		return link.AttachRawTracepoint(link.RawTracepointOptions{Name: h.Event, Program: prog})
	case Tracepoint:
		return link.Tracepoint(h.Group, h.Event, prog, nil)
	case SockOps:
		return link.AttachCgroup(link.CgroupOptions{Path: h.Cgroup, Attach: ebpf.AttachCGroupSockOps, Program: prog})
	}
	return nil, fmt.Errorf("unknown hook kind %v", kind)
}

// AttachDeferred attaches the programs Options.Deferred held back; it does
// nothing once they are attached.
func (a *Attached) AttachDeferred() error {
	for len(a.deferred) > 0 {
		h := a.deferred[0]
		l, err := attachOne(a.Collection.Programs[h.Program], a.Kind, h)
		if err != nil {
			return fmt.Errorf("attaching %s to %s: %w", h.Program, h.Event, kernel.ExplainLoadError(err))
		}
		a.links = append(a.links, l)
		a.deferred = a.deferred[1:]
	}
	return nil
}

// Keep hands a link the probe attached itself (uprobes) to Close.
func (a *Attached) Keep(l link.Link) { a.links = append(a.links, l) }

// Detach detaches every link and keeps programs and maps: the counts stay
// readable, and nothing more is recorded.
func (a *Attached) Detach() error {
	var errs []error
	for _, l := range a.links {
		errs = append(errs, l.Close())
	}
	a.links = nil
	return errors.Join(errs...)
}

// Close detaches every link, then frees programs and maps.
func (a *Attached) Close() error {
	err := a.Detach()
	if a.Collection != nil {
		a.Collection.Close()
		a.Collection = nil
	}
	return err
}

// Programs returns the loaded programs by name (for BPF stats).
func (a *Attached) Programs() map[string]*ebpf.Program {
	return a.Collection.Programs
}
