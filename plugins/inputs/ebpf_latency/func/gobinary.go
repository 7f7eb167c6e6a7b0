package funcprobe

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
)

// isGoBinary tells a Go executable or c-shared library by its build info,
// or, should that be unreadable, by the sections only the Go linker writes.
func isGoBinary(path string) (bool, error) {
	if _, err := buildinfo.ReadFile(path); err == nil {
		return true, nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return false, fmt.Errorf("not an ELF executable or shared library: %v", err)
	}
	defer f.Close()
	for _, name := range []string{".go.buildinfo", ".gopclntab", ".note.go.buildid"} {
		if f.Section(name) != nil {
			return true, nil
		}
	}
	return false, nil
}
