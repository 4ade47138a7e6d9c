package detect_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dataward/dataward/pii/detect"
)

func ExampleScanner_Scan() {
	line := []byte("2026-03-14T09:26:53Z signup email=thandi@example.co.za phone=+27 82 555 1234 ip=10.20.30.40 build=v10.2.33")
	for _, f := range detect.Default().Scan(line) {
		fmt.Printf("%-6s %-8s %s\n", f.Type, f.Confidence, line[f.Start:f.End])
	}
	// Output:
	// email  high     thandi@example.co.za
	// phone  high     +27 82 555 1234
	// ipv4   high     10.20.30.40
}

func ExamplePattern() {
	// Customer numbers: "CUS-" and eight digits, the last a check digit.
	customer, err := detect.Pattern("customer_number", `\bCUS-\d{8}\b`, func(m []byte) bool {
		sum := 0
		for _, c := range m[4:11] {
			sum += int(c - '0')
		}
		return int(m[11]-'0') == sum%10
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := detect.New(&detect.Options{
		Types:         []detect.Type{detect.Email},
		MinConfidence: detect.Medium,
		Detectors:     []detect.Detector{customer.WithContext("customer", "cust")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	text := "cust CUS-12345678 wrote from bob@example.com about CUS-12345670"
	for _, f := range s.ScanString(text) {
		fmt.Println(f, text[f.Start:f.End])
	}

	// A pattern that does not compile is reported when it is made.
	_, err = detect.Pattern("order_number", `ORD-(\d+`, nil)
	fmt.Println(err)
	// Output:
	// customer_number[5:17] high CUS-12345678
	// email[29:44] high bob@example.com
	// detect: invalid input: Pattern("order_number") does not compile: missing closing ): `ORD-(\d+`
}

func ExampleScanner_ScanReader() {
	logs := strings.NewReader("login alice@example.com\nrefund to card 4111 1111 1111 1111\n")
	err := detect.Default().ScanReader(logs, func(f detect.Finding) error {
		fmt.Println(f)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// email[6:23] high
	// card[39:58] high
}

func ExampleStream() {
	// Redact a stream, segment by segment, in bounded memory.
	in := strings.NewReader("ssn=123-45-6789 key=AKIAIOSFODNN7EXAMPLE note=ok\n")
	st := detect.Default().NewStream(in)
	var out bytes.Buffer
	for {
		seg, err := st.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		at := 0
		for _, f := range seg.Findings {
			out.Write(seg.Text[at:f.Start])
			fmt.Fprintf(&out, "[%s]", f.Type)
			at = f.End
		}
		out.Write(seg.Text[at:])
	}
	_, _ = out.WriteTo(os.Stdout)
	// Output:
	// ssn=[us_ssn] key=[api_key] note=ok
}
