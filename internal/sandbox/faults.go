package sandbox

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is a failure the token endpoint shows instead of (or before) its normal answer.
//
//	{Status: 500}                 500 with {"error":"server_error",…}
//	{Status: 429}                 429 with {"error":"temporarily_unavailable",…}
//	{Code: "invalid_client"}      401 with that code
//	{Delay: 3 * time.Second}      the normal answer, 3 s late (nothing if the client gave up)
//	{CloseConnection: true}       the connection is closed without an answer
//	{Body: "<html>…"}             200 with exactly that body (a proxy page, a malformed token)
type Fault struct {
	// Status is the HTTP status of the fault's answer. With only Code set it follows from the
	// code (401 invalid_client, 500 server_error, 503 temporarily_unavailable, else 400); with
	// only Body set it is 200.
	Status int
	// Code is the OAuth error code of the answer. With only Status set it follows from the status
	// (429 and 503 temporarily_unavailable, other 5xx server_error, 401 invalid_client, else
	// invalid_request).
	Code string
	// Delay is waited first. A Fault with nothing but a Delay answers normally afterwards.
	Delay time.Duration
	// CloseConnection drops the connection without any answer (after Delay).
	CloseConnection bool
	// Body, if set, is sent verbatim instead of a JSON error: for answers LWA's clients must
	// survive, such as an HTML error page or a token answer that breaks the rules. It is sent as
	// application/json if it starts with "{", else as text/html.
	Body string
	// RetryAfter, if positive, is sent as a Retry-After header in whole seconds.
	RetryAfter time.Duration
}

// Inject queues f for the next token request that has no fault yet: faults are used first in,
// first out, one per request, before any SetFaultRate fault.
func (s *Sandbox) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// SetFaultRate applies f to a random share (0 to 1) of the token requests that have no injected
// fault; share 0 turns it off.
func (s *Sandbox) SetFaultRate(share float64, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultShare = min(max(share, 0), 1)
	s.shareFault = f
}

// begin counts a token request and picks its fault, if any.
func (s *Sandbox) begin() (f Fault, faulted bool, latency time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.TokenRequests++
	switch {
	case len(s.faults) > 0:
		f, s.faults = s.faults[0], s.faults[1:]
		faulted = true
	case s.faultShare > 0 && rand.Float64() < s.faultShare:
		f, faulted = s.shareFault, true
	}
	if faulted {
		s.stats.Faults++
	}
	return f, faulted, s.latency
}

// serve acts out the fault. It reports whether the request still needs its normal answer.
func (f Fault) serve(s *Sandbox, w http.ResponseWriter, r *http.Request) bool {
	if !pause(r.Context(), f.Delay) {
		return false
	}
	if f.CloseConnection {
		dropConnection(w)
		return false
	}
	if f.RetryAfter > 0 {
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if f.Body != "" {
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		contentType := "text/html; charset=utf-8"
		if strings.HasPrefix(f.Body, "{") {
			contentType = jsonContentType
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(f.Body))
		return false
	}
	if f.Status == 0 && f.Code == "" {
		return true // a pure delay
	}
	status, code := f.answer()
	s.fail(w, status, code, descriptions[code])
	return false
}

// answer fills in the status or the code that the fault leaves open.
func (f Fault) answer() (int, string) {
	status, code := f.Status, f.Code
	if code == "" {
		switch {
		case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
			code = codeTemporarilyUnavailable
		case status >= 500:
			code = codeServerError
		case status == http.StatusUnauthorized:
			code = codeInvalidClient
		default:
			code = codeInvalidRequest
		}
	}
	if status == 0 {
		switch code {
		case codeInvalidClient:
			status = http.StatusUnauthorized
		case codeServerError:
			status = http.StatusInternalServerError
		case codeTemporarilyUnavailable:
			status = http.StatusServiceUnavailable
		default:
			status = http.StatusBadRequest
		}
	}
	return status, code
}

// pause waits d unless the client goes away first; it reports whether to go on.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// dropConnection closes the connection without answering. Where the connection cannot be taken
// over (HTTP/2), aborting the handler resets the stream instead; net/http does not log that.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
