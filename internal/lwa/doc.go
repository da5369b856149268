// Package lwa is a client for the Login with Amazon (LWA) token endpoint that SP-API uses:
// it exchanges a seller's spapi_oauth_code for tokens and refreshes access tokens. It retries
// what is worth retrying (429, 5xx, timeouts) with backoff, never retries a rejected grant,
// fetches the client credentials again once when LWA says invalid_client (a rotated secret),
// and returns typed errors that never carry a token, code or secret.
package lwa
