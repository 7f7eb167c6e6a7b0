//go:build linux

package ebpf_latency_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Clients for the two backends, returning every series a query yields, as
// Grafana receives them.

// series is one result series: its labels (tags) and its values in time order.
type resultSeries struct {
	labels map[string]string
	values []float64 // NaN for a null
}

// nonZero is the series' count of finite, non-zero values.
func (s resultSeries) nonZero() int {
	n := 0
	for _, v := range s.values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && v != 0 {
			n++
		}
	}
	return n
}

func getJSON(u string, into any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("%v: %s", err, body)
	}
	return nil
}

// promRange runs a PromQL range query, as Grafana's time series panels do.
func promRange(api, q string, start, end time.Time, step time.Duration) ([]resultSeries, error) {
	v := url.Values{"query": {q}, "start": {promTime(start)}, "end": {promTime(end)}, "step": {step.String()}}
	return promMatrix(api+"/api/v1/query_range?"+v.Encode(), "matrix")
}

// promInstant evaluates q at instant at.
func promInstant(api, q string, at time.Time) ([]resultSeries, error) {
	v := url.Values{"query": {q}, "time": {promTime(at)}}
	return promMatrix(api+"/api/v1/query?"+v.Encode(), "vector")
}

func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func promMatrix(u, want string) ([]resultSeries, error) {
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(u, &r); err != nil {
		return nil, err
	}
	if r.Status != "success" || r.Data.ResultType != want {
		return nil, fmt.Errorf("status %s, result %s: %s", r.Status, r.Data.ResultType, r.Error)
	}
	out := make([]resultSeries, 0, len(r.Data.Result))
	for _, res := range r.Data.Result {
		s := resultSeries{labels: res.Metric}
		points := res.Values
		if want == "vector" {
			points = [][2]any{res.Value}
		}
		for _, p := range points {
			text, _ := p[1].(string)
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return nil, fmt.Errorf("value %v: %v", p[1], err)
			}
			s.values = append(s.values, f)
		}
		out = append(out, s)
	}
	return out, nil
}

// promSamples returns the raw samples (timestamp, value) of one series
// selector over the last window, from a range-vector instant query.
func promSamples(api, selector string, window time.Duration, at time.Time) ([]time.Time, []float64, error) {
	v := url.Values{"query": {fmt.Sprintf("%s[%ds]", selector, int(window.Seconds()))}, "time": {promTime(at)}}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(api+"/api/v1/query?"+v.Encode(), &r); err != nil {
		return nil, nil, err
	}
	if len(r.Data.Result) != 1 {
		return nil, nil, fmt.Errorf("%s: want one series, got %d", selector, len(r.Data.Result))
	}
	var ts []time.Time
	var vals []float64
	for _, p := range r.Data.Result[0].Values {
		sec, _ := p[0].(float64)
		text, _ := p[1].(string)
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, nil, err
		}
		ts = append(ts, time.UnixMilli(int64(math.Round(sec*1000))))
		vals = append(vals, f)
	}
	return ts, vals, nil
}

// labelValuesCall is Grafana's label_values(selector, label) variable query.
var labelValuesCall = regexp.MustCompile(`^label_values\((.+), (\w+)\)$`)

// promLabelValues answers a label_values() variable query the way Grafana's
// Prometheus datasource does: the series API over the time range.
func promLabelValues(api, query string, start, end time.Time) ([]string, error) {
	m := labelValuesCall.FindStringSubmatch(query)
	if m == nil {
		return nil, fmt.Errorf("not a label_values() query: %s", query)
	}
	v := url.Values{"match[]": {m[1]}, "start": {promTime(start)}, "end": {promTime(end)}}
	var r struct {
		Status string              `json:"status"`
		Data   []map[string]string `json:"data"`
	}
	if err := getJSON(api+"/api/v1/series?"+v.Encode(), &r); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range r.Data {
		if val, ok := s[m[2]]; ok && !seen[val] {
			seen[val] = true
			out = append(out, val)
		}
	}
	return out, nil
}

// promRegexValue escapes a value for a =~"..." matcher (regex, then PromQL
// string escaping), as Grafana does for multi-value variables.
func promRegexValue(v string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
}

// influxRegexValue escapes a value for an InfluxQL /.../ regex.
func influxRegexValue(v string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(v), "/", `\/`)
}

// influxSeries runs an InfluxQL query and returns its series; the first
// column is time, each value column becomes a series of its own.
func influxSeries(api, q string) ([]resultSeries, error) {
	var r struct {
		Results []struct {
			Series []struct {
				Name    string            `json:"name"`
				Tags    map[string]string `json:"tags"`
				Columns []string          `json:"columns"`
				Values  [][]any           `json:"values"`
			} `json:"series"`
			Error string `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := getJSON(api+"/query?db=telegraf&epoch=ms&q="+url.QueryEscape(q), &r); err != nil {
		return nil, err
	}
	if r.Error != "" {
		return nil, fmt.Errorf("%s", r.Error)
	}
	var out []resultSeries
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("%s", res.Error)
		}
		for _, s := range res.Series {
			for col := 1; col < len(s.Columns); col++ {
				rs := resultSeries{labels: map[string]string{"_column": s.Columns[col]}}
				for k, v := range s.Tags {
					rs.labels[k] = v
				}
				for _, row := range s.Values {
					f, ok := row[col].(float64)
					if !ok {
						f = math.NaN()
					}
					rs.values = append(rs.values, f)
				}
				out = append(out, rs)
			}
		}
	}
	return out, nil
}

// influxTagValues answers a SHOW TAG VALUES variable query.
func influxTagValues(api, q string) ([]string, error) {
	var r struct {
		Results []struct {
			Series []struct {
				Values [][]string `json:"values"`
			} `json:"series"`
			Error string `json:"error"`
		} `json:"results"`
	}
	if err := getJSON(api+"/query?db=telegraf&q="+url.QueryEscape(q), &r); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("%s", res.Error)
		}
		for _, s := range res.Series {
			for _, kv := range s.Values {
				if len(kv) == 2 && !seen[kv[1]] {
					seen[kv[1]] = true
					out = append(out, kv[1])
				}
			}
		}
	}
	return out, nil
}
