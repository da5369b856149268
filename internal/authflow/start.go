package authflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// Service runs the flow. Each function wires only what its step needs: Start and Login use
// States; Callback also uses Tokens and Exchanger.
type Service struct {
	Consent            amazon.Consent
	DefaultMarketplace amazon.Marketplace
	StateTTL           time.Duration
	Now                func() time.Time
	Random             io.Reader // crypto/rand.Reader outside tests

	States    StateStore
	Tokens    TokenStore
	Exchanger CodeExchanger

	// Connect sessions (docs/connections.md).
	Sessions        SessionStore
	ConnectionStore ConnectionStore
	SessionTTL      time.Duration // how long a connect URL works
	ReturnURLs      ReturnURLs
	// Anonymous keeps the public website flow (/, /authorize) and the Appstore-started flow
	// without a session, for apps without users of their own.
	Anonymous bool
	// AppSignInURL receives an Appstore-started flow when Anonymous is false: the app signs its
	// user in and creates a session that carries Amazon's amazon_callback_uri and amazon_state.
	AppSignInURL string
}

// Issued is a state handed to a browser: the value goes into the URL and the cookie.
type Issued struct {
	State     string
	ExpiresAt time.Time
}

// Started is the outcome of Start.
type Started struct {
	Issued
	ConsentURL string
}

// Start begins a website authorization at GET /authorize. It chooses the marketplace and account type (empty strings mean the defaults), stores a new
// state and returns the consent URL. It makes exactly one storage call.
func (s *Service) Start(ctx context.Context, marketplace, accountType string) (Started, error) {
	if !s.Anonymous {
		return Started{}, ErrSessionRequired
	}
	m, err := s.marketplace(marketplace)
	if err != nil {
		return Started{}, err
	}
	t, err := amazon.ParseAccountType(accountType)
	if err != nil {
		return Started{}, ErrBadAccountType
	}
	if _, err := m.Origin(t); err != nil {
		return Started{}, ErrNoVendorCentral
	}
	issued, err := s.issue(ctx, m.Code, m.Region, t, FlowWebsite)
	if err != nil {
		return Started{}, err
	}
	u, err := s.Consent.URL(m, t, issued.State)
	if err != nil {
		return Started{}, fmt.Errorf("consent url: %w", err)
	}
	return Started{Issued: issued, ConsentURL: u}, nil
}

func (s *Service) marketplace(codeOrID string) (amazon.Marketplace, error) {
	if codeOrID == "" {
		return s.DefaultMarketplace, nil
	}
	m, ok := amazon.LookupMarketplace(codeOrID)
	if !ok {
		return amazon.Marketplace{}, ErrUnknownMarketplace
	}
	return m, nil
}

// issue creates and stores a new state.
func (s *Service) issue(ctx context.Context, marketplace string, region amazon.Region, t amazon.AccountType, flow Flow) (Issued, error) {
	state, err := newState(s.Random)
	if err != nil {
		return Issued{}, err
	}
	now := s.Now()
	p := PendingState{
		Key:         StateKey(state),
		Marketplace: marketplace,
		Region:      region,
		AccountType: t,
		Flow:        flow,
		CreatedAt:   now,
		ExpiresAt:   now.Add(s.StateTTL),
	}
	if err := s.putState(ctx, p); err != nil {
		return Issued{}, err
	}
	return Issued{State: state, ExpiresAt: p.ExpiresAt}, nil
}

func (s *Service) putState(ctx context.Context, p PendingState) error {
	err := s.States.Put(ctx, p)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrStateExists):
		// 256 random bits collided: the random source is broken. Refuse rather than share a state.
		return fmt.Errorf("store state: %w", err)
	default:
		return fmt.Errorf("%w: store state: %w", ErrStorage, err)
	}
}
