package slowevent

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
)

// Event decodes what the C writes: same fields, sizes and offsets as the type
// bpf2go generates from struct slow_event's BTF.
func TestEventLayoutMatchesTheC(t *testing.T) {
	ours, theirs := reflect.TypeOf(Event{}), reflect.TypeOf(diskbpf.DiskSlowEvent{})
	require.Equal(t, binary.Size(diskbpf.DiskSlowEvent{}), eventSize)
	require.Equal(t, theirs.Size(), ours.Size())
	o, c := sizedFields(ours), sizedFields(theirs)
	require.Len(t, o, len(c))
	for i := range o {
		require.Equal(t, c[i].Offset, o[i].Offset, "field %s/%s", o[i].Name, c[i].Name)
		require.Equal(t, c[i].Type.Size(), o[i].Type.Size(), "field %s/%s", o[i].Name, c[i].Name)
	}
}

// sizedFields leaves out markers such as structs.HostLayout.
func sizedFields(t reflect.Type) []reflect.StructField {
	var fields []reflect.StructField
	for i := range t.NumField() {
		if f := t.Field(i); f.Type.Size() > 0 {
			fields = append(fields, f)
		}
	}
	return fields
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		cfg Config
		err string
	}{
		{Config{Threshold: "50ms", PerSecond: 100}, ""},
		{Config{PerSecond: 1}, ""},
		{Config{Threshold: "fast", PerSecond: 100}, `slow_threshold: "fast" is not a duration`},
		{Config{Threshold: "50", PerSecond: 100}, `slow_threshold: "50" is not a duration`},
		{Config{Threshold: "-5ms", PerSecond: 100}, `slow_threshold: "-5ms" must be positive`},
		{Config{Threshold: "50ms", PerSecond: -3}, `slow_events_per_second: -3 is out of range`},
		{Config{Threshold: "50ms", PerSecond: 0}, `slow_events_per_second: 0 is out of range`},
	} {
		err := tt.cfg.Validate()
		if tt.err == "" {
			require.NoError(t, err)
		} else {
			require.ErrorContains(t, err, tt.err)
		}
	}
}
