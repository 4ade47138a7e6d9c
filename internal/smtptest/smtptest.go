// Package smtptest is a minimal SMTP server on loopback for tests: EHLO,
// STARTTLS (with a self-signed certificate made at start), AUTH PLAIN,
// MAIL, RCPT, DATA, RSET, NOOP and QUIT, many connections at once. It
// counts what it accepts, by recipient and by Message-ID, so that tests can
// show a notice arrived exactly once. It is not a mail server: it keeps
// messages in memory and delivers nothing.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Message is one message the server accepted.
type Message struct {
	From      string
	To        []string
	MessageID string // the Message-ID header, without angle brackets
	Data      []byte
}

// Server is a running test server.
type Server struct {
	Addr           string      // host:port it listens on
	TLS            *tls.Config // a client configuration that trusts its certificate
	User, Password string      // the credentials AUTH PLAIN accepts
	CertPEM        []byte      // its certificate, for clients in other processes (see TLSFromPEM)

	// Reject lists recipient addresses RCPT refuses with 550.
	Reject map[string]bool
	// KeepData keeps each message's data (off by default, for benchmarks).
	KeepData bool

	ln      net.Listener
	srvTLS  *tls.Config
	mu      sync.Mutex
	msgs    []Message
	byRcpt  map[string]int
	byID    map[string]int
	conns   sync.WaitGroup
	open    map[net.Conn]bool
	closing chan struct{}
}

// Start starts a server on 127.0.0.1 with a fresh certificate.
func Start() (*Server, error) {
	cert, pool, err := selfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Addr: ln.Addr().String(), TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
		User: "dataward", Password: "secret", Reject: map[string]bool{},
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		ln:      ln, srvTLS: &tls.Config{Certificates: []tls.Certificate{cert}},
		byRcpt: map[string]int{}, byID: map[string]int{}, closing: make(chan struct{}), open: map[net.Conn]bool{},
	}
	go s.serve()
	return s, nil
}

// TLSFromPEM returns a client configuration trusting the certificate in
// certPEM (a Server's CertPEM) for 127.0.0.1.
func TLSFromPEM(certPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		return nil, fmt.Errorf("smtptest: no certificate in PEM")
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, nil
}

// Close stops the server, closes its connections and waits for their
// sessions to end.
func (s *Server) Close() error {
	close(s.closing)
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.conns.Wait()
	return err
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Count returns the number of messages accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// ByRecipient returns how many messages each recipient address received.
func (s *Server) ByRecipient() map[string]int { return s.counts(s.byRcpt) }

// ByMessageID returns how many times each Message-ID was accepted.
func (s *Server) ByMessageID() map[string]int { return s.counts(s.byID) }

// counts returns a copy of m, taken under the lock.
func (s *Server) counts(m map[string]int) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(m)
}

func (s *Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.mu.Lock()
		s.open[c] = true
		s.mu.Unlock()
		go func() {
			defer s.conns.Done()
			defer func() {
				s.mu.Lock()
				delete(s.open, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.session(c)
		}()
	}
}

// session speaks SMTP on c until QUIT or an error.
func (s *Server) session(c net.Conn) {
	tp := textproto.NewConn(c)
	// reply writes a reply, and sends it unless more commands are already
	// waiting: replies to pipelined commands (RFC 2920) go out together.
	reply := func(format string, args ...any) bool {
		fmt.Fprintf(tp.W, format+"\r\n", args...)
		if tp.R.Buffered() > 0 {
			return true
		}
		return tp.W.Flush() == nil
	}
	if !reply("220 127.0.0.1 smtptest ready") {
		return
	}
	tlsOn, authed := false, false
	var from string
	var to []string
	for {
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"250-127.0.0.1", "250-PIPELINING", "250-8BITMIME"}
			if !tlsOn {
				ext = append(ext, "250-STARTTLS")
			} else {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 SMTPUTF8")
			for _, e := range ext {
				if !reply("%s", e) {
					return
				}
			}
		case "STARTTLS":
			if tlsOn {
				reply("503 already in TLS")
				continue
			}
			if !reply("220 go ahead") {
				return
			}
			tc := tls.Server(c, s.srvTLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, tlsOn = tc, true
			tp = textproto.NewConn(tc)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !tlsOn || !strings.EqualFold(mech, "PLAIN") {
				reply("504 PLAIN over TLS only")
				continue
			}
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.User || parts[2] != s.Password {
				reply("535 authentication failed")
				continue
			}
			authed = true
			reply("235 authenticated")
		case "MAIL":
			if !authed {
				reply("530 authentication required")
				continue
			}
			from, to = addr(arg), nil
			reply("250 ok")
		case "RCPT":
			a := addr(arg)
			if s.Reject[a] || !strings.Contains(a, "@") {
				reply("550 no such user")
				continue
			}
			to = append(to, a)
			reply("250 ok")
		case "DATA":
			if from == "" || len(to) == 0 {
				reply("503 need MAIL and RCPT")
				continue
			}
			if !reply("354 end with .") {
				return
			}
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			id := s.accept(from, to, data)
			from, to = "", nil
			if !reply("250 2.0.0 ok queued as %s", id) {
				return
			}
		case "RSET":
			from, to = "", nil
			reply("250 ok")
		case "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 unknown command")
		}
	}
}

// accept counts a message and returns a queue id.
func (s *Server) accept(from string, to []string, data []byte) string {
	id := messageID(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := Message{From: from, To: to, MessageID: id}
	if s.KeepData {
		m.Data = data
	}
	s.msgs = append(s.msgs, m)
	for _, r := range to {
		s.byRcpt[r]++
	}
	s.byID[id]++
	return fmt.Sprintf("q%d", len(s.msgs))
}

// messageID returns the Message-ID header of data, without brackets.
func messageID(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Message-ID") {
			return strings.Trim(strings.TrimSpace(v), "<>")
		}
	}
	return ""
}

// addr extracts the address of "FROM:<a@b> SIZE=1".
func addr(arg string) string {
	_, rest, _ := strings.Cut(arg, ":")
	rest = strings.TrimSpace(rest)
	if i := strings.IndexByte(rest, '>'); i >= 0 {
		rest = rest[:i]
	}
	return strings.TrimPrefix(rest, "<")
}

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool, nil
}
