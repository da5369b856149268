package refresh_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/refresh"
)

// BenchmarkRefreshRun seeds N sellers, 10% of them due, into moto and measures one refresh run
// against the sandbox with 100 ms LWA latency at concurrency 16:
//
//	read/due    items DynamoDB read (Query ScannedCount + GetItem) per item due; target <= 1.1
//	rate/ideal  refreshes per second divided by the ideal 16 / 100 ms = 160/s; target >= 0.8
//
// Run it with `make bench-refresh` (BENCH_REFRESH_SIZES=1000,10000,100000 by default).
func BenchmarkRefreshRun(b *testing.B) {
	sizes := []int{1000, 10000, 100000}
	if v := os.Getenv("BENCH_REFRESH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 10 {
				b.Fatalf("BENCH_REFRESH_SIZES: bad size %q", f)
			}
			sizes = append(sizes, n)
		}
	}
	const (
		concurrency = 16
		latency     = 100 * time.Millisecond
	)
	ideal := float64(concurrency) / latency.Seconds()
	for _, n := range sizes {
		b.Run(fmt.Sprintf("sellers=%d", n), func(b *testing.B) {
			due := n / 10
			f := newFixture(b)
			seedStart := time.Now()
			f.seed(n, due)
			seedTook := time.Since(seedStart)
			f.amazon.SetLatency(latency)
			if v := os.Getenv("BENCH_REFRESH_LATENCY"); v != "" {
				d, _ := time.ParseDuration(v)
				f.amazon.SetLatency(d)
			}
			b.ResetTimer()
			var s refresh.Summary
			var reads int64
			// One run: later ones would find nothing due (run with -benchtime 1x).
			for range 1 {
				f.reads.n.Store(0)
				var err error
				s, err = f.job(refresh.Policy{Concurrency: concurrency}).Run(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				reads = f.reads.n.Load()
				if s.Refreshed != int64(due) {
					b.Fatalf("refreshed %d of %d due: %+v", s.Refreshed, due, s)
				}
			}
			rate := float64(s.Refreshed) / s.Duration.Seconds()
			b.ReportMetric(float64(reads)/float64(due), "read/due")
			b.ReportMetric(rate/ideal, "rate/ideal")
			b.ReportMetric(rate, "refreshes/s")
			b.ReportMetric(seedTook.Seconds(), "seed-s")
			fmt.Fprintf(os.Stderr, "N=%d due=%d read=%d read/due=%.3f refreshed=%d in %v: %.1f/s, rate/ideal=%.3f (seeding took %v)\n",
				n, due, reads, float64(reads)/float64(due), s.Refreshed, s.Duration.Round(time.Millisecond), rate, rate/ideal, seedTook.Round(time.Second))
		})
	}
}
