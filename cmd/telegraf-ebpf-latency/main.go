// Command telegraf-ebpf-latency runs the ebpf_latency input under telegraf's
// execd shim: it prints metrics in influx line protocol on stdout, gathering
// once per line on stdin (signal = "STDIN") or every -poll_interval.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/influxdata/telegraf/models"
	"github.com/influxdata/telegraf/plugins/common/shim"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/lineproto"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// One line for a bad flag too, like every other startup error.
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	flag.CommandLine.SetOutput(io.Discard)
	configFile := flag.String("config", "", "plugin config file (default: the embedded sample config)")
	pollInterval := flag.Duration("poll_interval", time.Second, "how often to gather")
	pollDisabled := flag.Bool("poll_interval_disabled", false, "gather only when a line arrives on stdin (execd signal = \"STDIN\")")
	showVersion := flag.Bool("version", false, "print the version and exit")
	preflight := flag.Bool("check", false, "load every configured probe once, print what runs and what not, and exit (0: all run)")
	showConsole := flag.Bool("console", false, "print each interval's histograms and heatmaps for a terminal instead of line protocol")
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			flag.CommandLine.SetOutput(os.Stdout)
			flag.PrintDefaults()
			return
		}
		fmt.Fprintf(os.Stderr, "telegraf-ebpf-latency: %v (see -help)\n", err)
		os.Exit(2)
	}

	if *showVersion {
		fmt.Println("telegraf-ebpf-latency", version)
		return
	}
	if *preflight {
		os.Exit(check(*configFile, os.Stdout))
	}
	if err := checkPollInterval(*pollInterval); err != nil {
		fmt.Fprintf(os.Stderr, "telegraf-ebpf-latency: %v\n", err)
		os.Exit(2)
	}
	if *showConsole {
		if err := runConsole(*configFile, *pollInterval, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "telegraf-ebpf-latency: %s\n", errorLine(err))
			os.Exit(1)
		}
		return
	}
	if err := run(*configFile, *pollInterval, *pollDisabled); err != nil {
		fmt.Fprintf(os.Stderr, "telegraf-ebpf-latency: %s\n", errorLine(err))
		os.Exit(1)
	}
}

// loadPlugin reads and checks the config file, or the embedded sample.
func loadPlugin(configFile string) (*ebpf_latency.EbpfLatency, error) {
	config := []byte((&ebpf_latency.EbpfLatency{}).SampleConfig())
	if configFile != "" {
		var err error
		if config, err = readConfig(configFile); err != nil {
			return nil, err
		}
	}
	plugin, err := ebpf_latency.Parse(config)
	if err != nil && configFile != "" {
		return nil, fmt.Errorf("%s: %w", configFile, err)
	}
	return plugin, err
}

func run(configFile string, pollInterval time.Duration, pollDisabled bool) error {
	plugin, err := loadPlugin(configFile)
	if err != nil {
		return err
	}
	if pollDisabled {
		pollInterval = shim.PollIntervalDisabled
	}
	if err := foldStdin(); err != nil {
		return err
	}
	s := shim.New()
	models.SetLoggerOnPlugin(plugin, s.Log())
	input := &stoppable{plugin: plugin, lines: lineproto.Buffer{Out: lineproto.NewStream(os.Stdout)}}
	if err := s.AddInput(input); err != nil {
		return err
	}
	exitWhenStalled(input)
	return s.Run(pollInterval)
}
