package authflow

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// The flow's rules are tested end to end against moto_server and the Amazon sandbox in
// internal/fn; these tests pin what needs no storage at all.

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy source broken") }

type refusingStore struct{ StateStore }

func (refusingStore) Put(context.Context, PendingState) error {
	panic("a state must never be stored when it could not be generated")
}

func TestStartFailsClosedWithoutRandomness(t *testing.T) {
	us, _ := amazon.LookupMarketplace("US")
	s := &Service{
		Consent:            amazon.Consent{ApplicationID: "amzn1.sp.solution.x"},
		DefaultMarketplace: us,
		StateTTL:           time.Minute,
		Now:                time.Now,
		Random:             failingReader{},
		States:             refusingStore{},
	}
	if _, err := s.Start(context.Background(), "", ""); err == nil {
		t.Fatal("Start succeeded without randomness")
	}
}

func TestStateFormat(t *testing.T) {
	r := strings.NewReader(strings.Repeat("\xff", StateBytes))
	s, err := newState(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 43 || !wellFormedState(s) {
		t.Fatalf("state %q is not 43 base64url characters", s)
	}
	if _, err := newState(io.LimitReader(r, 0)); err == nil {
		t.Fatal("a short read must fail")
	}
	if key := StateKey(s); len(key) != 64 || strings.Contains(key, s) {
		t.Fatalf("key %q is not a SHA-256 hex digest", key)
	}
	for _, bad := range []string{"", "a b", strings.Repeat("a", maxStateLen+1), "a+b/c=", "%41"} {
		if wellFormedState(bad) {
			t.Errorf("wellFormedState(%q) = true", bad)
		}
	}
}

func TestSameStateIsExact(t *testing.T) {
	if !sameState("abc", "abc") || sameState("abc", "abd") || sameState("abc", "abcd") || sameState("", "a") {
		t.Fatal("sameState must match exactly")
	}
}

func TestSessionTokensCarryTheirSession(t *testing.T) {
	r := strings.NewReader(strings.Repeat("\x01", 200))
	raw, id, err := newSessionID(r)
	if err != nil || !ValidSessionID(id) {
		t.Fatalf("newSessionID = %q, %v", id, err)
	}
	token, err := newSessionToken(r, raw)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := sessionOf(token); !ok || got != id || len(token) != sessionTokenLen || !wellFormedState(token) {
		t.Fatalf("sessionOf(token) = %q, %v; len %d", got, ok, len(token))
	}
	website, _ := newState(r)
	if _, ok := sessionOf(website); ok {
		t.Fatal("a website state reads as a session's")
	}
	for _, bad := range []string{"", "cs_", "cs_AAAA", "xx_AAAAAAAAAAAAAAAAAAAAAA", "cs_AAAAAAAAAAAAAAAAAAAAA=", "cs_AAAAAAAAAAAAAAAAAAAAAAA"} {
		if ValidSessionID(bad) {
			t.Errorf("ValidSessionID(%q) = true", bad)
		}
	}
	if _, err := newSessionToken(io.LimitReader(r, 0), raw); err == nil {
		t.Fatal("a short read must fail")
	}
}

func TestSessionReportedStatus(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		s    Session
		want SessionStatus
	}{
		{Session{Status: SessionPending, ConnectBy: now.Add(time.Second)}, SessionPending},
		{Session{Status: SessionPending, ConnectBy: now}, SessionExpired},
		{Session{Status: SessionOpened, StateExpiresAt: now.Add(time.Second)}, SessionOpened},
		{Session{Status: SessionCallback, StateExpiresAt: now.Add(time.Second)}, SessionOpened},
		{Session{Status: SessionCallback, StateExpiresAt: now}, SessionExpired},
		{Session{Status: SessionConnected}, SessionConnected},
		{Session{Status: SessionFailed}, SessionFailed},
	} {
		if got := tc.s.Reported(now); got != tc.want {
			t.Errorf("%+v reported %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestNewRefusesAMissingDependency(t *testing.T) {
	full := Service{Now: time.Now, Random: failingReader{}, States: struct{ StateStore }{}, Sessions: struct{ SessionStore }{},
		Tokens: struct{ TokenStore }{}, Exchanger: struct{ CodeExchanger }{}, ConnectionStore: struct{ ConnectionStore }{}}
	for role, needs := range map[Role][]string{
		RoleAuthorize: {"Now", "Random", "States", "Sessions"},
		RoleLogin:     {"Now", "Random", "States", "Sessions"},
		RoleCallback:  {"Now", "Random", "States", "Sessions", "Tokens", "Exchanger"},
		RoleBackend:   {"Now", "Random", "Sessions", "ConnectionStore"},
	} {
		if _, err := New(role, full); err != nil {
			t.Errorf("%s with every dependency: %v", role, err)
		}
		for _, name := range needs {
			s := full
			reflect.ValueOf(&s).Elem().FieldByName(name).SetZero()
			if _, err := New(role, s); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s without %s: error %v, want one naming it", role, name, err)
			}
		}
	}
	if _, err := New("refresh", full); err == nil {
		t.Error("an unknown role was accepted")
	}
}
