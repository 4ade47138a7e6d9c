package breach

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/dataward/dataward"
)

// LogNotifier writes each message as one JSON line to a writer (a file,
// standard output): for development, and as a record of notices a person
// delivers by hand. The recipient's address is written masked. It is safe
// for concurrent use.
type LogNotifier struct {
	mu    sync.Mutex
	w     io.Writer
	clock dataward.Clock
}

// NewLogNotifier returns a LogNotifier writing to w, stamping lines with
// clock's time (nil: the system clock).
func NewLogNotifier(w io.Writer, clock dataward.Clock) *LogNotifier {
	return &LogNotifier{w: w, clock: dataward.ClockOrSystem(clock)}
}

type logLine struct {
	Time     time.Time          `json:"time"`
	ID       string             `json:"id"`
	Incident string             `json:"incident"`
	Regime   string             `json:"regime"`
	Party    Party              `json:"party"`
	Phase    string             `json:"phase"`
	Subject  dataward.SubjectID `json:"recipient"`
	Address  string             `json:"address"` // masked
	Title    string             `json:"subject"`
	Text     string             `json:"text"`
}

// Deliver writes m and returns "written" with the line's length as proof.
func (n *LogNotifier) Deliver(ctx context.Context, m Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	b, err := json.Marshal(logLine{Time: n.clock.Now().UTC(), ID: m.ID, Incident: m.Incident, Regime: m.Regime, Party: m.Party,
		Phase: m.Phase, Subject: m.To.Subject, Address: MaskAddress(m.To.Address), Title: m.Subject, Text: m.Text})
	if err != nil {
		return "", err
	}
	b = append(b, '\n')
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := n.w.Write(b); err != nil {
		return "", fmt.Errorf("breach: log notifier: %w", err)
	}
	return fmt.Sprintf("written %d bytes", len(b)), nil
}
