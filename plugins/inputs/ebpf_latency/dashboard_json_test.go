//go:build linux

package ebpf_latency_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The committed Grafana dashboards (dashboards/*.json) as the end-to-end
// test reads them: every panel's queries and every variable, with Grafana's
// variable substitution done the way Grafana does it.

const dashboardsDir = "../../../dashboards"

type grafanaDashboard struct {
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
}

type grafanaPanel struct {
	ID      int             `json:"id"`
	Type    string          `json:"type"`
	Title   string          `json:"title"`
	Repeat  string          `json:"repeat"`
	Targets []grafanaTarget `json:"targets"`
	Panels  []grafanaPanel  `json:"panels"` // a collapsed row's
}

type grafanaTarget struct {
	RefID  string `json:"refId"`
	Expr   string `json:"expr"`  // Prometheus
	Query  string `json:"query"` // InfluxQL
	Format string `json:"format"`
}

type grafanaVariable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Query      any    `json:"query"`
	Multi      bool   `json:"multi"`
	IncludeAll bool   `json:"includeAll"`
}

func readDashboard(t *testing.T, file string) grafanaDashboard {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dashboardsDir, file))
	require.NoError(t, err, "make dashboards writes it")
	var d grafanaDashboard
	require.NoError(t, json.Unmarshal(data, &d), file)
	require.NotEmpty(t, d.Panels, file)
	return d
}

// queryPanels lists the panels with queries, rows' nested ones included.
func (d grafanaDashboard) queryPanels() []grafanaPanel {
	var out []grafanaPanel
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			if len(p.Targets) > 0 {
				out = append(out, p)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// queryVariables are the variables whose values come from the datasource,
// in dashboard order (a variable only uses those before it).
func (d grafanaDashboard) queryVariables(t *testing.T) []grafanaVariable {
	t.Helper()
	var out []grafanaVariable
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		_, ok := v.Query.(string)
		require.True(t, ok, "variable %s: query is not a string: %v", v.Name, v.Query)
		out = append(out, v)
	}
	return out
}

// varRef matches a Grafana variable reference, $name or ${name}.
var varRef = regexp.MustCompile(`\$\{?(\w+)\}?`)

// substitute replaces every variable as Grafana would: a value as is, a
// multi-value selection as the regex (a|b), each value regex-escaped by
// escape. Every reference must be known.
func substitute(t *testing.T, text string, values map[string][]string, multi map[string]bool, escape func(string) string) string {
	t.Helper()
	return varRef.ReplaceAllStringFunc(text, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		vals, ok := values[name]
		require.True(t, ok, "no value for variable %s in %q", name, text)
		if !multi[name] {
			require.Len(t, vals, 1, "variable %s", name)
			return vals[0]
		}
		escaped := make([]string, len(vals))
		for i, v := range vals {
			escaped[i] = escape(v)
		}
		slices.Sort(escaped)
		return "(" + strings.Join(escaped, "|") + ")"
	})
}

// usesVariable tells whether text refers to variable name.
func usesVariable(text, name string) bool {
	for _, m := range varRef.FindAllStringSubmatch(text, -1) {
		if m[1] == name {
			return true
		}
	}
	return false
}
