// Command dashboards writes the Grafana dashboards of telegraf-ebpf-latency
// as JSON (make dashboards): prometheus.json for a Prometheus datasource,
// influxdb.json for InfluxDB 1.x with InfluxQL.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// files maps each committed file to the backend it is generated for.
var files = map[string]backend{
	"prometheus.json": promBackend{},
	"influxdb.json":   influxBackend{},
}

func main() {
	dir := flag.String("dir", ".", "directory to write the dashboards to")
	flag.Parse()
	for name, b := range files {
		data, err := render(b)
		if err == nil {
			err = os.WriteFile(filepath.Join(*dir, name), data, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "dashboards: %s: %v\n", name, err)
			os.Exit(1)
		}
	}
}

// render is the dashboard as indented JSON, as committed.
func render(b backend) ([]byte, error) {
	d, err := build(b)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
