// Package emf writes CloudWatch Embedded Metric Format lines. Lambda sends a function's stdout
// to CloudWatch Logs, which turns each such line into metrics without a PutMetricData call (and
// without the permission for it); template.yaml's alarms watch those metrics.
package emf

import (
	"encoding/json"
	"io"
	"time"
)

// Namespace is the CloudWatch namespace of every metric of the functions.
const Namespace = "SPAPIAuth"

// Metric is one value of a line.
type Metric struct {
	Name  string
	Unit  string // "Count", "Milliseconds"
	Value int64
}

// Write writes one line with the metrics, without dimensions, stamped at.
func Write(w io.Writer, at time.Time, metrics ...Metric) error {
	defs := make([]map[string]string, 0, len(metrics))
	line := map[string]any{}
	for _, m := range metrics {
		defs = append(defs, map[string]string{"Name": m.Name, "Unit": m.Unit})
		line[m.Name] = m.Value
	}
	line["_aws"] = map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
