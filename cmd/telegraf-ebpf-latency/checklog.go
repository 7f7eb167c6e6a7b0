package main

import (
	"fmt"

	"github.com/influxdata/telegraf"
)

// checkLog keeps what a probe logs while -check starts it: warnings
// (fallbacks) become notes, errors (parts that failed) make the probe fail.
type checkLog struct {
	warnings, errors []string
}

func (l *checkLog) Level() telegraf.LogLevel         { return telegraf.Warn }
func (l *checkLog) AddAttribute(string, interface{}) {}
func (l *checkLog) Errorf(f string, a ...interface{}) {
	l.errors = append(l.errors, fmt.Sprintf(f, a...))
}
func (l *checkLog) Error(a ...interface{}) { l.errors = append(l.errors, fmt.Sprint(a...)) }
func (l *checkLog) Warnf(f string, a ...interface{}) {
	l.warnings = append(l.warnings, fmt.Sprintf(f, a...))
}
func (l *checkLog) Warn(a ...interface{})         { l.warnings = append(l.warnings, fmt.Sprint(a...)) }
func (l *checkLog) Infof(string, ...interface{})  {}
func (l *checkLog) Info(...interface{})           {}
func (l *checkLog) Debugf(string, ...interface{}) {}
func (l *checkLog) Debug(...interface{})          {}
func (l *checkLog) Tracef(string, ...interface{}) {}
func (l *checkLog) Trace(...interface{})          {}
