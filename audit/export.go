package audit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Reports: the events a [Logger.Query] returned, written for people
// (WriteCSV), for machines that may check them (WriteJSONLines), and for
// security tools (WriteOCSF). They write the events as the query returned
// them: Sensitive values as keyed hashes, Secret values opened, [Erased] or
// [Sealed] (see [StoredEvent]). Nothing is added that the log does not hold.

// csvHeader is the header row of WriteCSV, in its stable column order.
var csvHeader = []string{
	"index", "id", "time", "class", "action", "outcome", "reason",
	"actor_id", "actor_kind", "actor_tenant", "actor_roles", "actor_ip", "actor_user_agent",
	"subject", "resource_type", "resource_id", "request_id", "trace_id",
	"changes", "metadata",
}

// WriteCSV writes events as CSV (RFC 4180, through encoding/csv): a header
// row, then one row per event, in these columns, in this order:
//
//	index, id, time, class, action, outcome, reason,
//	actor_id, actor_kind, actor_tenant, actor_roles, actor_ip, actor_user_agent,
//	subject, resource_type, resource_id, request_id, trace_id,
//	changes, metadata
//
// time is RFC 3339 in UTC, to the nanosecond; actor_roles are joined with
// ";"; changes is a JSON array of {"field","before","after"} objects and
// metadata a JSON object of key to value, in the event's order, each empty
// when the event has none.
//
// Reports are opened in spreadsheets, which run a cell that starts with a
// formula character: a value from a request (a user agent, a path) could
// otherwise run as a formula on the reader's machine (CSV injection). So a
// cell that starts with '=', '+', '-' or '@', or with a tab or carriage
// return, is written with a leading apostrophe ("'=1+1"), which
// spreadsheets show as text. Such cells therefore differ from the log; use
// [WriteJSONLines] for an exact copy.
func WriteCSV(w io.Writer, events []StoredEvent) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("audit: write CSV: %w", err)
	}
	row := make([]string, len(csvHeader))
	for i := range events {
		e := &events[i]
		changes, err := changesJSON(e.Changes)
		if err != nil {
			return err
		}
		metadata, err := metadataJSON(e.Metadata)
		if err != nil {
			return err
		}
		row = append(row[:0],
			strconv.FormatInt(e.Index, 10), e.ID, formatTime(e.Time), e.Class, e.Action, string(e.Outcome), e.Reason,
			e.Actor.ID, string(e.Actor.Kind), e.Actor.Tenant, strings.Join(e.Actor.Roles, ";"), e.Actor.SourceIP, e.Actor.UserAgent,
			string(e.Subject), e.Resource.Type, e.Resource.ID, e.RequestID, e.TraceID,
			changes, metadata,
		)
		for j, cell := range row {
			row[j] = neutralizeCell(cell)
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("audit: write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit: write CSV: %w", err)
	}
	return nil
}

// neutralizeCell defuses a cell that a spreadsheet would run as a formula
// (see the OWASP note on CSV injection).
func neutralizeCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// jsonChange is a Change in the reports.
type jsonChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

func toJSONChanges(cs []Change) []jsonChange {
	if len(cs) == 0 {
		return nil
	}
	out := make([]jsonChange, len(cs))
	for i, c := range cs {
		out[i] = jsonChange(c)
	}
	return out
}

// changesJSON is the changes cell of WriteCSV.
func changesJSON(cs []Change) (string, error) {
	if len(cs) == 0 {
		return "", nil
	}
	b, err := marshal(toJSONChanges(cs))
	return string(b), err
}

// metadataJSON is the metadata cell of WriteCSV.
func metadataJSON(md []Attr) (string, error) {
	if len(md) == 0 {
		return "", nil
	}
	b, err := attrObject(md).MarshalJSON()
	return string(b), err
}

// attrObject is metadata written as a JSON object of key to value, keeping
// the event's order (a Go map would sort the keys). Should an event repeat
// a key, the object repeats it too.
type attrObject []Attr

// MarshalJSON writes the object.
func (a attrObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, at := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(at.Key)
		if err != nil {
			return nil, err
		}
		v, err := marshal(at.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping, which would only make the
// reports harder to read.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("audit: encode report: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// jsonEvent is one line of WriteJSONLines.
type jsonEvent struct {
	Index     int64            `json:"index"`
	ID        string           `json:"id"`
	Time      string           `json:"time"`
	Class     string           `json:"class,omitempty"`
	Action    string           `json:"action"`
	Outcome   Outcome          `json:"outcome"`
	Reason    string           `json:"reason,omitempty"`
	Actor     *jsonActor       `json:"actor,omitempty"`
	Subject   string           `json:"subject,omitempty"`
	Resource  *jsonResource    `json:"resource,omitempty"`
	Changes   []jsonChange     `json:"changes,omitempty"`
	RequestID string           `json:"request_id,omitempty"`
	TraceID   string           `json:"trace_id,omitempty"`
	Metadata  attrObject       `json:"metadata,omitempty"`
	Data      []byte           `json:"data,omitempty"`
	Proof     tlog.RecordProof `json:"proof,omitempty"`
}

type jsonActor struct {
	ID        string   `json:"id,omitempty"`
	Kind      string   `json:"kind,omitempty"`
	Tenant    string   `json:"tenant,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	IP        string   `json:"ip,omitempty"`
	UserAgent string   `json:"user_agent,omitempty"`
}

type jsonResource struct {
	Type string `json:"type,omitempty"`
	ID   string `json:"id,omitempty"`
}

// WriteJSONLines writes events as JSON Lines: one JSON object per line,
// with snake_case fields:
//
//	{"index":3,"id":"…","time":"2025-01-02T03:04:05.000006Z","class":"…",
//	 "action":"customer.update","outcome":"success","reason":"…",
//	 "actor":{"id":"…","kind":"user","tenant":"…","roles":["…"],"ip":"h1:…","user_agent":"…"},
//	 "subject":"h1:…","resource":{"type":"customer","id":"…"},
//	 "changes":[{"field":"email","before":"…","after":"…"}],
//	 "request_id":"…","trace_id":"…","metadata":{"key":"value"},
//	 "data":"<base64>","proof":["<base64 hash>",…]}
//
// time is RFC 3339 in UTC, to the nanosecond; empty fields are left out.
// data is the event's canonical encoding ([StoredEvent.Data], in standard
// base64) and proof its inclusion proof, when the query asked for proofs:
// with the signed checkpoint the query named ([Query.Checkpoint]) and the
// log's public key, anyone can check a line with [CheckInclusion] (proof
// decodes into a tlog.RecordProof with encoding/json). data holds the
// protected forms only, never a clear Sensitive or Secret value.
func WriteJSONLines(w io.Writer, events []StoredEvent) error {
	return writeLines(w, events, "JSON lines", toJSONEvent)
}

func toJSONEvent(e *StoredEvent) any {
	line := jsonEvent{
		Index: e.Index, ID: e.ID, Time: formatTime(e.Time), Class: e.Class,
		Action: e.Action, Outcome: e.Outcome, Reason: e.Reason,
		Subject: string(e.Subject), Changes: toJSONChanges(e.Changes),
		RequestID: e.RequestID, TraceID: e.TraceID, Metadata: attrObject(e.Metadata),
		Data: e.Data, Proof: e.Proof,
	}
	if a := e.Actor; !a.isZero() {
		line.Actor = &jsonActor{ID: a.ID, Kind: string(a.Kind), Tenant: a.Tenant, Roles: a.Roles, IP: a.SourceIP, UserAgent: a.UserAgent}
	}
	if e.Resource != (Resource{}) {
		line.Resource = &jsonResource{Type: e.Resource.Type, ID: e.Resource.ID}
	}
	return &line
}

// writeLines writes one JSON object per event, made by line; format names
// the format in errors.
func writeLines(w io.Writer, events []StoredEvent, format string, line func(*StoredEvent) any) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range events {
		if err := enc.Encode(line(&events[i])); err != nil {
			return fmt.Errorf("audit: write %s: event %d: %w", format, events[i].Index, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("audit: write %s: %w", format, err)
	}
	return nil
}

// The OCSF classification of the events WriteOCSF writes.
const (
	ocsfVersion     = "1.3.0"
	ocsfClassUID    = 6003 // API Activity
	ocsfCategoryUID = 6    // Application Activity
)

// ocsfActivities maps an action's verb (its last dot-separated word) to an
// OCSF API Activity activity_id. Verbs not listed are 99, Other.
var ocsfActivities = map[string]int{
	"create": 1, "add": 1, "insert": 1, "register": 1,
	"read": 2, "view": 2, "get": 2, "list": 2, "search": 2, "reveal": 2, "export": 2,
	"update": 3, "change": 3, "modify": 3, "edit": 3, "patch": 3,
	"delete": 4, "remove": 4, "erase": 4, "shred": 4,
}

var ocsfActivityNames = map[int]string{1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other"}

// ocsfUserTypes maps an actor kind to an OCSF user type_id.
var ocsfUserTypes = map[string]int{"user": 1, "subject": 1, "system": 3}

type ocsfEvent struct {
	ActivityID   int            `json:"activity_id"`
	ActivityName string         `json:"activity_name"`
	CategoryUID  int            `json:"category_uid"`
	CategoryName string         `json:"category_name"`
	ClassUID     int            `json:"class_uid"`
	ClassName    string         `json:"class_name"`
	TypeUID      int            `json:"type_uid"`
	TypeName     string         `json:"type_name"`
	SeverityID   int            `json:"severity_id"`
	Severity     string         `json:"severity"`
	Time         int64          `json:"time"`
	Status       string         `json:"status"`
	StatusID     int            `json:"status_id"`
	StatusDetail string         `json:"status_detail,omitempty"`
	Actor        ocsfActor      `json:"actor"`
	SrcEndpoint  ocsfEndpoint   `json:"src_endpoint"`
	HTTPRequest  *ocsfHTTP      `json:"http_request,omitempty"`
	API          ocsfAPI        `json:"api"`
	Resources    []ocsfResource `json:"resources,omitempty"`
	Metadata     ocsfMetadata   `json:"metadata"`
	Unmapped     ocsfUnmapped   `json:"unmapped"`
}

type ocsfActor struct {
	User *ocsfUser `json:"user,omitempty"`
}

type ocsfUser struct {
	UID    string `json:"uid,omitempty"`
	Type   string `json:"type,omitempty"`
	TypeID int    `json:"type_id"`
}

type ocsfEndpoint struct {
	IP string `json:"ip,omitempty"`
}

type ocsfHTTP struct {
	UserAgent string `json:"user_agent"`
}

type ocsfAPI struct {
	Operation string       `json:"operation"`
	Request   *ocsfRequest `json:"request,omitempty"`
}

type ocsfRequest struct {
	UID string `json:"uid"`
}

type ocsfResource struct {
	Type string `json:"type,omitempty"`
	UID  string `json:"uid,omitempty"`
}

type ocsfMetadata struct {
	UID            string      `json:"uid"`
	CorrelationUID string      `json:"correlation_uid,omitempty"`
	Version        string      `json:"version"`
	Product        ocsfProduct `json:"product"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
}

// ocsfUnmapped holds what OCSF API Activity has no attribute for.
type ocsfUnmapped struct {
	Index       int64        `json:"index"`
	Class       string       `json:"class,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	ActorTenant string       `json:"actor_tenant,omitempty"`
	ActorRoles  []string     `json:"actor_roles,omitempty"`
	ActorIP     string       `json:"actor_ip,omitempty"`
	Subject     string       `json:"subject,omitempty"`
	Changes     []jsonChange `json:"changes,omitempty"`
	Metadata    attrObject   `json:"metadata,omitempty"`
}

// WriteOCSF writes events as JSON Lines of OCSF 1.3.0 API Activity events
// (class_uid 6003, category_uid 6, Application Activity), for a SIEM or a
// security data lake that reads OCSF:
//
//   - activity_id from the action's verb, its last dot-separated word:
//     create (or add, insert, register) is 1, read (or view, get, list,
//     search, reveal, export) 2, update (or change, modify, edit, patch) 3,
//     delete (or remove, erase, shred) 4, anything else 99, Other;
//     type_uid is 600300 + activity_id. severity_id is 1, Informational.
//   - time: the event's time in milliseconds since the Unix epoch.
//   - status and status_id: Success (1) for success, Failure (2) for
//     failure and for denied, which also sets status_detail "denied".
//   - actor.user: uid is the actor id, type its kind, type_id 1 (User) for
//     kinds user and subject, 3 (System) for system, 99 (Other) for others.
//   - src_endpoint.ip: the actor's address if it is stored as an IP
//     address; a keyed hash (the default, Sensitive) is not an address,
//     and goes to unmapped.actor_ip instead.
//   - http_request.user_agent, api.operation (the action), api.request.uid
//     (the request id), resources [{type, uid}] (the resource),
//     metadata.uid (the event id), metadata.correlation_uid (the trace id),
//     metadata.version "1.3.0" and metadata.product {name, vendor_name},
//     both "dataward".
//   - unmapped: the rest, namely index, class, reason, actor_tenant,
//     actor_roles, subject, changes and metadata.
//
// The OCSF lines carry no proof: export [WriteJSONLines] alongside them
// when the events must be checkable.
func WriteOCSF(w io.Writer, events []StoredEvent) error {
	return writeLines(w, events, "OCSF", func(e *StoredEvent) any { return toOCSF(e) })
}

func toOCSF(e *StoredEvent) *ocsfEvent {
	verb := e.Action[strings.LastIndexByte(e.Action, '.')+1:]
	activity, ok := ocsfActivities[strings.ToLower(verb)]
	if !ok {
		activity = 99
	}
	o := &ocsfEvent{
		ActivityID:   activity,
		ActivityName: ocsfActivityNames[activity],
		CategoryUID:  ocsfCategoryUID,
		CategoryName: "Application Activity",
		ClassUID:     ocsfClassUID,
		ClassName:    "API Activity",
		TypeUID:      ocsfClassUID*100 + activity,
		TypeName:     "API Activity: " + ocsfActivityNames[activity],
		SeverityID:   1,
		Severity:     "Informational",
		Time:         e.Time.UnixMilli(),
		Status:       "Success",
		StatusID:     1,
		API:          ocsfAPI{Operation: e.Action},
		Metadata: ocsfMetadata{
			UID: e.ID, CorrelationUID: e.TraceID, Version: ocsfVersion,
			Product: ocsfProduct{Name: "dataward", VendorName: "dataward"},
		},
		Unmapped: ocsfUnmapped{
			Index: e.Index, Class: e.Class, Reason: e.Reason,
			ActorTenant: e.Actor.Tenant, ActorRoles: e.Actor.Roles,
			Subject: string(e.Subject), Changes: toJSONChanges(e.Changes), Metadata: attrObject(e.Metadata),
		},
	}
	if e.Outcome != Success {
		o.Status, o.StatusID = "Failure", 2
		if e.Outcome == Denied {
			o.StatusDetail = "denied"
		}
	}
	if a := e.Actor; a.ID != "" || a.Kind != "" {
		typeID, ok := ocsfUserTypes[string(a.Kind)]
		switch {
		case ok:
		case a.Kind == "":
			typeID = 0 // Unknown
		default:
			typeID = 99
		}
		o.Actor.User = &ocsfUser{UID: a.ID, Type: string(a.Kind), TypeID: typeID}
	}
	if ip, err := netip.ParseAddr(e.Actor.SourceIP); err == nil {
		o.SrcEndpoint.IP = ip.String()
	} else {
		o.Unmapped.ActorIP = e.Actor.SourceIP
	}
	if e.Actor.UserAgent != "" {
		o.HTTPRequest = &ocsfHTTP{UserAgent: e.Actor.UserAgent}
	}
	if e.RequestID != "" {
		o.API.Request = &ocsfRequest{UID: e.RequestID}
	}
	if e.Resource != (Resource{}) {
		o.Resources = []ocsfResource{{Type: e.Resource.Type, UID: e.Resource.ID}}
	}
	return o
}
