// Command benchratio reports the ratios of benchmarks to their baselines,
// round by round, from `go test -bench` output that holds several rounds
// (run the test binary in a loop with -test.count 1, so that each round
// measures a benchmark and its baseline seconds apart). On a shared, noisy
// machine the median of per-round ratios is steadier than the ratio of
// medians.
//
//	go test -c -o /tmp/pii.test ./pii
//	(cd pii && for i in $(seq 8); do /tmp/pii.test -test.run '^$' -test.bench . -test.count 1; done) > pii.txt
//	go run ./internal/cmd/benchratio -f pii.txt Seal64:TinkAEADEncrypt64 SealStruct10:10xTinkAEADEncrypt64
//
// Each argument is BENCH:BASELINE or BENCH:NxBASELINE, comparing BENCH with
// N runs of BASELINE.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

func main() {
	file := flag.String("f", "", "file of benchmark output (default: standard input)")
	flag.Parse()
	in := os.Stdin
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		in = f
	}
	rounds := make(map[string][]float64)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if m := line.FindStringSubmatch(sc.Text()); m != nil {
			ns, _ := strconv.ParseFloat(m[2], 64)
			rounds[m[1]] = append(rounds[m[1]], ns)
		}
	}
	if err := sc.Err(); err != nil {
		fatal(err)
	}
	for _, arg := range flag.Args() {
		bench, base, ok := strings.Cut(arg, ":")
		if !ok {
			fatal(fmt.Errorf("%q: want BENCH:BASELINE or BENCH:NxBASELINE", arg))
		}
		n := 1.0
		if times, b, ok := strings.Cut(base, "x"); ok {
			if v, err := strconv.ParseFloat(times, 64); err == nil {
				n, base = v, b
			}
		}
		a, b := rounds[bench], rounds[base]
		if len(a) == 0 || len(b) == 0 || len(a) != len(b) {
			fatal(fmt.Errorf("%s: %d rounds of %s and %d of %s: want the same number, at least one", arg, len(a), bench, len(b), base))
		}
		ratios := make([]float64, len(a))
		for i := range a {
			ratios[i] = a[i] / (n * b[i])
		}
		per := make([]string, len(ratios))
		for i, r := range ratios {
			per[i] = strconv.FormatFloat(r, 'f', 2, 64)
		}
		fmt.Printf("%-40s median %.3f  rounds %s\n", arg, median(ratios), strings.Join(per, " "))
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchratio:", err)
	os.Exit(1)
}
