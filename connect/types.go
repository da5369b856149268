package connect

import (
	"fmt"
	"strings"
	"time"
)

// SessionInput is what CreateSession starts an authorization with. Only EndUserID is required;
// the API fills in the rest from the stack's configuration.
type SessionInput struct {
	// EndUserID is the app's own identifier of the user who authorizes, under which the
	// resulting connection is stored.
	EndUserID string `json:"end_user_id"`
	// Marketplace is the two-letter code of the marketplace to authorize for, such as DE or US;
	// it selects the region and the Seller Central or Vendor Central host.
	Marketplace string `json:"marketplace,omitempty"`
	// AccountType is "seller" or "vendor".
	AccountType string `json:"account_type,omitempty"`
	// ReturnURL is where the user's browser goes once the authorization has an outcome; it must
	// be one the stack allows.
	ReturnURL string `json:"return_url,omitempty"`
	// AmazonCallbackURI resumes an authorization the seller started from the Selling Partner
	// Appstore: it is the amazon_callback_uri parameter Amazon sent to the app's log-in URI.
	AmazonCallbackURI string `json:"amazon_callback_uri,omitempty"`
	// AmazonState goes with AmazonCallbackURI: the amazon_state parameter Amazon sent.
	AmazonState string `json:"amazon_state,omitempty"`
}

// NewSession is a connect session just created. ConnectURL carries a secret that opens the
// session once: send it to the user's browser and nowhere else, and do not log it.
type NewSession struct {
	// SessionID identifies the session to Session; it is not secret.
	SessionID string `json:"session_id"`
	// ConnectURL is where to send the user's browser to authorize.
	ConnectURL string `json:"connect_url"`
	// ExpiresAt is when ConnectURL stops working if the user has not opened it.
	ExpiresAt time.Time `json:"expires_at"`
}

// String formats the session with the secret of its connect URL redacted, so that printing or
// logging a NewSession by accident does not leak the link that opens it.
func (s NewSession) String() string {
	return fmt.Sprintf("{SessionID:%s ConnectURL:%s ExpiresAt:%s}",
		s.SessionID, redactQuery(s.ConnectURL), s.ExpiresAt.Format(time.RFC3339))
}

// redactQuery cuts the query string, where the connect token travels, off a URL.
func redactQuery(u string) string {
	if base, _, ok := strings.Cut(u, "?"); ok {
		return base + "?REDACTED"
	}
	return u
}

// Status is where a connect session stands.
type Status string

// The statuses of a connect session. Pending, opened and the in-progress states become expired
// when their deadline passes without an outcome; connected, failed and expired are final.
const (
	// StatusPending means the session was created and its connect URL not opened yet.
	StatusPending Status = "pending"
	// StatusOpened means the user's browser opened the connect URL and the authorization is
	// under way at Amazon.
	StatusOpened Status = "opened"
	// StatusConnected means the seller authorized the app; the session's seller fields are set.
	StatusConnected Status = "connected"
	// StatusFailed means the authorization ended without a connection; the session's Error
	// says why.
	StatusFailed Status = "failed"
	// StatusExpired means the session ran out of time before it had an outcome.
	StatusExpired Status = "expired"
)

// Final reports whether the status can no longer change, so that a backend polling a session
// knows when to stop.
func (s Status) Final() bool {
	return s == StatusConnected || s == StatusFailed || s == StatusExpired
}

// The codes SessionStatus.Error holds when a session failed. They are stable: branch on them.
// Treat a code not listed here as a failure to show generically, since new ones may be added.
const (
	// SessionErrorConnectedToAnotherUser means the seller account is already connected to
	// another end user of the app.
	SessionErrorConnectedToAnotherUser = "connected_to_another_user"
	// SessionErrorCodeRejected means Amazon did not accept the authorization code, typically
	// because the seller took too long; starting again helps.
	SessionErrorCodeRejected = "code_rejected"
	// SessionErrorSellerMismatch means the seller who authorized is not the one the session
	// was started for.
	SessionErrorSellerMismatch = "selling_partner_mismatch"
	// SessionErrorAmazonUnavailable means Amazon's login service did not answer; trying again
	// later helps.
	SessionErrorAmazonUnavailable = "amazon_unavailable"
	// SessionErrorAppMisconfigured means Amazon refused the app's own credentials; the
	// operator of the stack must act.
	SessionErrorAppMisconfigured = "app_misconfigured"
)

// SessionStatus is a connect session as the app's backend reads it.
type SessionStatus struct {
	// SessionID is the ID CreateSession returned.
	SessionID string `json:"session_id"`
	// EndUserID is the end user the session was created for.
	EndUserID string `json:"end_user_id"`
	// Status is where the session stands.
	Status Status `json:"status"`
	// SellingPartnerID, Region (na, eu or fe) and AccountType (seller or vendor) are set once
	// the session is connected.
	SellingPartnerID string `json:"selling_partner_id,omitempty"`
	Region           string `json:"region,omitempty"`
	AccountType      string `json:"account_type,omitempty"`
	// Error is one of the SessionError codes when the session failed, and empty otherwise.
	Error string `json:"error,omitempty"`
	// ExpiresAt is when the session's connect URL stops working, as CreateSession returned
	// it; a session still pending then reads as expired.
	ExpiresAt time.Time `json:"expires_at"`
}

// ConnectionStatus is whether a connection can still be used.
type ConnectionStatus string

// The statuses of a connection.
const (
	// ConnectionActive means the app holds a working refresh token for the seller.
	ConnectionActive ConnectionStatus = "active"
	// ConnectionReauthorizationRequired means the seller must authorize again (the
	// authorization expired or was revoked): start a new session for the same end user.
	ConnectionReauthorizationRequired ConnectionStatus = "reauthorization_required"
)

// Connection is a seller authorization stored for an end user, in one SP-API region.
type Connection struct {
	// SellingPartnerID is Amazon's ID of the seller or vendor account.
	SellingPartnerID string `json:"selling_partner_id"`
	// Region is the SP-API region the authorization is for: na, eu or fe.
	Region string `json:"region"`
	// AccountType is seller or vendor.
	AccountType string `json:"account_type"`
	// Status is whether the connection can be used or needs a new authorization.
	Status ConnectionStatus `json:"status"`
	// AuthorizedAt is when the seller last authorized.
	AuthorizedAt time.Time `json:"authorized_at"`
	// ReauthorizeBy is when the seller must authorize again; zero when unknown.
	ReauthorizeBy time.Time `json:"reauthorize_by"`
}
