package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
)

// SessionStore keeps connect sessions in the session table, one item per session keyed by its
// ID. Each transition (open, consume, finish) is one conditional UpdateItem on the status, so of
// two concurrent requests exactly one moves a session on.
type SessionStore struct {
	Client API
	Table  string
}

var _ authflow.SessionStore = (*SessionStore)(nil)

// Session table attributes that expressions name.
const (
	attrSessionID      = "session_id"
	attrSessionStatus  = "status"
	attrSecretHash     = "secret_hash"
	attrConnectBy      = "connect_by"
	attrStateKey       = "state_key"
	attrStateExpiresAt = "state_expires_at"
)

// sessionItem is the session table's item; times are epoch seconds, expires_at is the TTL.
type sessionItem struct {
	SessionID         string `dynamodbav:"session_id"`
	SecretHash        string `dynamodbav:"secret_hash"`
	EndUserID         string `dynamodbav:"end_user_id"`
	Marketplace       string `dynamodbav:"marketplace"`
	Region            string `dynamodbav:"region"`
	AccountType       string `dynamodbav:"account_type"`
	ReturnURL         string `dynamodbav:"return_url,omitempty"`
	AmazonCallbackURI string `dynamodbav:"amazon_callback_uri,omitempty"`
	AmazonState       string `dynamodbav:"amazon_state,omitempty"`
	Status            string `dynamodbav:"status"`
	Error             string `dynamodbav:"error,omitempty"`
	CreatedAt         int64  `dynamodbav:"created_at"`
	ConnectBy         int64  `dynamodbav:"connect_by"`
	OpenedAt          int64  `dynamodbav:"opened_at,omitempty"`
	StateKey          string `dynamodbav:"state_key,omitempty"`
	StateExpiresAt    int64  `dynamodbav:"state_expires_at,omitempty"`
	CompletedAt       int64  `dynamodbav:"completed_at,omitempty"`
	SellingPartnerID  string `dynamodbav:"selling_partner_id,omitempty"`
	OwnerEndUserID    string `dynamodbav:"owner_end_user_id,omitempty"`
	ExpiresAt         int64  `dynamodbav:"expires_at"`
}

func (it sessionItem) session() authflow.Session {
	return authflow.Session{
		ID:                it.SessionID,
		SecretHash:        it.SecretHash,
		EndUserID:         it.EndUserID,
		Marketplace:       it.Marketplace,
		Region:            amazon.Region(it.Region),
		AccountType:       amazon.AccountType(it.AccountType),
		ReturnURL:         it.ReturnURL,
		AmazonCallbackURI: it.AmazonCallbackURI,
		AmazonState:       it.AmazonState,
		Status:            authflow.SessionStatus(it.Status),
		Error:             it.Error,
		CreatedAt:         fromEpoch(it.CreatedAt),
		ConnectBy:         fromEpoch(it.ConnectBy),
		OpenedAt:          fromEpoch(it.OpenedAt),
		StateKey:          it.StateKey,
		StateExpiresAt:    fromEpoch(it.StateExpiresAt),
		CompletedAt:       fromEpoch(it.CompletedAt),
		SellingPartnerID:  it.SellingPartnerID,
		OwnerEndUserID:    it.OwnerEndUserID,
		ExpiresAt:         fromEpoch(it.ExpiresAt),
	}
}

// decodeSession reads a session table item, as GetItem or a conditional write's refusal returns it.
func decodeSession(av map[string]types.AttributeValue) (authflow.Session, error) {
	var it sessionItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return authflow.Session{}, fmt.Errorf("decode session: %w", err)
	}
	return it.session(), nil
}

func sessionKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrSessionID: &types.AttributeValueMemberS{Value: id}}
}

// Create stores a new session; the condition turns an ID collision into an error.
func (s *SessionStore) Create(ctx context.Context, sess authflow.Session) error {
	item, err := attributevalue.MarshalMap(sessionItem{
		SessionID:         sess.ID,
		SecretHash:        sess.SecretHash,
		EndUserID:         sess.EndUserID,
		Marketplace:       sess.Marketplace,
		Region:            string(sess.Region),
		AccountType:       string(sess.AccountType),
		ReturnURL:         sess.ReturnURL,
		AmazonCallbackURI: sess.AmazonCallbackURI,
		AmazonState:       sess.AmazonState,
		Status:            string(sess.Status),
		CreatedAt:         toEpoch(sess.CreatedAt),
		ConnectBy:         toEpoch(sess.ConnectBy),
		ExpiresAt:         toEpoch(sess.ExpiresAt),
	})
	if err != nil {
		return fmt.Errorf("create session: marshal: %w", err)
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.Table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": attrSessionID},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("create session: %w", authflow.ErrSessionExists)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Get reads a session consistently: the backend usually asks right after the callback wrote.
func (s *SessionStore) Get(ctx context.Context, id string) (authflow.Session, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            sessionKey(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return authflow.Session{}, fmt.Errorf("get session: %w", err)
	}
	if out.Item == nil {
		return authflow.Session{}, fmt.Errorf("get session: %w", authflow.ErrSessionNotFound)
	}
	return decodeSession(out.Item)
}

// Open moves a pending, live session whose secret matches to opened and binds it to the new
// state, in one conditional UpdateItem that returns the session. On a failed condition DynamoDB
// returns the item as it is, which tells used from expired from unknown without a second read; a
// wrong secret answers like an unknown session, so that it reveals nothing.
func (s *SessionStore) Open(ctx context.Context, id, secretHash, stateKey string, now, stateExpiresAt time.Time) (authflow.Session, error) {
	status := expression.Name(attrSessionStatus)
	cond := expression.Name(attrSecretHash).Equal(expression.Value(secretHash)).
		And(status.Equal(expression.Value(string(authflow.SessionPending)))).
		And(expression.Name(attrConnectBy).GreaterThan(expression.Value(now.Unix())))
	update := expression.Set(status, expression.Value(string(authflow.SessionOpened))).
		Set(expression.Name("opened_at"), expression.Value(now.Unix())).
		Set(expression.Name(attrStateKey), expression.Value(stateKey)).
		Set(expression.Name(attrStateExpiresAt), expression.Value(stateExpiresAt.Unix()))
	out, failed, err := s.update(ctx, id, update, cond)
	switch {
	case err != nil:
		return authflow.Session{}, fmt.Errorf("open session: %w", err)
	case failed == nil:
		return decodeSession(out)
	}
	old, err := decodeSession(failed)
	switch {
	case err != nil:
		return authflow.Session{}, fmt.Errorf("open session: %w", err)
	case old.ID == "" || old.SecretHash != secretHash:
		return authflow.Session{}, fmt.Errorf("open session: %w", authflow.ErrSessionNotFound)
	case old.Status != authflow.SessionPending:
		return authflow.Session{}, fmt.Errorf("open session: %w", authflow.ErrSessionUsed)
	default:
		return authflow.Session{}, fmt.Errorf("open session: %w", authflow.ErrSessionExpired)
	}
}

// State returns the opened session a live state belongs to.
func (s *SessionStore) State(ctx context.Context, id, stateKey string, now time.Time) (authflow.Session, error) {
	sess, err := s.Get(ctx, id)
	switch {
	case errors.Is(err, authflow.ErrSessionNotFound):
		return authflow.Session{}, fmt.Errorf("session state: %w", authflow.ErrStateNotFound)
	case err != nil:
		return authflow.Session{}, err
	case sess.Status != authflow.SessionOpened || sess.StateKey != stateKey || !now.Before(sess.StateExpiresAt):
		return authflow.Session{}, fmt.Errorf("session state: %w", authflow.ErrStateNotFound)
	}
	return sess, nil
}

// Retarget sets the region and account type of an opened session, if its state is still the one
// given (a consumed or replaced state changes nothing).
func (s *SessionStore) Retarget(ctx context.Context, id, stateKey string, region amazon.Region, t amazon.AccountType) error {
	cond := expression.Name(attrStateKey).Equal(expression.Value(stateKey)).
		And(expression.Name(attrSessionStatus).Equal(expression.Value(string(authflow.SessionOpened))))
	update := expression.Set(expression.Name("region"), expression.Value(string(region))).
		Set(expression.Name("account_type"), expression.Value(string(t)))
	_, failed, err := s.update(ctx, id, update, cond)
	switch {
	case err != nil:
		return fmt.Errorf("retarget session: %w", err)
	case failed != nil:
		return fmt.Errorf("retarget session: %w", authflow.ErrStateNotFound)
	}
	return nil
}

// Consume marks an opened, live session's state as used by a callback, in one conditional
// UpdateItem: of concurrent callbacks exactly one gets the session.
func (s *SessionStore) Consume(ctx context.Context, id, stateKey string, now time.Time) (authflow.Session, error) {
	status := expression.Name(attrSessionStatus)
	cond := expression.Name(attrStateKey).Equal(expression.Value(stateKey)).
		And(status.Equal(expression.Value(string(authflow.SessionOpened)))).
		And(expression.Name(attrStateExpiresAt).GreaterThan(expression.Value(now.Unix())))
	update := expression.Set(status, expression.Value(string(authflow.SessionCallback)))
	out, failed, err := s.update(ctx, id, update, cond)
	switch {
	case err != nil:
		return authflow.Session{}, fmt.Errorf("consume session: %w", err)
	case failed == nil:
		return decodeSession(out)
	}
	old, err := decodeSession(failed)
	switch {
	case err != nil:
		return authflow.Session{}, fmt.Errorf("consume session: %w", err)
	case old.StateKey == stateKey && old.Status == authflow.SessionOpened:
		return authflow.Session{}, fmt.Errorf("consume session: %w", authflow.ErrStateExpired)
	default:
		return authflow.Session{}, fmt.Errorf("consume session: %w", authflow.ErrStateNotFound)
	}
}

// Finish records the outcome of a consumed session.
func (s *SessionStore) Finish(ctx context.Context, id, stateKey string, o authflow.SessionOutcome) error {
	cond, update := sessionOutcome(stateKey, o)
	_, failed, err := s.update(ctx, id, update, cond)
	switch {
	case err != nil:
		return fmt.Errorf("finish session: %w", err)
	case failed != nil:
		return fmt.Errorf("finish session: %w", authflow.ErrStateNotFound)
	}
	return nil
}

// sessionOutcome is the condition and update that record o on a session whose state stateKey a
// callback consumed; the token store uses the same in its transaction.
func sessionOutcome(stateKey string, o authflow.SessionOutcome) (expression.ConditionBuilder, expression.UpdateBuilder) {
	cond := expression.Name(attrStateKey).Equal(expression.Value(stateKey)).
		And(expression.Name(attrSessionStatus).Equal(expression.Value(string(authflow.SessionCallback))))
	update := expression.Set(expression.Name(attrSessionStatus), expression.Value(string(o.Status))).
		Set(expression.Name("completed_at"), expression.Value(o.At.Unix())).
		Set(expression.Name("region"), expression.Value(string(o.Region))).
		Set(expression.Name("account_type"), expression.Value(string(o.AccountType)))
	if o.SellingPartnerID != "" {
		update = update.Set(expression.Name("selling_partner_id"), expression.Value(o.SellingPartnerID))
	}
	if o.Error != "" {
		update = update.Set(expression.Name("error"), expression.Value(o.Error))
	}
	if o.OwnerEndUserID != "" {
		update = update.Set(expression.Name("owner_end_user_id"), expression.Value(o.OwnerEndUserID))
	}
	return cond, update
}

// update runs one conditional UpdateItem on a session. It returns the new item on success, or
// the item as it was (possibly empty) when the condition failed.
func (s *SessionStore) update(ctx context.Context, id string, update expression.UpdateBuilder, cond expression.ConditionBuilder) (map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return nil, nil, fmt.Errorf("build expression: %w", err)
	}
	out, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.Table),
		Key:                                 sessionKey(id),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		if failed.Item == nil {
			return nil, map[string]types.AttributeValue{}, nil
		}
		return nil, failed.Item, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return out.Attributes, nil, nil
}

func isConditionFailed(err error) bool {
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &failed)
}
