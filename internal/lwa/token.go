package lwa

import "time"

// Token is the answer of the token endpoint to an authorization_code or refresh_token grant.
type Token struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	// ExpiresIn is the access token's lifetime as LWA stated it (3600 s in practice).
	ExpiresIn time.Duration
}
