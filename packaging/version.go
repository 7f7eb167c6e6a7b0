package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// gitVersion is the package version of the checkout at repo, ordered the way
// dpkg and rpm compare versions: the last vX.Y.Z tag and the commits since,
// "1.2.0+3.g1a2b3c4", or without a tag "0.0.<commits>+g<hash>"; ".dirty"
// marks uncommitted changes.
func gitVersion(repo string) (string, error) {
	git := func(args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	dirty := ""
	if status, err := git("status", "--porcelain", "--untracked-files=no"); err == nil && status != "" {
		dirty = ".dirty"
	}
	if desc, err := git("describe", "--tags", "--match", "v[0-9]*", "--long"); err == nil {
		if m := tagDescription.FindStringSubmatch(desc); m != nil {
			return fmt.Sprintf("%s+%s.%s%s", m[1], m[2], m[3], dirty), nil
		}
	}
	count, err := git("rev-list", "--count", "HEAD")
	if err != nil {
		return "", err
	}
	hash, err := git("rev-parse", "--short", "HEAD")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("0.0.%s+g%s%s", count, hash, dirty), nil
}

// tagDescription is `git describe --long`: v1.2.0-3-g1a2b3c4.
var tagDescription = regexp.MustCompile(`^v(\d+\.\d+\.\d+)-(\d+)-(g[0-9a-f]+)$`)
