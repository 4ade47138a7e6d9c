package breach_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/breach"
)

// tempFailSMTP is a plaintext SMTP server that answers RCPT with a
// temporary failure echoing the address, as Postfix does
// ("450 4.2.0 <a@b>: Recipient address rejected: Greylisted").
func tempFailSMTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				w := func(s string) { c.Write([]byte(s + "\r\n")) }
				w("220 test ESMTP")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimRight(line, "\r\n")
					cmd := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
					switch {
					case cmd == "EHLO" || cmd == "HELO":
						w("250 test")
					case strings.HasPrefix(strings.ToUpper(line), "MAIL FROM:"):
						w("250 ok")
					case strings.HasPrefix(strings.ToUpper(line), "RCPT TO:"):
						addr := strings.TrimSuffix(strings.TrimPrefix(line[len("RCPT TO:"):], "<"), ">")
						w("450 4.2.0 <" + addr + ">: Recipient address rejected: Greylisted")
					case cmd == "RSET":
						w("250 ok")
					case cmd == "QUIT":
						w("221 bye")
						return
					default:
						w("502 unknown")
					}
				}
			}(c)
		}
	}()
	return ln.Addr().String()
}

// TestSMTPNotifierTempFailureHidesAddress: a temporary refusal whose reply
// echoes the recipient's address must not carry the address into the error
// (which the outbox stores as the receipt's Detail), whatever form the
// recipient's address was given in.
func TestSMTPNotifierTempFailureHidesAddress(t *testing.T) {
	addr := tempFailSMTP(t)
	n, err := breach.NewSMTPNotifier(addr, "breach@acme.example", &breach.SMTPOptions{AllowPlaintext: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	for _, to := range []string{"jane.doe@example.com", "Jane Doe <jane.doe@example.com>", " jane.doe@example.com "} {
		_, err := n.Deliver(context.Background(), message("d-1", to))
		require.Error(t, err, to)
		assert.NotErrorIs(t, err, breach.ErrPermanent, "a 4xx is retried")
		assert.NotContains(t, err.Error(), "jane.doe@", "the error holds the address given as %q", to)
	}
}
