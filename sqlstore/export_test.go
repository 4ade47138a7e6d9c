package sqlstore

// For the tests of package sqlstore_test.
const (
	AuditRunReach    = auditRunReach
	AuditTimeRunSpan = auditTimeRunSpan
	ManyTimeRuns     = manyTimeRuns
	InOrderWindow    = inOrderWindow
)
