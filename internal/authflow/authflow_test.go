package authflow

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// The flow's rules are tested end to end against moto_server and the Amazon sandbox in
// internal/app; these tests pin what needs no storage at all.

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
