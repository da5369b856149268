// Package sandbox is a stand-in for Amazon's side of SP-API authorization: the Login with Amazon
// (LWA) token endpoint, the Seller Central and Vendor Central consent page with the log-in URI round
// trip (amazon_callback_uri, amazon_state) or the older direct flow, an Appstore page that starts an
// Appstore-initiated authorization at the app's log-in URI (appstore.go), Amazon's consent errors (MD1000,
// MD5101, MD5110) and an admin page to revoke a seller (consent.go) and to rotate the client secret,
// which sends Amazon's APPLICATION_OAUTH_CLIENT_NEW_SECRET notification to Options.Notify
// (notify.go). It follows the facts in docs/amazon.md (form-encoded POST, client credentials in the
// body or as HTTP Basic auth, codes that work once for five minutes, "Atza|"/"Atzr|" tokens,
// RFC 6749 error answers, secret rotation with an overlap, revocation by the seller) and can
// inject the failures integrators see from the real endpoint (429, 5xx, slow answers, dropped connections).
//
// It is for tests and local development only: state lives in memory, and nothing it issues is
// accepted by Amazon. It never logs, so tokens cannot leak through it.
package sandbox
