// Package eventsapp wires the events function: the DynamoDB stream records of the token and
// session tables in, lifecycle events on EventBridge out. It is apart from the other wiring so
// that the function links the EventBridge client and nothing it does not use.
package eventsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/eventbus"
	"github.com/sellerauth/sellerauth/internal/lifecycle"
)

// Handler handles a batch of stream records.
type Handler struct {
	Publisher *lifecycle.Publisher
	Log       *slog.Logger
}

// New wires the events function: EVENT_BUS_NAME (default "default").
func New(r app.Runtime) (*Handler, error) {
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
		image map[string]lambdaevents.DynamoDBAttributeValue
		new   bool
	}{{rec.Change.OldImage, false}, {rec.Change.NewImage, true}} {
		if len(side.image) == 0 {
			continue
		}
		av, err := attributes(side.image)
		if err != nil {
			return lifecycle.Change{}, err
		}
		if session {
			s, err := dynamo.DecodeSession(av)
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
		it, err := dynamo.DecodeItem(av)
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

// attributes converts a stream image from aws-lambda-go's form to the SDK's.
func attributes(m map[string]lambdaevents.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, err := attribute(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func attribute(v lambdaevents.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case lambdaevents.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case lambdaevents.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case lambdaevents.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case lambdaevents.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case lambdaevents.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case lambdaevents.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case lambdaevents.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case lambdaevents.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case lambdaevents.DataTypeMap:
		m, err := attributes(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case lambdaevents.DataTypeList:
		var l []types.AttributeValue
		for _, x := range v.List() {
			av, err := attribute(x)
			if err != nil {
				return nil, err
			}
			l = append(l, av)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	}
	return nil, errors.New("unknown attribute type")
}
