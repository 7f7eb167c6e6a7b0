// Package kernel checks what the running kernel and process must offer before
// probes load (BTF, capabilities, tracefs) and turns the kernel's terse
// refusals into sentences an operator can act on.
package kernel
