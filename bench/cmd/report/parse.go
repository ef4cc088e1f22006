package main

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// results holds benchmark metrics by benchmark name (without the -N
// suffix) and unit, one value per run (-count).
type results map[string]map[string][]float64

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads `go test -bench` output into res, and returns the lines that
// are neither results nor the usual header, so that failures show.
func parse(r io.Reader, res results) (other []string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		m := line.FindStringSubmatch(l)
		if m == nil {
			if !strings.HasPrefix(l, "goos:") && !strings.HasPrefix(l, "goarch:") && !strings.HasPrefix(l, "pkg:") &&
				!strings.HasPrefix(l, "cpu:") && l != "PASS" && !strings.HasPrefix(l, "ok ") {
				other = append(other, l)
			}
			continue
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if res[m[1]] == nil {
				res[m[1]] = make(map[string][]float64)
			}
			res[m[1]][f[i+1]] = append(res[m[1]][f[i+1]], v)
		}
	}
	return other
}

// median returns the median of name's unit, and whether there is one.
func (r results) median(name, unit string) (float64, bool) {
	vs := slices.Clone(r[name][unit])
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, true
}
