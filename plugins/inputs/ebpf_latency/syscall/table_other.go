//go:build !amd64 && !arm64

package syscall

// syscallNumbers is empty where no table was generated: every name is
// refused by Validate.
var syscallNumbers = map[string]uint32{}
