package redact_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/dataward/dataward/pii/detect"
	"github.com/dataward/dataward/pii/redact"
)

func ExampleRedactor_String() {
	r, err := redact.New(&redact.Options{
		Strategies: map[detect.Type]redact.Strategy{
			detect.Card:  redact.Mask,
			detect.Phone: redact.Mask,
			detect.IPv4:  redact.Remove,
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.String("jane.doe@example.com paid with 4111 1111 1111 1111 from 192.168.10.24; call +27 82 555 0199"))
	// Output:
	// [EMAIL] paid with **** **** **** 1111 from ; call +** ** *** **99
}

func ExampleStrategy() {
	for _, s := range []redact.Strategy{redact.Tag, redact.Mask, redact.Pseudonym, redact.Remove} {
		r, err := redact.New(&redact.Options{
			Default: s,
			// In production: 32 random bytes from a secret store, never a
			// constant.
			PseudonymKey: []byte("example key, not for production!"),
		})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-9s %q\n", s, r.String("reply to Jane.Doe@example.com"))
	}
	// Output:
	// tag       "reply to [EMAIL]"
	// mask      "reply to [EMAIL:example.com]"
	// pseudonym "reply to [EMAIL:cmgqnwkmfjcg]"
	// remove    "reply to "
}

func ExampleRedactor_Copy() {
	r, err := redact.New(nil)
	if err != nil {
		panic(err)
	}
	support := strings.NewReader(`ticket 8812 opened by jane.doe@example.com
callback requested on +27 82 555 0199
card 4111 1111 1111 1111 declined
`)
	var shared bytes.Buffer
	rep, err := r.Copy(&shared, support)
	if err != nil {
		panic(err)
	}
	fmt.Print(shared.String())
	fmt.Println("removed:", rep)
	// Output:
	// ticket 8812 opened by [EMAIL]
	// callback requested on [PHONE]
	// card [CARD] declined
	// removed: card=1 email=1 phone=1
}

func ExampleRedactor_Handler() {
	r, err := redact.New(nil)
	if err != nil {
		panic(err)
	}
	json := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		// Drop the time, so that the output is always the same.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	logger := slog.New(r.Handler(json))

	logger.Info("password reset requested by jane.doe@example.com",
		"password", "hunter2",
		"client", "192.168.10.24",
		"err", errors.New("no account with phone +27 82 555 0199"),
		slog.Group("req", "method", "POST", "apiKey", "k-123"))
	// Output:
	// {"level":"INFO","msg":"password reset requested by [EMAIL]","password":"[REDACTED]","client":"[IPV4]","err":"no account with phone [PHONE]","req":{"method":"POST","apiKey":"[REDACTED]"}}
}

func ExampleRedactor_Struct() {
	type Ticket struct {
		ID       string
		Customer string `pii:"email,category=user.contact.email"`
		Body     string
		Token    string
	}
	r, err := redact.New(&redact.Options{Strategies: map[detect.Type]redact.Strategy{detect.Email: redact.Mask}})
	if err != nil {
		panic(err)
	}
	t := Ticket{
		ID:       "T-8812",
		Customer: "jane.doe@example.com",
		Body:     "please call me on +27 82 555 0199",
		Token:    "c2VjcmV0",
	}
	if err := r.Struct(&t); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", t)
	// Output:
	// {ID:T-8812 Customer:[EMAIL:example.com] Body:please call me on [PHONE] Token:[REDACTED]}
}
