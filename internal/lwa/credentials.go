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
