package main

import "github.com/grafana/grafana-foundation-sdk/go/cog/variants"

// influxQLQuery is a Grafana InfluxDB target in raw InfluxQL mode. The
// foundation SDK has no InfluxDB package, so the few fields Grafana reads
// are spelled out here.
type influxQLQuery struct {
	RefID        string `json:"refId,omitempty"`
	Query        string `json:"query"`
	RawQuery     bool   `json:"rawQuery"`
	ResultFormat string `json:"resultFormat"`
	// Alias names each series; $tag_<tag> and $col are Grafana's.
	Alias string `json:"alias,omitempty"`
}

func (influxQLQuery) ImplementsDataqueryVariant() {}
func (influxQLQuery) DataqueryType() string       { return "influxdb" }
func (influxQLQuery) Validate() error             { return nil }

func (q influxQLQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(influxQLQuery)
	return ok && o == q
}

// Build lets a query stand where the SDK wants a query builder.
func (q influxQLQuery) Build() (variants.Dataquery, error) { return q, nil }
