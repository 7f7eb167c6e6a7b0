package ebpf_latency

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// The README's config block is sample.conf itself (telegraf's
// `toml @sample.conf` convention): one source for the config text.
func TestReadmeShowsSampleConfig(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, block, ok := strings.Cut(string(readme), "```toml @sample.conf\n")
	require.True(t, ok, "README lacks a ```toml @sample.conf block")
	block, _, _ = strings.Cut(block, "```")
	require.Equal(t, sampleConfig, block, "copy sample.conf into the README block")
}

// The embedded default must parse and validate as shipped.
func TestSampleConfigParses(t *testing.T) {
	e, err := Parse([]byte(sampleConfig))
	require.NoError(t, err)
	require.NotEmpty(t, e.Probes)
}

// Every self-metric counter the code emits is explained in the plugin
// README's metric schema and in docs/install.md's troubleshooting table.
// The names are read from the source: lists named *counterNames, constants
// named Counter*, and string keys stored into a Status's Counters.
func TestSelfMetricsDocumented(t *testing.T) {
	names := selfMetricNames(t, "../..")
	require.Contains(t, names, "slow_events_dropped", "the scan finds the counters")
	require.Contains(t, names, "cgroup_folded", "the scan finds the counters")
	for _, doc := range []string{"README.md", "../../../docs/install.md"} {
		text, err := os.ReadFile(doc)
		require.NoError(t, err)
		var missing []string
		for _, name := range names {
			if !strings.Contains(string(text), "`"+name+"`") {
				missing = append(missing, name)
			}
		}
		require.Empty(t, missing, "%s does not document these counters", doc)
	}
}

// selfMetricNames scans the non-test Go files under root for counter names.
func selfMetricNames(t *testing.T, root string) []string {
	t.Helper()
	found := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		consts := map[string]string{}
		ast.Inspect(file, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range spec.Names {
				if i >= len(spec.Values) {
					break
				}
				if s, ok := stringLit(spec.Values[i]); ok {
					consts[name.Name] = s
					if strings.HasPrefix(strings.ToLower(name.Name), "counter") {
						found[s] = true
					}
				}
				if list, ok := spec.Values[i].(*ast.CompositeLit); ok && strings.HasSuffix(strings.ToLower(name.Name), "counternames") {
					for _, elt := range list.Elts {
						if s, ok := stringLit(elt); ok {
							found[s] = true
						}
					}
				}
			}
			return true
		})
		ast.Inspect(file, func(n ast.Node) bool {
			assign, ok := n.(*ast.AssignStmt)
			if !ok {
				return true
			}
			for _, lhs := range assign.Lhs {
				index, ok := lhs.(*ast.IndexExpr)
				if !ok {
					continue
				}
				if sel, ok := index.X.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Counters" {
					continue
				}
				if s, ok := stringLit(index.Index); ok {
					found[s] = true
				} else if id, ok := index.Index.(*ast.Ident); ok && consts[id.Name] != "" {
					found[consts[id.Name]] = true
				}
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	return slices.Sorted(maps.Keys(found))
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// Every key of every probe table is in that table's part of the README's
// config reference (from "`[inputs.ebpf_latency.<table>]`" to the next
// table or heading), so a key added to a probe is documented where its
// table is.
func TestConfigReferenceListsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	for _, table := range probe.Tables() {
		def, _ := probe.ForTable(table)
		section := readmeSection(string(readme), table)
		require.NotEmpty(t, section, "README lacks a paragraph starting `[inputs.ebpf_latency.%s]`", table)
		var missing []string
		for _, key := range tomlKeys(reflect.TypeOf(def.NewConfig())) {
			// buckets is described once, with the plugin-wide key.
			if key == "buckets" && strings.Contains(string(readme), "takes its own `buckets`") {
				continue
			}
			if !strings.Contains(section, "`"+key+"`") {
				missing = append(missing, key)
			}
		}
		assert.Empty(t, missing, "keys of [%s.%s] missing from its README section", tablePrefix, table)
	}
}

// readmeSection is the README text of one probe table's reference.
func readmeSection(readme, table string) string {
	var b strings.Builder
	in := false
	for line := range strings.SplitSeq(readme, "\n") {
		head := strings.HasPrefix(line, "`["+tablePrefix) || strings.HasPrefix(line, "`[["+tablePrefix) || strings.HasPrefix(line, "#")
		if head {
			in = strings.HasPrefix(line, "`["+tablePrefix+"."+table+"]`") || strings.HasPrefix(line, "`[["+tablePrefix+"."+table+"]]`")
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// tomlKeys lists the toml keys of a config type, through pointers, slices
// (an array of tables) and embedded structs.
func tomlKeys(ty reflect.Type) []string {
	for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice {
		ty = ty.Elem()
	}
	var keys []string
	for f := range ty.Fields() {
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		switch {
		case tag == "-":
		case f.Anonymous && tag == "":
			keys = append(keys, tomlKeys(f.Type)...)
		case tag != "":
			keys = append(keys, tag)
		case f.IsExported():
			keys = append(keys, strings.ToLower(f.Name))
		}
	}
	return keys
}
