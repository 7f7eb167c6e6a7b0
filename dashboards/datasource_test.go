package main

import (
	"encoding/json"
	"testing"
)

// Importing needs no edit beyond picking the datasource: every datasource
// reference (panels, queries, variables) is the datasource variable, of the
// dashboard's one datasource type, and that variable exists.
func TestDatasourceIsTheVariable(t *testing.T) {
	for name, b := range files {
		data, err := render(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var d map[string]any
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		refs := 0
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					if ref, ok := x.(map[string]any); ok && k == "datasource" {
						refs++
						if ref["uid"] != "${"+datasourceVariable+"}" || ref["type"] != b.datasourceType() {
							t.Errorf("%s: %s.datasource = %v, want the %s variable", name, path, ref, datasourceVariable)
						}
						continue
					}
					walk(path+"."+k, x)
				}
			case []any:
				for _, x := range v {
					walk(path+"[]", x)
				}
			}
		}
		walk("", d)
		if refs == 0 {
			t.Errorf("%s: no datasource reference", name)
		}
		found := false
		for _, v := range d["templating"].(map[string]any)["list"].([]any) {
			v := v.(map[string]any)
			found = found || (v["name"] == datasourceVariable && v["type"] == "datasource" && v["query"] == b.datasourceType())
		}
		if !found {
			t.Errorf("%s: no datasource variable %q of type %s", name, datasourceVariable, b.datasourceType())
		}
	}
}
