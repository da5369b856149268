// Package events wires the events function: the DynamoDB stream records of the token and
// session tables in, lifecycle events on EventBridge out. It is apart from the other wiring so
// that the function links the EventBridge client and nothing it does not use.
package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/sellerauth/sellerauth/internal/eventbus"
	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/lifecycle"
)

// Handler handles a batch of stream records.
type Handler struct {
	Publisher *lifecycle.Publisher
	Log       *slog.Logger
}

// New wires the events function: EVENT_BUS_NAME (default "default").
func New(r fn.Runtime) (*Handler, error) {
	bus := r.Getenv("EVENT_BUS_NAME")
	if bus == "" {
		bus = "default"
	}
	return &Handler{
		Publisher: &lifecycle.Publisher{Bus: &eventbus.Bus{Client: eventbridge.NewFromConfig(r.AWS), Name: bus}},
		Log:       r.Log,
	}, nil
}

// Handle publishes the batch's events in stream order. A record that cannot be decoded, or whose
// event the bus would not take after retries, is reported as the batch's first failure: Lambda
// then retries from it (and, with BisectBatchOnFunctionError, isolates a poison record), and
// past its retry limit sends the batch's description to the on-failure queue.
func (h *Handler) Handle(ctx context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	changes := make([]lifecycle.Change, 0, len(e.Records))
	for i, rec := range e.Records {
		c, err := Change(rec)
		if err != nil {
			h.Log.ErrorContext(ctx, "stream record not readable", "sequence_number", rec.Change.SequenceNumber, "error", err)
			return h.failFrom(ctx, e, i, changes)
		}
		changes = append(changes, c)
	}
	return h.failFrom(ctx, e, len(changes), changes)
}

// failFrom publishes changes (the records before position stop) and reports the first record not
// delivered: the first failed change, or stop.
func (h *Handler) failFrom(ctx context.Context, e lambdaevents.DynamoDBEvent, stop int, changes []lifecycle.Change) (lambdaevents.DynamoDBEventResponse, error) {
	n, err := h.Publisher.Publish(ctx, changes)
	if err != nil {
		h.Log.ErrorContext(ctx, "events not delivered; Lambda retries from this record", "sequence_number", changes[n].SequenceNumber, "error", err)
		stop = n
	}
	if stop >= len(e.Records) {
		h.Log.InfoContext(ctx, "events delivered", "records", len(e.Records))
		return lambdaevents.DynamoDBEventResponse{}, nil
	}
	return lambdaevents.DynamoDBEventResponse{BatchItemFailures: []lambdaevents.DynamoDBBatchItemFailure{
		{ItemIdentifier: e.Records[stop].Change.SequenceNumber},
	}}, nil
}

// Change decodes a stream record of the token or the session table (told apart by their keys).
// It reads the images straight from the record (attribute names of docs/contract.md), without the
// SDK's DynamoDB types: linking them would add their schemas' init to every cold start.
func Change(rec lambdaevents.DynamoDBEventRecord) (lifecycle.Change, error) {
	c := lifecycle.Change{
		SequenceNumber: rec.Change.SequenceNumber,
		EventName:      rec.EventName,
		At:             rec.Change.ApproximateCreationDateTime.Time,
		ByTTL:          rec.UserIdentity != nil && rec.UserIdentity.Type == "Service" && rec.UserIdentity.PrincipalID == "dynamodb.amazonaws.com",
	}
	if c.At.IsZero() {
		c.At = time.Now()
	}
	_, session := rec.Change.Keys["session_id"]
	for _, side := range []struct {
		image image
		new   bool
	}{{rec.Change.OldImage, false}, {rec.Change.NewImage, true}} {
		if len(side.image) == 0 {
			continue
		}
		if session {
			s, err := side.image.session()
			if err != nil {
				return lifecycle.Change{}, err
			}
			if side.new {
				c.NewSession = &s
			} else {
				c.OldSession = &s
			}
			continue
		}
		it, err := side.image.item()
		if err != nil {
			return lifecycle.Change{}, err
		}
		if side.new {
			c.NewToken = &it
		} else {
			c.OldToken = &it
		}
	}
	return c, nil
}

// image is a stream record's item.
type image map[string]lambdaevents.DynamoDBAttributeValue

// str reads a string attribute: "" when absent or NULL.
func (m image) str(name string) (string, error) {
	v, ok := m[name]
	if !ok || v.IsNull() {
		return "", nil
	}
	if v.DataType() != lambdaevents.DataTypeString {
		return "", fmt.Errorf("attribute %s is not a string", name)
	}
	return v.String(), nil
}

// num reads a whole-number attribute: 0 when absent.
func (m image) num(name string) (int64, error) {
	v, ok := m[name]
	if !ok || v.IsNull() {
		return 0, nil
	}
	if v.DataType() != lambdaevents.DataTypeNumber {
		return 0, fmt.Errorf("attribute %s is not a number", name)
	}
	n, err := strconv.ParseInt(v.Number(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return n, nil
}

// reader collects the first error of a series of reads.
type reader struct {
	m   image
	err error
}

func (r *reader) s(name string) string {
	v, err := r.m.str(name)
	r.err = errors.Join(r.err, err)
	return v
}

func (r *reader) n(name string) int64 {
	v, err := r.m.num(name)
	r.err = errors.Join(r.err, err)
	return v
}

func (r *reader) t(name string) time.Time {
	if v := r.n(name); v != 0 {
		return time.Unix(v, 0).UTC()
	}
	return time.Time{}
}

func (m image) item() (lifecycle.Item, error) {
	r := &reader{m: m}
	it := lifecycle.Item{
		SellingPartnerID:      r.s("selling_partner_id"),
		Region:                r.s("region"),
		AccountType:           r.s("account_type"),
		Status:                r.s("status"),
		EndUserID:             r.s("end_user_id"),
		AuthorizedAt:          r.t("authorized_at"),
		ReauthorizeBy:         r.t("reauthorize_by"),
		Version:               r.n("version"),
		Lifecycle:             r.s("lifecycle"),
		SessionID:             r.s("session_id"),
		ReauthorizationNotice: int(r.n("reauthorization_notice")),
	}
	return it, r.err
}

func (m image) session() (lifecycle.Session, error) {
	r := &reader{m: m}
	s := lifecycle.Session{
		ID:               r.s("session_id"),
		EndUserID:        r.s("end_user_id"),
		Status:           r.s("status"),
		Error:            r.s("error"),
		SellingPartnerID: r.s("selling_partner_id"),
		Region:           r.s("region"),
		AccountType:      r.s("account_type"),
		OwnerEndUserID:   r.s("owner_end_user_id"),
	}
	return s, r.err
}
