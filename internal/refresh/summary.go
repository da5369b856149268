package refresh

import (
	"encoding/json"
	"time"
)

// MetricsNamespace is the CloudWatch namespace of the run's metrics; template.yaml's alarms use it.
const MetricsNamespace = "SPAPIAuth"

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
	// InvalidClient is 1 when the run stopped on invalid_client.
	InvalidClient int64
	// StoppedAtDeadline is set when the run stopped taking work before the invocation's deadline.
	StoppedAtDeadline bool
	Duration          time.Duration
}

func (j *Job) report(s Summary, err error) {
	attrs := []any{
		"due", s.Due, "refreshed", s.Refreshed, "retried", s.Retried, "raced", s.Raced,
		"failed", s.Failed, "revoked", s.Revoked, "invalid_grant", s.InvalidGrant,
		"left_for_next_run", s.Left, "reauthorize_soon", s.ReauthorizeSoon,
		"invalid_client", s.InvalidClient, "stopped_at_deadline", s.StoppedAtDeadline,
		"duration_ms", s.Duration.Milliseconds(),
	}
	if err != nil {
		j.log().Error("refresh run stopped", append(attrs, "error", err)...)
	} else {
		j.log().Info("refresh run", attrs...)
	}
	if j.Metrics != nil {
		line, _ := json.Marshal(s.emf(j.now()))
		_, _ = j.Metrics.Write(append(line, '\n'))
	}
}

// emf renders the summary in CloudWatch Embedded Metric Format: Lambda sends stdout to CloudWatch
// Logs, which extracts the metrics without any PutMetricData call.
func (s Summary) emf(now time.Time) map[string]any {
	values := []struct {
		name, unit string
		value      int64
	}{
		{"Due", "Count", s.Due},
		{"Refreshed", "Count", s.Refreshed},
		{"Retried", "Count", s.Retried},
		{"Raced", "Count", s.Raced},
		{"Failed", "Count", s.Failed},
		{"Revoked", "Count", s.Revoked},
		{"InvalidGrant", "Count", s.InvalidGrant},
		{"LeftForNextRun", "Count", s.Left},
		{"ReauthorizeSoon", "Count", s.ReauthorizeSoon},
		{"InvalidClient", "Count", s.InvalidClient},
		{"DurationMs", "Milliseconds", s.Duration.Milliseconds()},
	}
	defs := make([]map[string]string, 0, len(values))
	out := map[string]any{}
	for _, v := range values {
		defs = append(defs, map[string]string{"Name": v.name, "Unit": v.unit})
		out[v.name] = v.value
	}
	out["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  MetricsNamespace,
			"Dimensions": [][]string{{}},
			"Metrics":    defs,
		}},
	}
	return out
}
