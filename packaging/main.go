// Command packaging builds the .deb and .rpm of telegraf-ebpf-latency with
// nfpm used as a library (`make packages`). It lives in its own Go module so
// that nfpm's dependencies stay out of the plugin binary's.
//
//	go run . -binary ../bin/telegraf-ebpf-latency -repo .. -out ../dist
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

// Where the package puts things (docs/install.md).
const (
	name        = "telegraf-ebpf-latency"
	binaryPath  = "/usr/bin/" + name
	configPath  = "/etc/telegraf/" + name + ".conf"
	snippetPath = "/etc/telegraf/telegraf.d/" + name + ".conf"
)

// setcapProvider is the package that installs setcap, per format.
var setcapProvider = map[string]string{"deb": "libcap2-bin", "rpm": "libcap"}

func main() {
	binary := flag.String("binary", "", "the built plugin binary (make build)")
	version := flag.String("version", "", "package version (default: from git, see gitVersion)")
	out := flag.String("out", "dist", "directory for the packages")
	repo := flag.String("repo", "..", "repository root (sample config, scripts, LICENSE)")
	flag.Parse()
	if *binary == "" {
		fmt.Fprintln(os.Stderr, "packaging: -binary is required")
		os.Exit(2)
	}
	if *version == "" {
		v, err := gitVersion(*repo)
		if err != nil {
			fmt.Fprintf(os.Stderr, "packaging: version from git: %v\n", err)
			os.Exit(1)
		}
		*version = v
	}
	for _, format := range []string{"deb", "rpm"} {
		path, err := build(format, *binary, *version, *repo, *out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "packaging: %s: %v\n", format, err)
			os.Exit(1)
		}
		fmt.Println(path)
	}
}

// build writes one package and returns its path.
func build(format, binary, version, repo, out string) (string, error) {
	info := nfpm.WithDefaults(packageInfo(format, binary, version, repo))
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		return "", err
	}
	packager, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(out, packager.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := packager.Package(info, f); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

func packageInfo(format, binary, version, repo string) *nfpm.Info {
	script := func(name string) string { return filepath.Join(repo, "packaging", "scripts", name) }
	return &nfpm.Info{
		Name:          name,
		Arch:          runtime.GOARCH,
		Platform:      "linux",
		Version:       version,
		VersionSchema: "none",
		Release:       "1",
		Section:       "net",
		Priority:      "optional",
		Maintainer:    "telegraf-ebpf-latency maintainers <telegraf-ebpf-latency@users.noreply.github.com>",
		Vendor:        "telegraf-ebpf-latency",
		Homepage:      "https://github.com/ebpf-latency/telegraf-ebpf-latency",
		License:       "Apache-2.0",
		Description: "Latency histograms from eBPF probes as Telegraf metrics\n" +
			"An external Telegraf input (inputs.execd) that measures disk I/O, TCP,\n" +
			"syscall, user-space function and run-queue latency in the kernel and\n" +
			"emits Prometheus-style histograms. Runs as the telegraf user with file\n" +
			"capabilities instead of root.",
		Overridables: nfpm.Overridables{
			Depends:    []string{setcapProvider[format]},
			Recommends: []string{"telegraf"},
			Contents: files.Contents{
				{Source: binary, Destination: binaryPath, FileInfo: &files.ContentFileInfo{Mode: 0o750}},
				{Source: filepath.Join(repo, "plugins/inputs/ebpf_latency/sample.conf"), Destination: configPath,
					Type: files.TypeConfigNoReplace, FileInfo: &files.ContentFileInfo{Mode: 0o644}},
				{Source: filepath.Join(repo, "packaging/telegraf.d.conf"), Destination: snippetPath,
					Type: files.TypeConfigNoReplace, FileInfo: &files.ContentFileInfo{Mode: 0o644}},
				{Source: filepath.Join(repo, "LICENSE"), Destination: "/usr/share/doc/" + name + "/LICENSE",
					FileInfo: &files.ContentFileInfo{Mode: 0o644}},
			},
			Scripts: nfpm.Scripts{
				PostInstall: script("postinstall.sh"),
				PreRemove:   script("preremove.sh"),
				PostRemove:  script("postremove.sh"),
			},
		},
	}
}
