package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// numberPanels gives every panel and row an id and every query a refId
// (A, B, ...), in order, so that the JSON is stable and Grafana keeps links
// to panels across regenerations.
func numberPanels(d *dashboard.Dashboard) {
	id := uint32(0)
	for _, p := range d.Panels {
		id++
		if p.RowPanel != nil {
			p.RowPanel.Id = id
			continue
		}
		p.Panel.Id = cog.ToPtr(id)
		for i, t := range p.Panel.Targets {
			p.Panel.Targets[i] = withRefID(t, string(rune('A'+i)))
		}
	}
}

func withRefID(q variants.Dataquery, ref string) variants.Dataquery {
	switch q := q.(type) {
	case prometheus.Dataquery:
		q.RefId = cog.ToPtr(ref)
		return q
	case influxQLQuery:
		q.RefID = ref
		return q
	}
	return q
}
