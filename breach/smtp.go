package breach

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SMTPOptions configure an [SMTPNotifier]. The zero value (or nil) is the
// default.
type SMTPOptions struct {
	// Auth authenticates after STARTTLS, e.g. smtp.PlainAuth; nil sends
	// without authenticating.
	Auth smtp.Auth
	// TLS configures STARTTLS; nil verifies the server's certificate for
	// the host of the address against the system's roots.
	TLS *tls.Config
	// AllowPlaintext lets the notifier send to a server that does not offer
	// STARTTLS. Off by default: notices hold details of a breach.
	AllowPlaintext bool
	// HelloName is the name given in EHLO; "localhost" by default.
	HelloName string
	// MaxIdle is how many connections are kept open for reuse; 8 by default.
	MaxIdle int
	// Timeout bounds each delivery on a connection; 30 s by default.
	Timeout time.Duration
}

// SMTPNotifier delivers messages by e-mail, as multipart/alternative
// (plain text and HTML) in UTF-8, over SMTP with STARTTLS and
// authentication. It keeps connections open and reuses them, one
// message at a time on each. The delivery's ID is the Message-ID, so that
// a message resent after a crash can be recognised as the same. It is safe
// for concurrent use.
type SMTPNotifier struct {
	addr, from string
	fromAddr   string // the bare address of from, for MAIL FROM
	opts       SMTPOptions
	mu         sync.Mutex
	idle       []*smtpConn
	last       atomic.Pointer[encodedBody]
}

// NewSMTPNotifier returns a notifier that sends from the address from
// through the server at addr ("host:port").
func NewSMTPNotifier(addr, from string, opts *SMTPOptions) (*SMTPNotifier, error) {
	var o SMTPOptions
	if opts != nil {
		o = *opts
	}
	var problems []string
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		problems = append(problems, "addr is not host:port")
	}
	fromAddr := ""
	if a, err := mail.ParseAddress(from); err != nil || strings.ContainsAny(from, "\r\n") {
		problems = append(problems, "from is not an e-mail address")
	} else {
		fromAddr = a.Address
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("breach: smtp notifier: %s", strings.Join(problems, "; "))
	}
	if o.TLS == nil {
		o.TLS = &tls.Config{ServerName: host}
	}
	if o.HelloName == "" {
		o.HelloName = "localhost"
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return &SMTPNotifier{addr: addr, from: from, fromAddr: fromAddr, opts: o}, nil
}

// Close closes the idle connections.
func (n *SMTPNotifier) Close() error {
	n.mu.Lock()
	idle := n.idle
	n.idle = nil
	n.mu.Unlock()
	for _, c := range idle {
		_ = c.nc.SetDeadline(time.Now().Add(time.Second))
		_ = c.c.Quit()
	}
	return nil
}

// Deliver sends m to m.To.Address and returns the server's reply to the
// message as proof. An address that is not an e-mail address, or one the
// server refuses with a 5xx reply, is a permanent failure ([ErrPermanent]).
func (n *SMTPNotifier) Deliver(ctx context.Context, m Message) (string, error) {
	to, err := mail.ParseAddress(m.To.Address)
	if err != nil || strings.ContainsAny(m.To.Address, "\r\n") {
		return "", permanent("smtp: the address of recipient %q is not an e-mail address", m.To.Subject)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	body, err := n.compose(buf, m, to)
	if err != nil {
		return "", err
	}
	sc, err := n.conn(ctx)
	if err != nil {
		return "", err
	}
	c := sc.c
	// A server that stops answering holds a worker no longer than Timeout.
	_ = sc.nc.SetDeadline(time.Now().Add(n.opts.Timeout))
	proof, err := n.send(ctx, c, to.Address, body)
	if err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && !errors.Is(err, errDataOpen) && c.Reset() == nil {
			n.put(sc) // the server answered: the connection is still good
		} else {
			_ = c.Close()
		}
		if te != nil && te.Code >= 500 {
			return "", permanent("smtp: the server refused recipient %q: %d", m.To.Subject, te.Code)
		}
		// The server may echo the address it was given (the bare one, not
		// the display form the recipient has), in any case.
		return "", fmt.Errorf("breach: smtp: deliver %s: %w", m.ID, redactAddr(err, m.To.Address, to.Address))
	}
	n.put(sc)
	return proof, nil
}

// smtpConn is a pooled connection: the client, and the network connection
// under it, for deadlines.
type smtpConn struct {
	c  *smtp.Client
	nc net.Conn
}

// errDataOpen marks a failure after which the server still expects a
// message body (it accepted DATA although a pipelined command failed): the
// connection cannot be reused.
var errDataOpen = errors.New("the server accepted DATA after a refused command")

// send runs one mail transaction on c and returns the server's reply. If
// the server offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go in one
// write and their replies are read together: two round trips a message
// instead of four.
func (n *SMTPNotifier) send(ctx context.Context, c *smtp.Client, to string, body []byte) (string, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	if ok, _ := c.Extension("PIPELINING"); ok {
		w := c.Text.W
		fmt.Fprintf(w, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", n.fromAddr, to)
		if err := w.Flush(); err != nil {
			return "", err
		}
		var first, dataErr error
		for _, want := range []int{250, 25, 354} {
			_, _, err := c.Text.ReadResponse(want)
			if err != nil && first == nil {
				first = err
			}
			dataErr = err
		}
		if first != nil {
			if dataErr == nil {
				return "", fmt.Errorf("%w: %w", errDataOpen, first)
			}
			return "", first
		}
	} else {
		if err := c.Mail(n.fromAddr); err != nil {
			return "", err
		}
		if err := c.Rcpt(to); err != nil {
			return "", err
		}
		id, err := c.Text.Cmd("DATA")
		if err != nil {
			return "", err
		}
		c.Text.StartResponse(id)
		_, _, err = c.Text.ReadResponse(354)
		c.Text.EndResponse(id)
		if err != nil {
			return "", err
		}
	}
	w := c.Text.DotWriter()
	if _, err := w.Write(body); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	code, msg, err := c.Text.ReadResponse(250)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %s", code, msg), nil
}

// conn returns an idle connection or dials a new one: EHLO, STARTTLS,
// AUTH.
func (n *SMTPNotifier) conn(ctx context.Context) (*smtpConn, error) {
	n.mu.Lock()
	if k := len(n.idle); k > 0 {
		c := n.idle[k-1]
		n.idle = n.idle[:k-1]
		n.mu.Unlock()
		return c, nil
	}
	n.mu.Unlock()
	d := net.Dialer{Timeout: n.opts.Timeout}
	nc, err := d.DialContext(ctx, "tcp", n.addr)
	if err != nil {
		return nil, fmt.Errorf("breach: smtp: dial: %w", err)
	}
	c, err := smtp.NewClient(nc, n.opts.TLS.ServerName)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("breach: smtp: greeting: %w", err)
	}
	_ = nc.SetDeadline(time.Now().Add(n.opts.Timeout))
	fail := func(step string, err error) (*smtpConn, error) {
		c.Close()
		return nil, fmt.Errorf("breach: smtp: %s: %w", step, err)
	}
	if err := c.Hello(n.opts.HelloName); err != nil {
		return fail("hello", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(n.opts.TLS); err != nil {
			return fail("starttls", err)
		}
	} else if !n.opts.AllowPlaintext {
		return fail("starttls", errors.New("the server does not offer STARTTLS"))
	}
	if n.opts.Auth != nil {
		if err := c.Auth(n.opts.Auth); err != nil {
			return fail("auth", err)
		}
	}
	return &smtpConn{c: c, nc: nc}, nil
}

func (n *SMTPNotifier) put(c *smtpConn) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.idle) < n.opts.MaxIdle {
		n.idle = append(n.idle, c)
		return
	}
	go c.c.Quit()
}

// compose writes the message: headers, then plain text and HTML parts
// in quoted-printable. The parts of the last notice composed are kept, as
// an outbox sends one notice to many recipients.
func (n *SMTPNotifier) compose(b *bytes.Buffer, m Message, to *mail.Address) ([]byte, error) {
	body := n.last.Load()
	if body == nil || body.subject != m.Subject || body.text != m.Text || body.html != m.HTML {
		var err error
		if body, err = encodeBody(m); err != nil {
			return nil, err
		}
		n.last.Store(body)
	}
	hdr := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(noBreaks.Replace(v))
		b.WriteString("\r\n")
	}
	hdr("From", n.from)
	hdr("To", to.String())
	hdr("Subject", body.encodedSubject)
	hdr("Message-ID", "<"+m.ID+"@dataward>")
	hdr("Date", time.Now().UTC().Format(time.RFC1123Z))
	b.Write(body.mime)
	return b.Bytes(), nil
}

// encodedBody is the part of a message that is the same for every
// recipient of a notice.
type encodedBody struct {
	subject, text, html string
	encodedSubject      string
	mime                []byte // MIME-Version, Content-Type, the blank line and the parts
}

func encodeBody(m Message) (*encodedBody, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=%s\r\n\r\n", mw.Boundary())
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		if part.body == "" {
			continue
		}
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(w)
		if _, err := qw.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return &encodedBody{subject: m.Subject, text: m.Text, html: m.HTML,
		encodedSubject: mime.QEncoding.Encode("utf-8", m.Subject), mime: b.Bytes()}, nil
}

// bufPool holds buffers for composing messages.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// noBreaks removes line breaks from header values.
var noBreaks = strings.NewReplacer("\r", "", "\n", "")

// redactAddr replaces the addresses in err's message, if any, compared
// without case and surrounding space, so that they do not reach logs.
func redactAddr(err error, addrs ...string) error {
	msg := err.Error()
	for _, addr := range addrs {
		addr = strings.TrimSpace(addr)
		if addr == "" {
			continue
		}
		re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(addr))
		msg = re.ReplaceAllLiteralString(msg, MaskAddress(addr))
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
