// Command redact shows package redact at a small company's support desk.
//
// First it redacts a support log before it is shared with an outside
// vendor: e-mail addresses become pseudonyms (under a key made for this
// one file, so the vendor can follow a customer through the file but
// cannot match them across files), card, phone and bank account numbers
// are masked, IP addresses keep their network, ID numbers and API keys are
// tagged. It prints how many
// findings of each type it removed.
//
// Then it sets up the application's logger on the redacting slog handler
// and logs a few lines full of personal data, which come out clean.
//
// Run it with
//
//	go run ./examples/redact                                   # the embedded sample log
//	go run ./examples/redact -in support.log -out shared.log   # a log of your own
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/dataward/dataward/pii/detect"
	"github.com/dataward/dataward/pii/redact"
)

// sampleLog is a morning of the support desk's log.
//
//go:embed support.log
var sampleLog string

// The flags: where the log to share comes from and goes to ("" means the
// embedded sample and standard output).
var (
	inPath  = flag.String("in", "", "the log to redact (default: the embedded sample)")
	outPath = flag.String("out", "", "where to write the redacted log (default: standard output)")
)

func main() {
	flag.Parse()
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	if err := shareLog(*inPath, *outPath); err != nil {
		return err
	}
	fmt.Println()
	return appLogging(ctx)
}

// shareLog redacts the log at in (or the sample) to out (or standard
// output) and prints what it removed.
func shareLog(in, out string) error {
	// A key for this file alone. A host that wants the same pseudonyms in
	// every shared file keeps one key in its secret store instead.
	key := make([]byte, redact.MinPseudonymKey)
	rand.Read(key)
	// The types not named here are tagged: "[API_KEY]".
	r, err := redact.New(&redact.Options{
		Strategies: map[detect.Type]redact.Strategy{
			detect.Email: redact.Pseudonym,
			detect.Card:  redact.Mask,
			detect.Phone: redact.Mask,
			detect.IPv4:  redact.Mask,
			detect.IBAN:  redact.Mask,
		},
		PseudonymKey: key,
	})
	if err != nil {
		return err
	}

	var src io.Reader
	if in == "" {
		src = strings.NewReader(sampleLog)
	} else {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	var dst io.Writer = os.Stdout
	var file *os.File
	if out != "" {
		if file, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return err
		}
		dst = file
	} else {
		fmt.Println("== the support log, redacted for the vendor ==")
	}

	rep, err := r.Copy(dst, src)
	if file != nil {
		err = errors.Join(err, file.Close())
	}
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Printf("wrote %s\n", out)
	}
	fmt.Printf("removed %d findings: %s\n", rep.Total(), rep)
	return nil
}

// appLogging sets up an application logger that never writes personal
// data, and logs a few lines through it.
func appLogging(ctx context.Context) error {
	// The application's key would come from its secret store, so that a
	// customer's pseudonym is the same in every line, every day; here it
	// is random, and the pseudonyms change from run to run.
	key := make([]byte, redact.MinPseudonymKey)
	rand.Read(key)
	r, err := redact.New(&redact.Options{
		Strategies:   map[detect.Type]redact.Strategy{detect.Email: redact.Pseudonym},
		PseudonymKey: key,
		Keys:         []string{"national_id"}, // hidden whatever they hold, like "password"
	})
	if err != nil {
		return err
	}
	json := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropTime})
	logger := slog.New(r.Handler(json))

	fmt.Println("== the application's log ==")
	logger.InfoContext(ctx, "user signed up", "email", "thandi.nkosi@example.co.za", "plan", "pro")
	logger.With("request_id", "req-91c2").WarnContext(ctx, "payment declined",
		"card", "5555 5555 5555 4444", "client_ip", "196.25.1.10")
	logger.ErrorContext(ctx, "login failed for thandi.nkosi@example.co.za",
		"password", "Winter2026!",
		"err", fmt.Errorf("no account with phone %s", "+27 72 555 0123"))
	logger.InfoContext(ctx, "profile updated", "national_id", "8001015009087",
		slog.Group("changes", "phone", "+27 82 555 0199", "city", "Durban"))
	return nil
}

// dropTime leaves the time out of the application's log, to keep the
// example's output short.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
