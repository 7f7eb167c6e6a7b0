package main

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// promBackend queries what telegraf's outputs.prometheus_client
// (metric_version = 2) serves: <measurement>_<field>, buckets cumulative
// with label le (the plugin's default bucket_counts = "cumulative").
type promBackend struct{}

func (promBackend) datasourceType() string { return "prometheus" }
func (promBackend) uid() string            { return "ebpf-latency-prometheus" }
func (promBackend) title() string          { return "eBPF latency (Prometheus)" }
func (promBackend) description() string {
	return "Latency heatmaps of telegraf-ebpf-latency for every data center (telegraf [global_tags] dc), scraped by Prometheus from outputs.prometheus_client."
}

// promMatchers: {dc="$dc",host=~"$host"}.
var promMatchers = matcherSyntax{fixed: `%s="%s"`, single: `%s="$%s"`, multi: `%s=~"$%s"`}

func promSelector(where []matcher) string {
	return "{" + strings.Join(promMatchers.render(where), ",") + "}"
}

func promLegend(tag string) string { return "{{" + tag + "}}" }

func promQuery(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Range()
}

// heatmap: per-step bucket increments; Grafana's heatmap format turns the
// cumulative le series into per-bucket counts.
func (promBackend) heatmap(h histogram) cog.Builder[variants.Dataquery] {
	return promQuery(fmt.Sprintf("sum by (le) (increase(%s_seconds_bucket%s[$__rate_interval]))", h.measurement, promSelector(h.where)),
		"{{le}}").Format(prometheus.PromQueryFormatHeatmap)
}

func (promBackend) p99(h histogram) cog.Builder[variants.Dataquery] {
	return promQuery(fmt.Sprintf("histogram_quantile(0.99, sum by (le, %s) (rate(%s_seconds_bucket%s[$__rate_interval])))",
		strings.Join(h.by, ", "), h.measurement, promSelector(h.where)), legend(h.by, promLegend, "p99"))
}

// max: seconds_max is each interval's largest sample, a gauge.
func (promBackend) max(h histogram) cog.Builder[variants.Dataquery] {
	return promQuery(fmt.Sprintf("max by (%s) (max_over_time(%s_seconds_max%s[$__rate_interval]))",
		strings.Join(h.by, ", "), h.measurement, promSelector(h.where)), legend(h.by, promLegend, "max"))
}

func (promBackend) rate(c counter) cog.Builder[variants.Dataquery] {
	return promQuery(fmt.Sprintf("sum by (%s) (rate(%s_%s%s[$__rate_interval]))",
		strings.Join(c.by, ", "), c.measurement, c.field, promSelector(c.where)), legend(c.by, promLegend, ""))
}

// variable lists a label's values with Grafana's label_values(); every
// measurement has a _seconds_count or (self-metric) _up series to look in.
func (promBackend) variable(v variable) cog.Builder[dashboard.VariableModel] {
	series := "{__name__=~\"" + strings.TrimPrefix(v.measurement, "^") + ".*\""
	if !strings.HasPrefix(v.measurement, "^") {
		metric := v.measurement + "_seconds_count"
		if v.measurement == "ebpf_latency_probe" {
			metric = v.measurement + "_up"
		}
		series = "{__name__=\"" + metric + "\""
	}
	if sel := promSelector(v.where); sel != "{}" {
		series += "," + strings.TrimPrefix(sel, "{")
	} else {
		series += "}"
	}
	query := fmt.Sprintf("label_values(%s, %s)", series, v.tag)
	return queryVariable(promBackend{}, v, query)
}

// queryVariable is the part of a variable both backends share.
func queryVariable(be backend, v variable, query string) *dashboard.QueryVariableBuilder {
	b := dashboard.NewQueryVariableBuilder(v.name).
		Label(v.label).
		Datasource(datasource(be)).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if v.multi {
		b.Multi(true).IncludeAll(true).Current(dashboard.VariableOption{
			Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("All")}, Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}}})
	}
	if v.current != "" {
		b.Current(dashboard.VariableOption{
			Text: dashboard.StringOrArrayOfString{String: cog.ToPtr(v.current)}, Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(v.current)}})
	}
	return b
}
