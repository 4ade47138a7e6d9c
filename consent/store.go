package consent

import (
	"context"
	"errors"

	"github.com/dataward/dataward"
)

// Errors callers and Store implementations branch on.
var (
	// ErrDuplicateRef: a record with the same Ref is already in the
	// tenant's ledger. Stores return an error matching it.
	ErrDuplicateRef = errors.New("consent: a record with this ref already exists")
	// ErrUnknownPurpose: the purpose was not registered with the Ledger.
	ErrUnknownPurpose = errors.New("consent: unknown purpose")
	// ErrTokenInvalid: a token is malformed, forged, or for another use or
	// tenant.
	ErrTokenInvalid = errors.New("consent: invalid token")
	// ErrTokenExpired: a token's time ran out.
	ErrTokenExpired = errors.New("consent: token expired")
	// ErrTokenUsed: a single-use token was used already.
	ErrTokenUsed = errors.New("consent: token already used")
	// ErrNoTokenKey: tokens need Options.TokenKey.
	ErrNoTokenKey = errors.New("consent: no token key configured (Options.TokenKey)")
)

// MaxPage bounds the records one call to [Store.Since] returns.
const MaxPage = 10000

// Store keeps the consent ledger: records in the order they were added,
// per tenant. The [Ledger] validates, protects evidence, derives states and
// caches; a Store keeps what it is given and must never change or drop it.
//
// Implementations: [NewMemStore], the SQL store of package sqlstore, or the
// host's own, checked with consenttest.Run. Several Ledgers, in one process
// or many, may share a Store.
type Store interface {
	// Append adds rec to the ledger of rec.Tenant and returns its Seq: one
	// more than the Seq of the tenant's last record (the first is 1).
	// Records become visible to Since in Seq order, without gaps: a reader
	// that has seen Seq n never later finds a record below n. rec.Seq is
	// ignored. If rec.Ref is not empty and a record of the same tenant has
	// that Ref, Append stores nothing and returns an error matching
	// ErrDuplicateRef. On any other error, nothing is stored.
	Append(ctx context.Context, rec Record) (seq int64, err error)
	// History returns every record of subject in tenant, in Seq order, or
	// none.
	History(ctx context.Context, tenant string, subject dataward.SubjectID) ([]Record, error)
	// Since returns the tenant's records with Seq > after, in Seq order, at
	// most limit of them (1 <= limit <= MaxPage).
	Since(ctx context.Context, tenant string, after int64, limit int) ([]Record, error)
	// Head returns the Seq of the tenant's last record, or 0 if it has
	// none.
	Head(ctx context.Context, tenant string) (int64, error)
}

// Watcher is a Store that tells its readers when records are added, by
// this process or another, so that caches follow without polling (on
// PostgreSQL, with LISTEN/NOTIFY). [Ledger.Run] uses it when the Store
// has it.
type Watcher interface {
	// Watch sends on changed, without blocking, once when it is ready (so
	// that the caller can read what it may have missed) and then after
	// records are added to tenant, until ctx is done; several additions may
	// be told by one send. It returns ctx's error when ctx is done, or
	// another error if it could not watch.
	Watch(ctx context.Context, tenant string, changed chan<- struct{}) error
}
