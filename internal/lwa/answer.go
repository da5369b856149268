package lwa

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	maxBodyBytes  = 64 << 10
	maxTokenBytes = 2048

	backoffBase   = 200 * time.Millisecond
	backoffCap    = 2 * time.Second
	maxRetryAfter = 2 * time.Second
)

// tokenJSON is the success answer. expires_in is a json.Number so that "3600" is accepted too.
type tokenJSON struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    json.Number `json:"expires_in"`
}

// errorJSON is the RFC 6749 error answer.
type errorJSON struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// readAnswer turns LWA's answer into a Token or an error. Errors never quote the body: it may
// hold tokens. Failures worth another attempt come back as *retryableError.
func readAnswer(ctx context.Context, resp *http.Response, secrets []string) (Token, error) {
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		_ = resp.Body.Close()
	}()
	status := resp.StatusCode
	busy := status == http.StatusTooManyRequests || status >= 500
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return Token{}, fmt.Errorf("read answer: %w", err)
		}
		return Token{}, &retryableError{err: fmt.Errorf("read answer (HTTP %d): %w", status, err), retryAfter: -1}
	}
	if len(data) > maxBodyBytes {
		err := fmt.Errorf("%w: answer larger than %d bytes (HTTP %d)", ErrUnavailable, maxBodyBytes, status)
		if busy {
			return Token{}, &retryableError{err: err, retryAfter: retryAfter(resp.Header)}
		}
		return Token{}, err
	}

	if status >= 200 && status < 300 {
		return parseToken(data, resp.Header.Get("Content-Type"), status)
	}

	var e errorJSON
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		lwaErr := newError(status, e.Error, e.ErrorDescription, secrets)
		if lwaErr.retryable() {
			return Token{}, &retryableError{err: lwaErr, retryAfter: retryAfter(resp.Header)}
		}
		return Token{}, lwaErr
	}
	err = fmt.Errorf("unexpected answer: HTTP %d without an OAuth error (Content-Type %q, %d bytes)",
		status, clean(resp.Header.Get("Content-Type"), 100, secrets), len(data))
	if busy {
		return Token{}, &retryableError{err: err, retryAfter: retryAfter(resp.Header)}
	}
	return Token{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// parseToken reads and checks a success answer. It is not retried when unusable: LWA may already
// have consumed the code.
func parseToken(data []byte, contentType string, status int) (Token, error) {
	invalid := func(why string) (Token, error) {
		return Token{}, fmt.Errorf("%w: unusable token answer (HTTP %d): %s", ErrUnavailable, status, why)
	}
	var t tokenJSON
	if err := json.Unmarshal(data, &t); err != nil {
		// The decoder's message is not quoted: it can contain a piece of the body.
		return invalid(fmt.Sprintf("not a JSON token object (Content-Type %q, %d bytes)", clean(contentType, 100, nil), len(data)))
	}
	if t.AccessToken == "" {
		return invalid("no access_token")
	}
	for _, f := range []struct{ name, value string }{{"access_token", t.AccessToken}, {"refresh_token", t.RefreshToken}} {
		name, v := f.name, f.value
		if len(v) > maxTokenBytes {
			return invalid(fmt.Sprintf("%s longer than %d bytes", name, maxTokenBytes))
		}
		if !visibleASCII(v) {
			return invalid(name + " has characters that are not visible ASCII")
		}
	}
	if t.ExpiresIn == "" {
		return invalid("no expires_in")
	}
	secs, err := t.ExpiresIn.Int64()
	if err != nil || secs <= 0 || secs > int64(math.MaxInt64/int64(time.Second)) {
		return invalid("expires_in is not a positive whole number of seconds")
	}
	return Token{
		AccessToken:  t.AccessToken,
		RefreshToken: t.RefreshToken,
		TokenType:    t.TokenType,
		ExpiresIn:    time.Duration(secs) * time.Second,
	}, nil
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// retryAfter reads a Retry-After header given in seconds, capped at 2 s; -1 if absent or given
// as a date (LWA is not known to send dates; the backoff applies then).
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return -1
	}
	secs, err := strconv.Atoi(v)
	if err != nil || secs < 0 {
		return -1
	}
	if secs >= int(maxRetryAfter/time.Second) {
		return maxRetryAfter
	}
	return time.Duration(secs) * time.Second
}

// defaultBackoff is exponential backoff with full jitter: a random wait between 0 and
// min(2 s, 200 ms × 2^(attempt-1)).
func defaultBackoff(attempt int) time.Duration {
	ceiling := backoffCap
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 10 {
		if d := backoffBase << (attempt - 1); d < ceiling {
			ceiling = d
		}
	}
	return rand.N(ceiling + 1)
}
