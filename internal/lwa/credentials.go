package lwa

import "context"

// Credentials are the LWA client credentials of the SP-API application.
type Credentials struct {
	ClientID     string
	ClientSecret string
}

// CredentialSource supplies the client credentials. Refetch is called once when LWA rejects
// stale credentials with invalid_client; it must return fresher ones than stale, or the same
// ones when nothing newer is stored.
type CredentialSource interface {
	Credentials(ctx context.Context) (Credentials, error)
	Refetch(ctx context.Context, stale Credentials) (Credentials, error)
}

// Static is a CredentialSource of fixed credentials, with nothing newer to refetch: for tests,
// local tools and callers that keep the secret themselves.
type Static Credentials

var _ CredentialSource = Static{}

// Credentials implements CredentialSource.
func (s Static) Credentials(context.Context) (Credentials, error) { return Credentials(s), nil }

// Refetch implements CredentialSource: the same credentials again.
func (s Static) Refetch(context.Context, Credentials) (Credentials, error) {
	return Credentials(s), nil
}
