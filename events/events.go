// Package events describes the lifecycle events sellerauth puts on an EventBridge bus, for the
// apps that consume them: the source, the detail-types, and the detail as a Go struct. Every change
// of a connection (a seller's authorization in one region) becomes one event, produced from the
// token table's DynamoDB stream so that no write path can skip it. Delivery is at least once and
// in order per connection; Detail.Version grows with every change of a connection, so a consumer
// drops an event whose version it has already seen. An event never carries a token.
package events

import "time"

// Source is the source of every event.
const Source = "sellerauth"

// The detail-types.
const (
	// ConnectionCreated: a seller authorized the app in a region for the first time (or again after
	// the connection had died or was disconnected).
	ConnectionCreated = "Connection Created"
	// ConnectionRenewed: the owner authorized again (the yearly renewal, or a new role).
	ConnectionRenewed = "Connection Renewed"
	// ConnectionRefused: a user's authorization was refused because another user owns the
	// seller's active connection in that region. Detail.OwnerEndUserID names the owner; nothing
	// changed.
	ConnectionRefused = "Connection Refused"
	// ConnectionNeedsReauthorization: Login with Amazon confirmed that the refresh token no
	// longer works (the seller revoked the app, or the authorization lapsed): ask the seller to
	// connect again.
	ConnectionNeedsReauthorization = "Connection Needs Reauthorization"
	// ConnectionReauthorizationDue: Amazon's 365-day deadline is near; sent 30, 7 and 1 days
	// before Detail.ReauthorizeBy, once each per authorization (Detail.DaysLeft).
	ConnectionReauthorizationDue = "Connection Reauthorization Due"
	// ConnectionDisconnected: the connection and its tokens were deleted (Detail.Reason:
	// "disconnected" by the app or an operator, "purged" when a dead connection's retention ended).
	ConnectionDisconnected = "Connection Disconnected"
	// ConnectionReplaced: an anonymous authorization replaced another active anonymous one of the
	// same seller and region (anonymous mode only; with connect sessions this is a renewal or a
	// refusal).
	ConnectionReplaced = "Connection Replaced"
)

// DetailTypes lists every detail-type, e.g. for an EventBridge rule's pattern.
var DetailTypes = []string{
	ConnectionCreated, ConnectionRenewed, ConnectionRefused, ConnectionNeedsReauthorization,
	ConnectionReauthorizationDue, ConnectionDisconnected, ConnectionReplaced,
}

// Detail is the detail of every event. Times are RFC 3339 in UTC; a zero time is omitted.
type Detail struct {
	EndUserID        string `json:"end_user_id,omitempty"` // absent for an anonymous connection
	SellingPartnerID string `json:"selling_partner_id"`
	Region           string `json:"region"`                 // na, eu or fe
	AccountType      string `json:"account_type,omitempty"` // seller or vendor
	// Status is the connection's status after the change: active, reauthorization_required, or
	// disconnected.
	Status        string     `json:"status"`
	AuthorizedAt  *time.Time `json:"authorized_at,omitempty"`
	ReauthorizeBy *time.Time `json:"reauthorize_by,omitempty"`
	// Version is the connection's version after the change: it grows with every change, so a
	// consumer keeps the highest version seen per (selling_partner_id, region) and drops the rest.
	Version    int64     `json:"version"`
	OccurredAt time.Time `json:"occurred_at"`

	// DaysLeft: Connection Reauthorization Due only (30, 7 or 1).
	DaysLeft int `json:"days_left,omitempty"`
	// OwnerEndUserID: Connection Refused only, the user who owns the connection.
	OwnerEndUserID string `json:"owner_end_user_id,omitempty"`
	// PreviousEndUserID: Connection Created, Renewed or Replaced over an earlier authorization:
	// whose it was.
	PreviousEndUserID string `json:"previous_end_user_id,omitempty"`
	// Reason: Connection Disconnected only, "disconnected" or "purged".
	Reason string `json:"reason,omitempty"`
	// SessionID: the connect session behind Created, Renewed or Refused, when there was one.
	SessionID string `json:"session_id,omitempty"`
}

// Event is an EventBridge event as a consumer's Lambda receives it (the envelope of
// aws-lambda-go's events.CloudWatchEvent with a typed detail).
type Event struct {
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Time       time.Time `json:"time"`
	Detail     Detail    `json:"detail"`
}
