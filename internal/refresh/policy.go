package refresh

import "time"

// Policy holds the job's knobs; the zero value of a field means its default.
type Policy struct {
	// Concurrency bounds the refreshes in flight (default 16).
	Concurrency int
	// QueryConcurrency bounds the shards queried at once (default 4).
	QueryConcurrency int
	// Margin widens the due window: a run takes the authorizations due before now + Margin
	// (default 5 minutes). Due times are set RefreshLead (20 minutes) before the access token
	// expires, so a run refreshes every token expiring within 25 minutes: more than the schedule
	// interval (5 minutes) plus the longest run (5 minutes), with room for one failed run.
	Margin time.Duration
	// Claim makes each refresh first claim its authorization with a conditional write, so that
	// two runs that overlap never both call LWA for the same token. It costs a second write per
	// refresh; without it overlapping runs may both call LWA, but only one of them can store its
	// answer (the write is conditional on the version read). The function's reserved concurrency
	// of 1 keeps runs from overlapping, so it is off by default.
	Claim bool
	// Lease is how long a claimed authorization is held away from other runs (default 3 minutes:
	// more than the LWA client's timeout times its attempts).
	Lease time.Duration
	// Reserve is the time before the invocation's deadline when the run stops taking new work
	// (default 15 seconds).
	Reserve time.Duration
	// ConfirmAttempts and ConfirmSpan: invalid_grant must be seen ConfirmAttempts times (default 3),
	// the first at least ConfirmSpan earlier (default 1 hour), before a seller is marked
	// reauthorization_required.
	ConfirmAttempts int
	ConfirmSpan     time.Duration
	// RetryInvalidGrantAfter is how much later an unconfirmed invalid_grant is tried again
	// (default 10 minutes: a token first tried 25-20 minutes before it expires is tried again
	// while readers still find it valid, leaving room for one more failed run).
	RetryInvalidGrantAfter time.Duration
	// DeadTTL is how long a dead authorization stays before DynamoDB's TTL purges it (default 30 days).
	DeadTTL time.Duration
	// ReauthorizeWarning: due sellers whose reauthorize_by is this close are counted (default 30 days).
	ReauthorizeWarning time.Duration
	// MassRevocationMin and MassRevocationShare are the brake on mass revocation. A run that
	// would mark at least MassRevocationMin sellers reauthorization_required (default 5) while at
	// least MassRevocationShare percent (default 20) of LWA's answers in the run are invalid_grant
	// marks nobody: sellers do not revoke an app together, a wrong client secret or a bad hour at
	// LWA does. They stay active and due; the run reports MassInvalidGrant.
	MassRevocationMin   int
	MassRevocationShare int
}

// Defaults of Policy.
const (
	DefaultConcurrency            = 16
	DefaultQueryConcurrency       = 4
	DefaultMargin                 = 5 * time.Minute
	DefaultLease                  = 3 * time.Minute
	DefaultReserve                = 15 * time.Second
	DefaultConfirmAttempts        = 3
	DefaultConfirmSpan            = time.Hour
	DefaultRetryInvalidGrantAfter = 10 * time.Minute
	DefaultDeadTTL                = 30 * 24 * time.Hour
	DefaultReauthorizeWarning     = 30 * 24 * time.Hour
	DefaultMassRevocationMin      = 5
	DefaultMassRevocationShare    = 20
)

func (p Policy) withDefaults() Policy {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if p.Concurrency <= 0 {
		p.Concurrency = DefaultConcurrency
	}
	if p.QueryConcurrency <= 0 {
		p.QueryConcurrency = DefaultQueryConcurrency
	}
	if p.ConfirmAttempts <= 0 {
		p.ConfirmAttempts = DefaultConfirmAttempts
	}
	if p.MassRevocationMin <= 0 {
		p.MassRevocationMin = DefaultMassRevocationMin
	}
	if p.MassRevocationShare <= 0 {
		p.MassRevocationShare = DefaultMassRevocationShare
	}
	p.MassRevocationShare = min(p.MassRevocationShare, 100)
	def(&p.Margin, DefaultMargin)
	def(&p.Lease, DefaultLease)
	def(&p.Reserve, DefaultReserve)
	def(&p.ConfirmSpan, DefaultConfirmSpan)
	def(&p.RetryInvalidGrantAfter, DefaultRetryInvalidGrantAfter)
	def(&p.DeadTTL, DefaultDeadTTL)
	def(&p.ReauthorizeWarning, DefaultReauthorizeWarning)
	return p
}
