// Package events describes the lifecycle events sellerauth puts on an EventBridge bus, for the
// apps that consume them: the source, the detail-types, and the detail as a Go struct.
//
// Every change of a connection (a seller's authorization in one region) becomes one event,
// produced from the DynamoDB streams of the token and session tables so that no write path can
// skip it. Delivery is
// at least once and in order per connection; [Detail.Version] grows with every change of a
// connection, so a consumer drops an event whose version it has already seen. An event never
// carries a token.
//
// docs/events.md says when each event is sent, how delivery works and how to subscribe;
// docs/events.schema.json is the JSON schema of every detail-type, for consumers not written in Go.
package events

import "time"

// Source is the source of every event, the value an EventBridge rule matches on.
const Source = "sellerauth"

// The detail-types, one per kind of change; Event.DetailType holds one of them.
const (
	// ConnectionCreated is sent when a seller authorized the app in a region for the first time
	// (or again after the connection had died or was disconnected): start using it.
	ConnectionCreated = "Connection Created"
	// ConnectionRenewed is sent when the owner authorized again (the yearly renewal, or a new
	// role): the connection goes on.
	ConnectionRenewed = "Connection Renewed"
	// ConnectionRefused is sent when a user's authorization was refused because another user owns
	// the seller's active connection in that region; Detail.OwnerEndUserID names the owner and
	// nothing changed.
	ConnectionRefused = "Connection Refused"
	// ConnectionNeedsReauthorization is sent when Login with Amazon confirmed that the refresh
	// token no longer works (the seller revoked the app, or the authorization lapsed): ask the
	// seller to connect again.
	ConnectionNeedsReauthorization = "Connection Needs Reauthorization"
	// ConnectionReauthorizationDue is sent when Amazon's 365-day deadline is near: 30, 7 and 1
	// days before Detail.ReauthorizeBy, once each per authorization (Detail.DaysLeft), so the app
	// can remind the seller to authorize again.
	ConnectionReauthorizationDue = "Connection Reauthorization Due"
	// ConnectionDisconnected is sent when the connection and its tokens were deleted
	// (Detail.Reason: "disconnected" by the app or an operator, "purged" when a dead connection's
	// retention ended): stop using it.
	ConnectionDisconnected = "Connection Disconnected"
	// ConnectionReplaced is sent when an anonymous authorization replaced another active
	// anonymous one of the same seller and region (anonymous mode only; with connect sessions
	// this is a renewal or a refusal).
	ConnectionReplaced = "Connection Replaced"
)

// DetailTypes lists every detail-type, e.g. for an EventBridge rule's pattern.
var DetailTypes = []string{
	ConnectionCreated, ConnectionRenewed, ConnectionRefused, ConnectionNeedsReauthorization,
	ConnectionReauthorizationDue, ConnectionDisconnected, ConnectionReplaced,
}

// Detail is the detail of every event: which connection changed, and how it stands after the
// change. Times are RFC 3339 in UTC; a zero time is omitted.
type Detail struct {
	// EndUserID is the app's user the connection belongs to; empty for an anonymous connection.
	EndUserID string `json:"end_user_id,omitempty"`
	// SellingPartnerID is Amazon's ID of the seller or vendor account.
	SellingPartnerID string `json:"selling_partner_id"`
	// Region is the SP-API region of the connection: na, eu or fe.
	Region string `json:"region"`
	// AccountType is seller or vendor.
	AccountType string `json:"account_type,omitempty"`
	// Status is the connection's status after the change: active, reauthorization_required or
	// disconnected, and refused for Connection Refused.
	Status string `json:"status"`
	// AuthorizedAt is when the seller last authorized; nil when the event has none, as for
	// Connection Refused.
	AuthorizedAt *time.Time `json:"authorized_at,omitempty"`
	// ReauthorizeBy is when Amazon's 365-day authorization ends unless the seller authorizes
	// again; nil when the event has none, as for Connection Refused.
	ReauthorizeBy *time.Time `json:"reauthorize_by,omitempty"`
	// Version is the connection's version after the change: it grows with every change, so a
	// consumer keeps the highest version seen per (selling_partner_id, region) and drops the rest.
	// It is 0 for Connection Refused, which changes nothing: deduplicate those on SessionID.
	Version int64 `json:"version"`
	// OccurredAt is when the change happened in the table (the stream record's time), which is
	// also the event's Time.
	OccurredAt time.Time `json:"occurred_at"`

	// DaysLeft is, for Connection Reauthorization Due only, how many days are left before
	// ReauthorizeBy: 30, 7 or 1.
	DaysLeft int `json:"days_left,omitempty"`
	// OwnerEndUserID is, for Connection Refused only, the user who owns the connection.
	OwnerEndUserID string `json:"owner_end_user_id,omitempty"`
	// PreviousEndUserID is, for Connection Created, Renewed or Replaced over an earlier
	// authorization, the user that authorization belonged to.
	PreviousEndUserID string `json:"previous_end_user_id,omitempty"`
	// Reason is, for Connection Disconnected only, why: "disconnected" (by the app or an
	// operator) or "purged" (a dead connection's retention ended).
	Reason string `json:"reason,omitempty"`
	// SessionID is the connect session behind Connection Created, Renewed or Refused, when there
	// was one.
	SessionID string `json:"session_id,omitempty"`
}

// Event is an EventBridge event as a consumer's Lambda receives it (the envelope of
// aws-lambda-go's events.CloudWatchEvent with a typed detail).
type Event struct {
	// ID is EventBridge's ID of the event. A redelivery may carry a new one, so deduplicate on
	// Detail.Version rather than on ID.
	ID string `json:"id"`
	// DetailType is one of the detail-types, such as ConnectionCreated: what happened.
	DetailType string `json:"detail-type"`
	// Source is always Source.
	Source string `json:"source"`
	// Time is when the change happened: EventBridge's copy of Detail.OccurredAt.
	Time time.Time `json:"time"`
	// Detail is what changed.
	Detail Detail `json:"detail"`
}
