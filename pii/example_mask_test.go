package pii_test

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/dataward/dataward/pii"
)

func ExampleMaskEmail() {
	fmt.Println(pii.MaskEmail("alice.smith@example.com"))
	fmt.Println(pii.MaskEmail("alice@example.com"))
	fmt.Println(pii.MaskEmail("al@example.com"))
	fmt.Println(pii.MaskEmail("not an address"))
	// Output:
	// a***h@example.com
	// a***@example.com
	// ***@example.com
	// n***
}

func ExampleMaskCard() {
	fmt.Println(pii.MaskCard("4111 1111 1111 1111"))
	fmt.Println(pii.MaskCard("3782-822463-10005"))
	fmt.Println(pii.MaskCard("12345")) // too short to be a card: nothing kept
	fmt.Println(pii.MaskCard("4111 1111 1111 1111 exp 12/27"))
	// Output:
	// **** **** **** 1111
	// ****-******-*0005
	// *****
	// ****
}

func ExampleSecret() {
	key := pii.Secret("sk_live_51HxYzAbCdEfGhIjKl")

	// Every way of printing shows the masked key...
	fmt.Println(key)
	fmt.Printf("%v %q %#v\n", key, key, key)

	// ...Reveal returns the clear key, to pass it to where it is used.
	fmt.Println(key.Reveal())

	// Equal checks a presented key in constant time.
	fmt.Println(key.Equal("sk_live_51HxYzAbCdEfGhIjKl"))
	// Output:
	// sk_live_****
	// sk_live_**** "sk_live_****" pii.Secret("sk_live_****")
	// sk_live_51HxYzAbCdEfGhIjKl
	// true
}

func ExampleEmail_LogValue() {
	// Remove the time so that the output is stable.
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	text := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	jsonLog := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))

	type signup struct {
		Name  pii.Text
		Email pii.Email
	}
	email := pii.Email("alice.smith@example.com")

	text.Info("signed up", "email", email)
	jsonLog.Info("signed up", "email", email)
	jsonLog.Info("signed up", "signup", signup{Name: "Alice Smith", Email: email})
	// Output:
	// level=INFO msg="signed up" email=a***h@example.com
	// {"level":"INFO","msg":"signed up","email":"a***h@example.com"}
	// {"level":"INFO","msg":"signed up","signup":{"Name":"A***","Email":"a***h@example.com"}}
}
