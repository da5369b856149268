package lwa

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   time.Duration
	}{
		{"absent", "", -1},
		{"zero", "0", 0},
		{"one second", "1", time.Second},
		{"capped", "30", 2 * time.Second},
		{"huge", "99999999999999999999", -1},
		{"negative", "-3", -1},
		{"date", "Wed, 21 Oct 2015 07:28:00 GMT", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Retry-After", tt.header)
			}
			if got := retryAfter(h); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		ceiling time.Duration
	}{
		{0, 200 * time.Millisecond},
		{1, 200 * time.Millisecond},
		{2, 400 * time.Millisecond},
		{3, 800 * time.Millisecond},
		{4, 1600 * time.Millisecond},
		{5, 2 * time.Second},
		{60, 2 * time.Second},
	}
	for _, tt := range tests {
		var top time.Duration
		for range 500 {
			d := defaultBackoff(tt.attempt)
			if d < 0 || d > tt.ceiling {
				t.Fatalf("defaultBackoff(%d) = %v, want within [0, %v]", tt.attempt, d, tt.ceiling)
			}
			top = max(top, d)
		}
		if top < tt.ceiling/2 {
			t.Errorf("defaultBackoff(%d) never above %v: no jitter over the full range", tt.attempt, top)
		}
	}
}

func TestClean(t *testing.T) {
	got := clean("code ABC123SECRET\tand\x00 more", 200, []string{"ABC123SECRET"})
	if got != "code [redacted] and more" {
		t.Errorf("clean = %q", got)
	}
	if got := clean(strings.Repeat("a", 300), 200, nil); len([]rune(got)) != 200 || !strings.HasSuffix(got, "…") {
		t.Errorf("not cut to 200 characters: %d", len([]rune(got)))
	}
}
