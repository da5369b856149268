package refresh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sellerauth/sellerauth/internal/lwa"
)

// Refresher is the LWA refresh_token grant; *lwa.Client implements it (with retries on 429, 5xx
// and timeouts, and one refetch of the client secret on invalid_client).
type Refresher interface {
	Refresh(ctx context.Context, refreshToken string) (lwa.Token, error)
}

var _ Refresher = (*lwa.Client)(nil)

// ErrInvalidClient stops a run: LWA refused the app's client credentials even after the secret
// was fetched again, so every seller would fail.
var ErrInvalidClient = errors.New("LWA refused the client credentials (invalid_client) after refetching the secret")

// Job is one scheduled refresh run. Its fields are set once; Run may be called repeatedly
// (one call per invocation) but not concurrently with itself on the same Job.
type Job struct {
	Store     Store
	Refresher Refresher
	Policy    Policy
	// Now defaults to time.Now.
	Now func() time.Time
	// Log defaults to slog.Default().
	Log *slog.Logger
	// Metrics receives the run's figures in CloudWatch Embedded Metric Format, one JSON line;
	// nil writes none.
	Metrics io.Writer
	// Retries, if set, reports the LWA client's retries so far; the run reports the difference.
	Retries func() int64
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *Job) log() *slog.Logger {
	if j.Log != nil {
		return j.Log
	}
	return slog.Default()
}

// counters are the run's figures, updated by every worker.
type counters struct {
	due, refreshed, raced, failed, revoked, invalidGrant, left, reauthorizeSoon atomic.Int64
}

// Run refreshes the authorizations that are due, until they are done, ctx's deadline comes within
// Policy.Reserve, or LWA answers invalid_client. It logs one summary line and writes the metrics
// however it ends. The error is ErrInvalidClient or a failure to read the due index; failures of
// single sellers are counted, not returned.
func (j *Job) Run(ctx context.Context) (Summary, error) {
	p := j.Policy.withDefaults()
	start := j.now()
	began := time.Now() // the duration is measured on the monotonic clock, whatever Now says
	var retriesBefore int64
	if j.Retries != nil {
		retriesBefore = j.Retries()
	}

	// stopAt is when no new work starts; work in flight is cut shortly before the deadline so
	// that the summary is still written.
	stopAt := time.Time{}
	workCtx, cancelWork := context.WithCancelCause(ctx)
	defer cancelWork(nil)
	if dl, ok := ctx.Deadline(); ok {
		stopAt = dl.Add(-p.Reserve)
		var cancel context.CancelFunc
		workCtx, cancel = context.WithDeadline(workCtx, dl.Add(-min(p.Reserve/3, 5*time.Second)))
		defer cancel()
	}
	stopping := func() bool {
		return workCtx.Err() != nil || (!stopAt.IsZero() && !time.Now().Before(stopAt))
	}

	var c counters
	work := make(chan Due)
	var queryErr error
	var queryErrOnce sync.Once

	// Producers: shards are queried with bounded concurrency and their entries handed to the
	// workers; each shard is its own partition of the index, so no partition gets hot.
	var producers sync.WaitGroup
	shards := make(chan int)
	for range min(p.QueryConcurrency, j.Store.DueShards()) {
		producers.Go(func() {
			for shard := range shards {
				err := j.Store.Due(workCtx, shard, start.Add(p.Margin), func(page []Due) error {
					for i, d := range page {
						c.due.Add(1)
						if stopping() {
							c.left.Add(int64(len(page) - i))
							c.due.Add(int64(len(page) - i - 1))
							return errStop
						}
						select {
						case work <- d:
						case <-workCtx.Done():
							c.left.Add(int64(len(page) - i))
							c.due.Add(int64(len(page) - i - 1))
							return errStop
						}
					}
					return nil
				})
				if err != nil && !errors.Is(err, errStop) && workCtx.Err() == nil {
					queryErrOnce.Do(func() { queryErr = fmt.Errorf("read due index: %w", err) })
				}
			}
		})
	}
	go func() {
		defer close(shards)
		for shard := range j.Store.DueShards() {
			if stopping() {
				return
			}
			select {
			case shards <- shard:
			case <-workCtx.Done():
				return
			}
		}
	}()
	go func() {
		producers.Wait()
		close(work)
	}()

	// Twice as many workers as LWA slots, so that a worker waiting on DynamoDB never leaves an
	// LWA slot idle.
	lwaSlots := make(chan struct{}, p.Concurrency)
	var workers sync.WaitGroup
	for range 2 * p.Concurrency {
		workers.Go(func() {
			for d := range work {
				if stopping() {
					c.left.Add(1)
					continue
				}
				j.one(workCtx, cancelWork, lwaSlots, p, d, &c)
			}
		})
	}
	workers.Wait() // work is closed only after every producer returned, and the workers drain it

	s := Summary{
		Due:             c.due.Load(),
		Refreshed:       c.refreshed.Load(),
		Raced:           c.raced.Load(),
		Failed:          c.failed.Load(),
		Revoked:         c.revoked.Load(),
		InvalidGrant:    c.invalidGrant.Load(),
		Left:            c.left.Load(),
		ReauthorizeSoon: c.reauthorizeSoon.Load(),
		Duration:        time.Since(began),
	}
	if j.Retries != nil {
		s.Retried = j.Retries() - retriesBefore
	}
	var err error
	if cause := context.Cause(workCtx); errors.Is(cause, ErrInvalidClient) {
		s.InvalidClient = 1
		err = ErrInvalidClient
	} else if queryErr != nil {
		err = queryErr
	}
	if !stopAt.IsZero() && !time.Now().Before(stopAt) {
		s.StoppedAtDeadline = true
	}
	j.report(s, err)
	return s, err
}

var errStop = errors.New("run stopping")

// maxLoggedFailures bounds the per-seller failure lines of one run; the summary counts them all.
const maxLoggedFailures = 20

// one refreshes a single authorization: claim it, ask LWA, write the result, each step
// conditional on the version the previous one produced.
func (j *Job) one(ctx context.Context, stopRun context.CancelCauseFunc, lwaSlots chan struct{}, p Policy, d Due, c *counters) {
	log := j.log().With("selling_partner_id", d.SellingPartnerID, "region", string(d.Region))
	now := j.now()
	if !d.ReauthorizeBy.IsZero() && d.ReauthorizeBy.Sub(now) <= p.ReauthorizeWarning {
		c.reauthorizeSoon.Add(1)
	}
	v, err := d.Version, error(nil)
	if p.Claim {
		v, err = j.Store.Claim(ctx, d, now.Add(p.Lease), now)
	}
	switch {
	case errors.Is(err, ErrConflict):
		c.raced.Add(1)
		return
	case err != nil && ctx.Err() != nil:
		c.left.Add(1)
		return
	case err != nil:
		c.failed.Add(1)
		log.Error("claim for refresh failed", "error", err)
		return
	}
	d.Version = v

	// Only the LWA call holds a slot: the DynamoDB writes around it do not eat into the
	// concurrency LWA sees.
	select {
	case lwaSlots <- struct{}{}:
	case <-ctx.Done():
		c.left.Add(1)
		return
	}
	asked := j.now() // the token's lifetime counts from the request, not from the answer
	tok, err := j.Refresher.Refresh(ctx, d.RefreshToken)
	<-lwaSlots
	now = j.now()
	switch {
	case err == nil:
	case lwa.IsInvalidClient(err):
		// The LWA client already fetched the secret again once: stop, mark nobody.
		c.left.Add(1)
		stopRun(ErrInvalidClient)
		return
	case lwa.IsInvalidGrant(err):
		j.invalidGrant(ctx, log, p, d, now, c)
		return
	case ctx.Err() != nil:
		// The run is stopping; the claim lapses after Policy.Lease and the next run retries.
		c.left.Add(1)
		return
	default:
		// During an LWA outage every seller fails: log the first few, count them all.
		if c.failed.Add(1) <= maxLoggedFailures {
			log.Warn("refresh failed; the next run retries", "error", err)
		}
		return
	}
	_, err = j.Store.SaveRefreshed(ctx, Refreshed{
		SellingPartnerID:     d.SellingPartnerID,
		Region:               d.Region,
		ReadVersion:          d.Version,
		AccessToken:          tok.AccessToken,
		AccessTokenExpiresAt: asked.Add(tok.ExpiresIn),
		RefreshToken:         tok.RefreshToken,
		PreviousRefreshToken: d.RefreshToken,
		ClearInvalidGrants:   d.InvalidGrants > 0,
		UpdatedAt:            now,
	})
	switch {
	case err == nil:
		c.refreshed.Add(1)
	case errors.Is(err, ErrConflict):
		// A re-authorization landed meanwhile: it wins.
		c.raced.Add(1)
	default:
		c.failed.Add(1)
		log.Error("save refreshed token failed", "error", err)
	}
}

func (j *Job) invalidGrant(ctx context.Context, log *slog.Logger, p Policy, d Due, now time.Time, c *counters) {
	g, err := j.Store.RecordInvalidGrant(ctx, d, now, now.Add(p.RetryInvalidGrantAfter))
	switch {
	case errors.Is(err, ErrConflict):
		c.raced.Add(1)
		return
	case err != nil:
		c.failed.Add(1)
		log.Error("record invalid_grant failed", "error", err)
		return
	}
	if g.Count < p.ConfirmAttempts || now.Sub(g.FirstAt) < p.ConfirmSpan {
		c.invalidGrant.Add(1)
		log.Warn("LWA answered invalid_grant; not yet confirmed", "invalid_grant_count", g.Count,
			"first_at", g.FirstAt.UTC().Format(time.RFC3339))
		return
	}
	d.Version = g.Version
	err = j.Store.MarkReauthorizationRequired(ctx, d, now, now.Add(p.DeadTTL))
	switch {
	case errors.Is(err, ErrConflict):
		c.raced.Add(1)
	case err != nil:
		c.failed.Add(1)
		log.Error("mark reauthorization_required failed", "error", err)
	default:
		c.revoked.Add(1)
		log.Warn("seller must authorize the app again: refresh token refused repeatedly",
			"invalid_grant_count", g.Count, "first_at", g.FirstAt.UTC().Format(time.RFC3339))
	}
}
