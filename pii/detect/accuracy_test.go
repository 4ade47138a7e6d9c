package detect_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dataward/dataward/pii/detect"
	"github.com/dataward/dataward/pii/detect/internal/corpus"
)

// accuracySeed fixes the labelled corpus; any seed should pass.
const accuracySeed = 20261123

// accuracyFloors are the precision and recall each built-in type must
// reach on the labelled corpus: 0.98 for the types with a checksum, 0.95
// for e-mail and phone (the targets), and 0.98 for the others.
var accuracyFloors = map[detect.Type]float64{
	detect.Card: 0.98, detect.IBAN: 0.98, detect.ZAID: 0.98,
	detect.Email: 0.95, detect.Phone: 0.95,
	detect.IPv4: 0.98, detect.IPv6: 0.98, detect.USSSN: 0.98, detect.UKNINO: 0.98,
	detect.APIKey: 0.98, detect.JWT: 0.98, detect.PrivateKey: 0.98, detect.URLCredentials: 0.98,
}

type span struct {
	typ        detect.Type
	start, end int
}

// TestAccuracy scans a generated corpus of log lines with at least 10,000
// labelled values over every built-in type, and hard negatives, and checks
// each type's precision and recall (a finding counts only if its type and
// span match a label exactly), with every finding reported (MinConfidence
// Low).
func TestAccuracy(t *testing.T) {
	c := corpus.Labelled(accuracySeed, 13000)
	if len(c.Spans) < 10000 {
		t.Fatalf("corpus has %d labelled values, want at least 10,000", len(c.Spans))
	}
	labels := map[span]bool{}
	for _, sp := range c.Spans {
		labels[span{detect.Type(sp.Type), sp.Start, sp.End}] = true
	}
	tp, fp, fn := map[detect.Type]int{}, map[detect.Type]int{}, map[detect.Type]int{}
	found := map[span]bool{}
	var misses []string
	for _, f := range detect.Default().Scan(c.Text) {
		k := span{f.Type, f.Start, f.End}
		found[k] = true
		if labels[k] {
			tp[f.Type]++
		} else {
			fp[f.Type]++
			misses = append(misses, fmt.Sprintf("false positive %v %q", f, c.Text[f.Start:f.End]))
		}
	}
	for k := range labels {
		if !found[k] {
			fn[k.typ]++
			misses = append(misses, fmt.Sprintf("missed %s %q", k.typ, c.Text[k.start:k.end]))
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-16s %7s %6s %6s %9s %7s\n", "type", "labels", "fp", "fn", "precision", "recall")
	for _, typ := range []detect.Type{detect.Email, detect.Phone, detect.Card, detect.IBAN, detect.ZAID,
		detect.IPv4, detect.IPv6, detect.USSSN, detect.UKNINO, detect.APIKey, detect.JWT, detect.PrivateKey, detect.URLCredentials} {
		precision := float64(tp[typ]) / float64(max(1, tp[typ]+fp[typ]))
		recall := float64(tp[typ]) / float64(max(1, tp[typ]+fn[typ]))
		fmt.Fprintf(&table, "%-16s %7d %6d %6d %9.4f %7.4f\n", typ, tp[typ]+fn[typ], fp[typ], fn[typ], precision, recall)
		if tp[typ]+fn[typ] < 500 {
			t.Errorf("%s: only %d labelled values", typ, tp[typ]+fn[typ])
		}
		if floor := accuracyFloors[typ]; precision < floor || recall < floor {
			t.Errorf("%s: precision %.4f, recall %.4f, want both at least %.2f", typ, precision, recall, floor)
		}
	}
	t.Log(table.String())
	t.Logf("recall with MinConfidence Medium (not asserted): %s", recallAt(t, c, labels, detect.Medium))
	t.Logf("hard negatives: %v", c.Negatives)
	if t.Failed() || testing.Verbose() {
		for i, m := range misses {
			if i == 40 {
				t.Logf("... and %d more", len(misses)-i)
				break
			}
			t.Log(m)
		}
	}
}

// recallAt returns each type's recall when findings below min are dropped.
func recallAt(t *testing.T, c corpus.Corpus, labels map[span]bool, min detect.Confidence) string {
	s, err := detect.New(&detect.Options{MinConfidence: min})
	if err != nil {
		t.Fatal(err)
	}
	tp, all := map[detect.Type]int{}, map[detect.Type]int{}
	for k := range labels {
		all[k.typ]++
	}
	for _, f := range s.Scan(c.Text) {
		if labels[span{f.Type, f.Start, f.End}] {
			tp[f.Type]++
		}
	}
	var b strings.Builder
	for _, typ := range corpus.Types {
		typ := detect.Type(typ)
		fmt.Fprintf(&b, "%s %.3f ", typ, float64(tp[typ])/float64(max(1, all[typ])))
	}
	return b.String()
}
