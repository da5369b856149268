package refresh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
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
	// Deadlines is the clock on which ctx's deadline is read: the moments the run stops taking
	// work, cuts LWA calls and cuts writes are timers on it. nil is the machine's clock, as in
	// Lambda; a test passes a clock it moves itself, so that where a run stops depends on what
	// the test did, never on how fast the machine is.
	Deadlines Clock
}

// Clock is what a run measures the invocation's deadline on.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has passed on this clock (at once if d <= 0); stop cancels the
	// call if it has not happened yet.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// machineClock is the machine's clock.
type machineClock struct{}

func (machineClock) Now() time.Time { return time.Now() }

func (machineClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

func (j *Job) deadlines() Clock {
	if j.Deadlines != nil {
		return j.Deadlines
	}
	return machineClock{}
}

// deadlineCtx reports a deadline earlier than its parent's, without a timer of its own: the run's
// timers (on its Clock) cancel the parent. The LWA client and the SDK see when the work will be
// cut, and do not start an attempt that cannot finish before it.
type deadlineCtx struct {
	context.Context
	at time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.at, true }

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

// counters are the run's figures, updated by every worker, and the marks it would make.
type counters struct {
	due, refreshed, raced, failed, revoked, invalidGrant, left, reauthorizeSoon, reminders atomic.Int64
	// answers counts LWA's answers about a refresh token (a token or an OAuth error; not a
	// failure to ask), invalidGrantAnswers those that were invalid_grant.
	answers, invalidGrantAnswers atomic.Int64

	marksMu sync.Mutex
	// marks are the confirmed invalid_grants: the sellers the run would mark
	// reauthorization_required. They are marked once the run knows it is not a mass revocation.
	marks []Due
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
	r, release := j.begin(ctx, p)
	defer release()

	r.refreshDue(start)
	heldBack, brake := r.settleMarks()

	s := r.c.summary()
	s.HeldBack = heldBack
	s.Duration = time.Since(began)
	if brake {
		s.MassInvalidGrant = 1
	}
	if j.Retries != nil {
		s.Retried = j.Retries() - retriesBefore
	}
	var err error
	if r.invalidClient() {
		s.InvalidClient = 1
		err = ErrInvalidClient
	} else if r.queryErr != nil {
		err = r.queryErr
	}
	s.StoppedAtDeadline = r.stoppedAtDeadline.Load()
	j.report(s, err)
	return s, err
}

// run is one call of Run: its policy, its figures, and the moments its deadline sets.
type run struct {
	j *Job
	p Policy
	c *counters
	// stopCtx ends when the run stops taking new work.
	stopCtx context.Context
	// workCtx ends when the queries and LWA calls in flight are cut: shortly before the
	// deadline, or at once when LWA answers invalid_client (its cause says which).
	workCtx    context.Context
	cancelWork context.CancelCauseFunc
	// writeCtx ends when the writes still under way are cut, just before the deadline.
	writeCtx          context.Context
	stoppedAtDeadline atomic.Bool

	queryErr     error
	queryErrOnce sync.Once
}

// begin sets up one run's contexts and timers; release stops them once the run is over.
func (j *Job) begin(ctx context.Context, p Policy) (r *run, release func()) {
	r = &run{j: j, p: p, c: &counters{}}
	// The invocation's deadline sets three moments, each a timer on j.Deadlines: Reserve before
	// it no new work starts (stopCtx); a little later the queries and LWA calls in flight are cut
	// (workCtx), so that the summary is still written; the writes already under way are not cut
	// then (their outcome must be known to count them) but have until just before the deadline
	// (writeCtx).
	workCtx, cancelWork := context.WithCancelCause(ctx)
	writeCtx, cancelWrites := context.WithCancel(ctx)
	stopCtx, stopTaking := context.WithCancel(workCtx)
	// Released last to first, as deferred calls would be.
	stops := []func(){func() { cancelWork(nil) }, cancelWrites, stopTaking}
	if dl, ok := ctx.Deadline(); ok {
		clock := j.deadlines()
		cutAt := dl.Add(-min(p.Reserve/3, 5*time.Second))
		writesEndAt := dl.Add(-min(p.Reserve/10, 500*time.Millisecond))
		workCtx = deadlineCtx{workCtx, cutAt}
		writeCtx = deadlineCtx{writeCtx, writesEndAt}
		now := clock.Now()
		stopTimer := clock.AfterFunc(dl.Add(-p.Reserve).Sub(now), func() {
			r.stoppedAtDeadline.Store(true)
			stopTaking()
		})
		cutTimer := clock.AfterFunc(cutAt.Sub(now), func() { cancelWork(errDeadline) })
		writesTimer := clock.AfterFunc(writesEndAt.Sub(now), cancelWrites)
		stops = append(stops, func() { stopTimer() }, func() { cutTimer() }, func() { writesTimer() })
	}
	r.stopCtx, r.workCtx, r.cancelWork, r.writeCtx = stopCtx, workCtx, cancelWork, writeCtx
	return r, func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
}

// stopping reports whether the run has stopped taking new work.
func (r *run) stopping() bool { return r.stopCtx.Err() != nil }

// invalidClient reports whether the run stopped because LWA refused the app.
func (r *run) invalidClient() bool {
	return errors.Is(context.Cause(r.workCtx), ErrInvalidClient)
}

// cut reports whether the work in flight was cut at the deadline (not stopped by invalid_client).
func (r *run) cut() bool { return r.workCtx.Err() != nil && !r.invalidClient() }

// refreshDue refreshes what is due before start + Margin and returns once every entry read is
// stored or counted as left for the next run.
//
// The run is a pipeline of three stages joined by buffered channels, so that a slow stage
// never idles the one that sets the pace, LWA:
//
//	index query (QueryConcurrency) -> work -> [claim ->] LWA (Concurrency) -> answered -> write.
//
// work buffers what the index returned, so the next query runs while the previous entries
// are still being refreshed; answered lets LWA move on while the writes are in flight. Each
// buffer holds seconds of work at 64 entries per LWA slot.
func (r *run) refreshDue(start time.Time) {
	buffer := 64 * r.p.Concurrency
	work := make(chan Due, buffer)
	r.query(start.Add(r.p.Margin), work)
	claimed := (<-chan Due)(work)
	if r.p.Claim {
		claimed = r.claimAll(work)
	}
	answered := make(chan answer, buffer)
	r.ask(claimed, answered)
	r.write(answered) // each stage closes its output only after its input is drained
}

// query reads the entries due before until into work, and closes it once every shard is read
// or the run stops taking work. Shards are queried with bounded concurrency; each shard is its
// own partition of the index, so no partition gets hot.
func (r *run) query(until time.Time, work chan<- Due) {
	var producers sync.WaitGroup
	shards := make(chan int)
	for range min(r.p.QueryConcurrency, r.j.Store.DueShards()) {
		producers.Go(func() {
			for shard := range shards {
				err := r.j.Store.Due(r.workCtx, shard, until, func(page []Due) error {
					return r.handOver(page, work)
				})
				if err != nil && !errors.Is(err, errStop) && r.workCtx.Err() == nil {
					r.queryErrOnce.Do(func() { r.queryErr = fmt.Errorf("read due index: %w", err) })
				}
			}
		})
	}
	go r.feedShards(shards)
	go func() {
		producers.Wait()
		close(work)
	}()
}

// feedShards hands every shard to the producers once, and closes shards.
func (r *run) feedShards(shards chan<- int) {
	defer close(shards)
	// Each run starts at a random shard: a run that cannot finish (a backlog, an outage that
	// just ended) must not leave the same last shards for later every time.
	n := r.j.Store.DueShards()
	first := rand.N(n)
	for i := range n {
		shard := (first + i) % n
		if r.stopping() {
			return
		}
		select {
		case shards <- shard:
		case <-r.stopCtx.Done():
			return
		}
	}
}

// handOver counts one page of due entries and hands them to the workers; errStop means the run
// stopped taking work, and the rest of the page is left for the next run.
func (r *run) handOver(page []Due, work chan<- Due) error {
	c := r.c
	for i, d := range page {
		c.due.Add(1)
		if r.stopping() {
			c.left.Add(int64(len(page) - i))
			c.due.Add(int64(len(page) - i - 1))
			return errStop
		}
		select {
		case work <- d:
		case <-r.stopCtx.Done():
			c.left.Add(int64(len(page) - i))
			c.due.Add(int64(len(page) - i - 1))
			return errStop
		}
	}
	return nil
}

// claimAll claims each entry of work before it goes to LWA. Claims are a stage of their own: a
// claim waiting on DynamoDB holds no LWA slot.
func (r *run) claimAll(work <-chan Due) <-chan Due {
	ready := make(chan Due, r.p.Concurrency)
	stage(r.p.Concurrency, ready, func() {
		for d := range work {
			if r.stopping() {
				r.c.left.Add(1)
				continue
			}
			if v, ok := r.j.claim(r.workCtx, d, r.p, r.c); ok {
				d.Version = v
				ready <- d
			}
		}
	})
	return ready
}

// ask calls LWA for each entry of claimed and hands its answer to the writers. Exactly
// Concurrency goroutines call LWA.
func (r *run) ask(claimed <-chan Due, answered chan answer) {
	c := r.c
	stage(r.p.Concurrency, answered, func() {
		for d := range claimed {
			if r.stopping() {
				c.left.Add(1)
				continue
			}
			asked := r.j.now() // the token's lifetime counts from the request, not from the answer
			if !d.ReauthorizeBy.IsZero() && d.ReauthorizeBy.Sub(asked) <= r.p.ReauthorizeWarning {
				c.reauthorizeSoon.Add(1)
			}
			tok, err := r.j.Refresher.Refresh(r.workCtx, d.RefreshToken)
			switch {
			case lwa.IsInvalidClient(err):
				// The LWA client already fetched the secret again once: stop, mark nobody.
				c.left.Add(1)
				r.cancelWork(ErrInvalidClient)
				continue
			case err != nil && r.workCtx.Err() != nil:
				// Cut by the run's end, not failed: the claim (if any) lapses and the next run asks.
				c.left.Add(1)
				continue
			}
			if answeredAboutToken(err) {
				c.answers.Add(1)
				if lwa.IsInvalidGrant(err) {
					c.invalidGrantAnswers.Add(1)
				}
			}
			answered <- answer{due: d, tok: tok, err: err, asked: asked}
		}
	})
}

// write stores what LWA answered and returns once answered is drained.
//
// Writers store what LWA answered even after the run stopped taking new work (or LWA refused
// the app): a refreshed token in hand is worth its write. They are not cut with the work: a
// write cut in flight may have landed or not, and the summary could not say which. After the
// cut no new write starts; the writes in flight have until writeCtx ends.
func (r *run) write(answered <-chan answer) {
	var writers sync.WaitGroup
	for range r.p.Concurrency {
		writers.Go(func() {
			for a := range answered {
				if r.cut() {
					r.c.left.Add(1)
					continue
				}
				r.j.store(r.writeCtx, r.p, a, r.c)
			}
		})
	}
	writers.Wait()
}

// settleMarks marks the confirmed invalid_grants, now that every answer of the run is in: unless
// they are a mass revocation (the brake), or the run stopped on invalid_client or was cut.
// heldBack counts the sellers the brake kept from being marked.
func (r *run) settleMarks() (heldBack int64, brake bool) {
	c := r.c
	brake = massInvalidGrant(r.p, len(c.marks), c.answers.Load(), c.invalidGrantAnswers.Load())
	switch {
	case len(c.marks) == 0:
	case brake:
		heldBack = int64(len(c.marks))
		for i, d := range c.marks {
			if i == maxLoggedFailures {
				break
			}
			r.j.sellerLog(d).Warn("invalid_grant confirmed but not marked: too many in this run (mass invalid_grant); due again for the next run")
		}
	case r.invalidClient() || r.cut():
		c.left.Add(int64(len(c.marks))) // due again soon: the next run asks LWA again
	default:
		r.j.mark(r.writeCtx, r.p, c)
	}
	return heldBack, brake
}

// summary is the counters' figures; Run adds what the counters do not hold.
func (c *counters) summary() Summary {
	return Summary{
		Due:             c.due.Load(),
		Refreshed:       c.refreshed.Load(),
		Raced:           c.raced.Load(),
		Failed:          c.failed.Load(),
		Revoked:         c.revoked.Load(),
		InvalidGrant:    c.invalidGrant.Load(),
		Left:            c.left.Load(),
		ReauthorizeSoon: c.reauthorizeSoon.Load(),
		Reminders:       c.reminders.Load(),
	}
}

// errDeadline is the cause of the cut of the work in flight shortly before the deadline.
var errDeadline = errors.New("the invocation's deadline is near")

// answeredAboutToken reports whether LWA said something about the refresh token: a new token, or
// an OAuth error answer such as invalid_grant. Not being able to ask (ErrUnavailable: no answer,
// 429 or 5xx after every attempt) is not an answer.
func answeredAboutToken(err error) bool {
	var e *lwa.Error
	return err == nil || errors.As(err, &e) && !errors.Is(err, lwa.ErrUnavailable)
}

// massInvalidGrant is the brake on mass revocation: a run that would mark at least
// Policy.MassRevocationMin sellers, with at least Policy.MassRevocationShare percent of LWA's
// answers invalid_grant, is not a wave of sellers revoking the app but a wrong client secret or
// LWA answering wrongly, and must mark nobody.
func massInvalidGrant(p Policy, marks int, answers, invalidGrants int64) bool {
	return marks > 0 && marks >= p.MassRevocationMin && invalidGrants*100 >= int64(p.MassRevocationShare)*answers
}

var errStop = errors.New("run stopping")

// maxLoggedFailures bounds the per-seller failure lines of one run; the summary counts them all.
const maxLoggedFailures = 20

// stage runs n goroutines of fn and closes out once all of them have returned.
func stage[T any](n int, out chan T, fn func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(fn)
	}
	go func() {
		wg.Wait()
		close(out)
	}()
}

// answer is what LWA said about one due authorization.
type answer struct {
	due   Due
	tok   lwa.Token
	err   error
	asked time.Time
}

// claim takes one authorization away from overlapping runs and returns its new version; false
// means it is not this run's to refresh (another got there first, or the claim failed and was
// counted).
func (j *Job) claim(ctx context.Context, d Due, p Policy, c *counters) (int64, bool) {
	now := j.now()
	// The claim moves the entry past the window of any run that starts within the lease (they
	// take what is due before their start + Margin), and past later pages of this run's query.
	v, err := j.Store.Claim(ctx, d, now.Add(p.Margin+p.Lease), now)
	switch {
	case err == nil:
		return v, true
	case errors.Is(err, ErrConflict):
		c.raced.Add(1)
	case ctx.Err() != nil:
		c.left.Add(1)
	default:
		c.failed.Add(1)
		j.sellerLog(d).Error("claim for refresh failed", "error", err)
	}
	return 0, false
}

func (j *Job) sellerLog(d Due) *slog.Logger {
	return j.log().With("selling_partner_id", d.SellingPartnerID, "region", string(d.Region))
}

// store writes the outcome of one LWA call, conditional on the version the authorization had
// when it was read (or claimed).
func (j *Job) store(ctx context.Context, p Policy, a answer, c *counters) {
	d := a.due
	now := j.now()
	switch err := a.err; {
	case err == nil:
	case lwa.IsInvalidGrant(err):
		j.invalidGrant(ctx, j.sellerLog(d), p, d, now, c)
		return
	case ctx.Err() != nil:
		// The run is stopping; a claim lapses after Policy.Lease and the next run retries.
		c.left.Add(1)
		return
	default:
		// During an LWA outage every seller fails: log the first few, count them all.
		if c.failed.Add(1) <= maxLoggedFailures {
			j.sellerLog(d).Warn("refresh failed; the next run retries", "error", err)
		}
		return
	}
	_, err := j.Store.SaveRefreshed(ctx, Refreshed{
		SellingPartnerID:     d.SellingPartnerID,
		Region:               d.Region,
		ReadVersion:          d.Version,
		AccessToken:          a.tok.AccessToken,
		AccessTokenExpiresAt: a.asked.Add(a.tok.ExpiresIn),
		RefreshToken:         a.tok.RefreshToken,
		PreviousRefreshToken: d.RefreshToken,
		ClearInvalidGrants:   d.InvalidGrants > 0,
		UpdatedAt:            now,
	})
	switch {
	case err == nil:
		c.refreshed.Add(1)
		if days, ok := ReminderDue(d.ReauthorizeBy, now); ok {
			// After the refresh's own write, whose condition pins the version read.
			switch err := j.Store.NoteReauthorizationDue(ctx, d, days, now); {
			case err == nil:
				c.reminders.Add(1)
			case !errors.Is(err, ErrConflict): // a conflict: noted before, nothing to do
				j.sellerLog(d).Warn("noting the re-authorization reminder failed; the next refresh retries", "error", err)
			}
		}
	case errors.Is(err, ErrConflict):
		// A re-authorization (or a reader's on-demand refresh) landed meanwhile: it wins.
		c.raced.Add(1)
	case ctx.Err() != nil:
		c.left.Add(1)
	default:
		c.failed.Add(1)
		j.sellerLog(d).Error("save refreshed token failed", "error", err)
	}
}

func (j *Job) invalidGrant(ctx context.Context, log *slog.Logger, p Policy, d Due, now time.Time, c *counters) {
	g, err := j.Store.RecordInvalidGrant(ctx, d, now, now.Add(p.RetryInvalidGrantAfter))
	switch {
	case errors.Is(err, ErrConflict):
		c.raced.Add(1)
		return
	case err != nil && ctx.Err() != nil:
		c.left.Add(1) // the run is stopping: nothing was recorded, the next run asks again
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
	// Confirmed. The mark waits for the end of the run, which decides whether this is one
	// seller revoking the app or a mass invalid_grant that must mark nobody.
	d.Version = g.Version // the mark is conditional on the version this write left
	c.marksMu.Lock()
	c.marks = append(c.marks, d)
	c.marksMu.Unlock()
}

// mark marks the sellers whose invalid_grant the run confirmed reauthorization_required, each
// with a write conditional on the version its invalid_grant was recorded at, Concurrency at once.
func (j *Job) mark(ctx context.Context, p Policy, c *counters) {
	todo := make(chan Due)
	var markers sync.WaitGroup
	for range min(p.Concurrency, len(c.marks)) {
		markers.Go(func() {
			for d := range todo {
				if ctx.Err() != nil {
					c.left.Add(1) // still due: the next run confirms it again
					continue
				}
				now := j.now()
				log := j.sellerLog(d)
				switch err := j.Store.MarkReauthorizationRequired(ctx, d, now, now.Add(p.DeadTTL)); {
				case errors.Is(err, ErrConflict):
					c.raced.Add(1)
				case err != nil && ctx.Err() != nil:
					c.left.Add(1)
				case err != nil:
					c.failed.Add(1)
					log.Error("mark reauthorization_required failed", "error", err)
				default:
					c.revoked.Add(1)
					log.Warn("seller must authorize the app again: refresh token refused repeatedly")
				}
			}
		})
	}
	for _, d := range c.marks {
		todo <- d
	}
	close(todo)
	markers.Wait()
}
