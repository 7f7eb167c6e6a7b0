package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// backend writes the model's queries in one datasource's language.
type backend interface {
	// datasourceType is the Grafana plugin id ("prometheus", "influxdb").
	datasourceType() string
	uid() string
	title() string
	description() string
	// heatmap counts samples per bucket and time step.
	heatmap(h histogram) cog.Builder[variants.Dataquery]
	// p99 and max are one line per combination of h.by.
	p99(h histogram) cog.Builder[variants.Dataquery]
	max(h histogram) cog.Builder[variants.Dataquery]
	rate(c counter) cog.Builder[variants.Dataquery]
	variable(v variable) cog.Builder[dashboard.VariableModel]
}

// datasourceVariable names the variable the user picks the datasource with:
// importing needs no edit beyond that choice.
const datasourceVariable = "datasource"

func datasource(b backend) common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr(b.datasourceType()), Uid: cog.ToPtr("${" + datasourceVariable + "}")}
}

const (
	panelHeight = 8
	fullWidth   = 24
	maxPerRow   = 4
)

func build(b backend) (dashboard.Dashboard, error) {
	d := dashboard.NewDashboardBuilder(b.title()).
		Uid(b.uid()).
		Description(b.description()).
		Tags([]string{"ebpf", "latency", "telegraf"}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-1h", "now").
		Refresh("1m").
		WithVariable(dashboard.NewDatasourceVariableBuilder(datasourceVariable).
			Label("Datasource").Type(b.datasourceType()))
	for _, v := range variables {
		d.WithVariable(b.variable(v))
	}
	for _, s := range sections {
		d.WithRow(dashboard.NewRowBuilder(s.title))
		if s.hist != nil {
			d.WithPanel(perDC(heatmapPanel(b, s.title+" in $dc", s.about, *s.hist)))
			d.WithPanel(perDC(quantilePanel(b, s.title+" p99 and max in $dc", *s.hist)))
		}
		for _, c := range s.counters {
			d.WithPanel(perDC(ratePanel(b, c.title+" in $dc", s.about, c.counter)))
		}
	}
	d.WithRow(dashboard.NewRowBuilder("Synchronous commit chain: $primary_dc -> $standby_dc"))
	for _, l := range commitChain {
		d.WithPanel(heatmapPanel(b, l.title, "One link of the commit chain; the three share one time axis.", l.hist).Span(fullWidth / 3))
	}
	chain := timeseries.NewPanelBuilder().
		Title("Commit chain p99 and max, link by link").
		Description("The link whose p99 or max rises is the slow one.").
		Datasource(datasource(b)).Unit("s").Height(panelHeight).Span(fullWidth)
	for _, l := range commitChain {
		chain.WithTarget(b.p99(l.hist)).WithTarget(b.max(l.hist))
	}
	d.WithPanel(chain)
	built, err := d.Build()
	if err == nil {
		numberPanels(&built)
	}
	return built, err
}

// perDC repeats a panel for every selected data center, side by side.
type repeatable[T any] interface {
	cog.Builder[dashboard.Panel]
	Repeat(string) T
	RepeatDirection(dashboard.PanelRepeatDirection) T
	MaxPerRow(float64) T
}

func perDC[T repeatable[T]](p T) T {
	return p.Repeat("dc").RepeatDirection(dashboard.PanelRepeatDirectionH).MaxPerRow(maxPerRow)
}

func heatmapPanel(b backend, title, about string, h histogram) *heatmap.PanelBuilder {
	return heatmap.NewPanelBuilder().
		Title(title).
		Description(about + " Each column is one time step, each cell one latency bucket (upper bound on the axis); darker means more samples.").
		Datasource(datasource(b)).
		WithTarget(b.heatmap(h)).
		Calculate(false).
		RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe).Value("samples")).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("s")).
		Color(heatmap.NewHeatmapColorOptionsBuilder().
			Mode(heatmap.HeatmapColorModeScheme).Scheme("Oranges").
			Scale(heatmap.HeatmapColorScaleExponential).Exponent(0.5).Steps(64)).
		CellGap(1).
		FilterValues(heatmap.NewFilterValueRangeBuilder().Le(0)).
		ShowValue(common.VisibilityModeAuto).
		Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
		ShowLegend().
		Height(panelHeight).Span(fullWidth)
}

func quantilePanel(b backend, title string, h histogram) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description("p99: 99% of the samples were at most this long. max: the slowest single sample.").
		Datasource(datasource(b)).
		WithTarget(b.p99(h)).WithTarget(b.max(h)).
		Unit("s").
		Height(panelHeight).Span(fullWidth)
}

func ratePanel(b backend, title, about string, c counter) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(about).
		Datasource(datasource(b)).
		WithTarget(b.rate(c)).
		Unit("ops").
		Height(panelHeight).Span(fullWidth)
}
