// Package authflow is the SP-API authorization flow, free of HTTP and AWS: Start creates a state
// bound to the seller's browser and the consent URL; Login handles Amazon's log-in URI step of
// both the website and the Appstore-initiated flows; Callback checks and consumes the state,
// exchanges the one-time code at Login with Amazon and saves the seller's tokens. The clock and
// the source of randomness are injected so that every rule can be tested exactly. The package owns
// the small interfaces it needs (StateStore, TokenStore, CodeExchanger); adapters implement them.
package authflow
