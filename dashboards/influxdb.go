package main

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// influxBackend queries InfluxDB 1.x (InfluxQL) fed by telegraf's
// outputs.influxdb from the plugin in bucket_counts = "interval" mode:
// bucket lines carry interval_bucket, the samples of one interval between
// gt and le, so a heatmap is a plain sum per time step and le. Cumulative
// buckets would need a subtraction across tags, which InfluxQL cannot do.
type influxBackend struct{}

func (influxBackend) datasourceType() string { return "influxdb" }
func (influxBackend) uid() string            { return "ebpf-latency-influxdb" }
func (influxBackend) title() string          { return "eBPF latency (InfluxDB)" }
func (influxBackend) description() string {
	return "Latency heatmaps of telegraf-ebpf-latency for every data center (telegraf [global_tags] dc), stored in InfluxDB 1.x by outputs.influxdb. Needs the plugin's bucket_counts = \"interval\"."
}

// influxMatchers: "dc" = '$dc' AND "host" =~ /^$host$/.
var influxMatchers = matcherSyntax{fixed: `"%s" = '%s'`, single: `"%s" = '$%s'`, multi: `"%s" =~ /^$%s$/`}

func influxWhere(where []matcher) string {
	return strings.Join(influxMatchers.render(where), " AND ")
}

func influxGroupBy(by []string) string {
	tags := make([]string, 0, len(by))
	for _, t := range by {
		tags = append(tags, fmt.Sprintf("%q", t))
	}
	return strings.Join(tags, ", ")
}

func influxLegend(tag string) string { return "$tag_" + tag }

func influxQuery(query, alias string) influxQLQuery {
	return influxQLQuery{Query: query, RawQuery: true, ResultFormat: "time_series", Alias: alias}
}

// heatmap: one series per le, each step the samples that arrived in it.
func (influxBackend) heatmap(h histogram) cog.Builder[variants.Dataquery] {
	return influxQuery(fmt.Sprintf(`SELECT sum("interval_bucket") FROM %q WHERE %s AND $timeFilter GROUP BY time($__interval), "le" fill(0)`,
		h.measurement, influxWhere(h.where)), "$tag_le")
}

// p99: the plugin's own interval quantile, the worst host's per step
// (quantiles of different hosts cannot be merged, only bounded).
func (influxBackend) p99(h histogram) cog.Builder[variants.Dataquery] {
	return influxQuery(fmt.Sprintf(`SELECT max("p99_seconds") FROM %q WHERE %s AND $timeFilter GROUP BY time($__interval), %s fill(none)`,
		h.measurement, influxWhere(h.where), influxGroupBy(h.by)), legend(h.by, influxLegend, "p99"))
}

func (influxBackend) max(h histogram) cog.Builder[variants.Dataquery] {
	return influxQuery(fmt.Sprintf(`SELECT max("seconds_max") FROM %q WHERE %s AND $timeFilter GROUP BY time($__interval), %s fill(none)`,
		h.measurement, influxWhere(h.where), influxGroupBy(h.by)), legend(h.by, influxLegend, "max"))
}

// rate: the counters are cumulative per host, so the derivative is taken
// per host and series before any sum.
func (influxBackend) rate(c counter) cog.Builder[variants.Dataquery] {
	return influxQuery(fmt.Sprintf(`SELECT non_negative_derivative(max(%q), 1s) FROM %q WHERE %s AND $timeFilter GROUP BY time($__interval), "host", %s fill(none)`,
		c.field, c.measurement, influxWhere(c.where), influxGroupBy(c.by)), "$tag_host "+legend(c.by, influxLegend, ""))
}

func (influxBackend) variable(v variable) cog.Builder[dashboard.VariableModel] {
	from := fmt.Sprintf("%q", v.measurement)
	if strings.HasPrefix(v.measurement, "^") {
		from = "/" + v.measurement + "/"
	}
	query := fmt.Sprintf("SHOW TAG VALUES FROM %s WITH KEY = %q", from, v.tag)
	if len(v.where) > 0 {
		query += " WHERE " + influxWhere(v.where)
	}
	return queryVariable(influxBackend{}, v, query)
}
