package refresh

import (
	"time"

	"github.com/sellerauth/sellerauth/internal/emf"
)

// MetricsNamespace is the CloudWatch namespace of the run's metrics; template.yaml's alarms use it.
const MetricsNamespace = emf.Namespace

// Summary is what one run did.
type Summary struct {
	// Due counts the due authorizations the run read from the index.
	Due int64
	// Refreshed counts new access tokens stored.
	Refreshed int64
	// Retried counts LWA requests repeated after a 429, 5xx or timeout.
	Retried int64
	// Raced counts authorizations another writer changed first (a stale index entry, an
	// overlapping run, a re-authorization): nothing to do.
	Raced int64
	// Failed counts refreshes that failed after retries; the next run tries again.
	Failed int64
	// Revoked counts sellers marked reauthorization_required (invalid_grant confirmed).
	Revoked int64
	// InvalidGrant counts invalid_grant answers not yet confirmed.
	InvalidGrant int64
	// Left counts due authorizations read but not attempted (deadline or invalid_client).
	Left int64
	// ReauthorizeSoon counts due sellers within Policy.ReauthorizeWarning of reauthorize_by.
	ReauthorizeSoon int64
	// Reminders counts re-authorization reminders noted (each becomes a Connection
	// Reauthorization Due event).
	Reminders int64
	// InvalidClient is 1 when the run stopped on invalid_client.
	InvalidClient int64
	// MassInvalidGrant is 1 when the brake held: the run confirmed invalid_grant for at least
	// Policy.MassRevocationMin sellers with at least Policy.MassRevocationShare percent of LWA's
	// answers invalid_grant, and marked none of them.
	MassInvalidGrant int64
	// HeldBack counts the sellers the brake did not mark (they stay active and due).
	HeldBack int64
	// StoppedAtDeadline is set when the run stopped taking work before the invocation's deadline.
	StoppedAtDeadline bool
	Duration          time.Duration
}

func (j *Job) report(s Summary, err error) {
	attrs := []any{
		"due", s.Due, "refreshed", s.Refreshed, "retried", s.Retried, "raced", s.Raced,
		"failed", s.Failed, "revoked", s.Revoked, "invalid_grant", s.InvalidGrant,
		"left_for_next_run", s.Left, "reauthorize_soon", s.ReauthorizeSoon, "reminders", s.Reminders,
		"invalid_client", s.InvalidClient, "stopped_at_deadline", s.StoppedAtDeadline,
		"mass_invalid_grant", s.MassInvalidGrant == 1, "held_back", s.HeldBack,
		"duration_ms", s.Duration.Milliseconds(),
	}
	switch {
	case err != nil:
		j.log().Error("refresh run stopped", append(attrs, "error", err)...)
	case s.MassInvalidGrant == 1:
		j.log().Error("refresh run", append(attrs, "error",
			"mass invalid_grant: marked nobody reauthorization_required; check the client secret and LWA, then re-activate anyone marked by mistake")...)
	default:
		j.log().Info("refresh run", attrs...)
	}
	if j.Metrics != nil {
		_ = emf.Write(j.Metrics, j.now(), s.metrics()...)
	}
}

// metrics are the summary's figures as CloudWatch metrics.
func (s Summary) metrics() []emf.Metric {
	return []emf.Metric{
		{Name: "Due", Unit: "Count", Value: s.Due},
		{Name: "Refreshed", Unit: "Count", Value: s.Refreshed},
		{Name: "Retried", Unit: "Count", Value: s.Retried},
		{Name: "Raced", Unit: "Count", Value: s.Raced},
		{Name: "Failed", Unit: "Count", Value: s.Failed},
		{Name: "Revoked", Unit: "Count", Value: s.Revoked},
		{Name: "InvalidGrant", Unit: "Count", Value: s.InvalidGrant},
		{Name: "LeftForNextRun", Unit: "Count", Value: s.Left},
		{Name: "ReauthorizeSoon", Unit: "Count", Value: s.ReauthorizeSoon},
		{Name: "InvalidClient", Unit: "Count", Value: s.InvalidClient},
		{Name: "MassInvalidGrant", Unit: "Count", Value: s.MassInvalidGrant},
		{Name: "RevocationsHeldBack", Unit: "Count", Value: s.HeldBack},
		{Name: "DurationMs", Unit: "Milliseconds", Value: s.Duration.Milliseconds()},
	}
}
