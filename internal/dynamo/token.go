package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
)

// reauthorizeAfter is how long Amazon honours an authorization before the seller must authorize
// the app again.
const reauthorizeAfter = 365 * 24 * time.Hour

// TokenStore keeps authorizations in the token table, one item per seller and region.
type TokenStore struct {
	Client API
	Table  string
	// SessionTable is where SaveAuthorization records a session's outcome.
	SessionTable string
	// HistoryRetention is how long a replaced refresh token is kept for an operator to restore
	// (HISTORY_RETENTION_DAYS); zero means DefaultHistoryRetention.
	HistoryRetention time.Duration
	// Now stamps updated_at; nil means time.Now.
	Now func() time.Time
}

// DefaultHistoryRetention keeps a replaced refresh token 90 days.
const DefaultHistoryRetention = 90 * 24 * time.Hour

var _ authflow.TokenStore = (*TokenStore)(nil)

func (s *TokenStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func tokenKey(sellingPartnerID string, region amazon.Region) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrSellingPartnerID: &types.AttributeValueMemberS{Value: sellingPartnerID},
		AttrRegion:           &types.AttributeValueMemberS{Value: string(region)},
	}
}

// SaveAuthorization writes a new authorization in one conditional UpdateItem, or, for a
// session's flow, in one TransactWriteItems that also records the session's outcome: nothing is
// ever half-written and no read can race the write.
//
// The condition holds two rules. Ownership: an item is replaced only when it holds no active
// authorization, or one of the same end user (a renewal; an anonymous authorization replaces only
// an anonymous one). Order: a slow callback never overwrites a later authorization of the same
// seller. The update keeps what it replaces (refresh token, end user, status, authorized_at) in
// the item's previous_* attributes, copied by DynamoDB from the old item in the same write, so a
// replaced refresh token survives HistoryRetention without a read before the write. It also
// revives a dead item (removes the TTL and the refresh-failure bookkeeping) and schedules the next
// refresh.
func (s *TokenStore) SaveAuthorization(ctx context.Context, a authflow.Authorization) error {
	if err := checkAuthorization(a); err != nil {
		return fmt.Errorf("save authorization: %w", err)
	}
	expr, err := s.authorizationExpression(a)
	if err != nil {
		return fmt.Errorf("save authorization: build expression: %w", err)
	}
	update := &types.Update{
		TableName:                           aws.String(s.Table),
		Key:                                 tokenKey(a.SellingPartnerID, a.Region),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	var old map[string]types.AttributeValue
	var refused bool
	if a.Session == nil {
		old, refused, err = s.updateAuthorization(ctx, update)
	} else {
		old, refused, err = s.transactAuthorization(ctx, update, a.Session)
	}
	switch {
	case err != nil:
		return fmt.Errorf("save authorization: %w", err)
	case !refused:
		return nil
	}
	return fmt.Errorf("save authorization: %w", refusal(old, a.EndUserID))
}

// checkAuthorization refuses an authorization that lacks what the item needs.
func checkAuthorization(a authflow.Authorization) error {
	switch {
	case a.SellingPartnerID == "":
		return errors.New("empty selling partner ID")
	case !a.Region.Valid():
		return fmt.Errorf("invalid region %q", a.Region)
	case a.RefreshToken == "":
		return errors.New("empty refresh token")
	case a.AuthorizedAt.IsZero() || a.AccessTokenExpiresAt.IsZero():
		return errors.New("missing authorization or expiry time")
	case a.Session != nil && a.EndUserID == "":
		return errors.New("a session's authorization needs its end user")
	}
	return nil
}

// updateAuthorization writes an authorization that belongs to no session, in one UpdateItem.
// refused means the condition failed; old is then the item that refused it.
func (s *TokenStore) updateAuthorization(ctx context.Context, update *types.Update) (old map[string]types.AttributeValue, refused bool, err error) {
	_, err = s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           update.TableName,
		Key:                                 update.Key,
		UpdateExpression:                    update.UpdateExpression,
		ConditionExpression:                 update.ConditionExpression,
		ExpressionAttributeNames:            update.ExpressionAttributeNames,
		ExpressionAttributeValues:           update.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if !errors.As(err, &failed) {
		return nil, false, err
	}
	return failed.Item, true, nil
}

// transactAuthorization writes a session's authorization and the session's outcome in one
// TransactWriteItems. refused means the token item's condition failed; old is then the item that
// refused it.
func (s *TokenStore) transactAuthorization(ctx context.Context, update *types.Update, sess *authflow.SessionRef) (old map[string]types.AttributeValue, refused bool, err error) {
	sessCond, sessUpdate := sessionOutcome(sess.StateKey, sess.Outcome)
	sessExpr, err := expression.NewBuilder().WithUpdate(sessUpdate).WithCondition(sessCond).Build()
	if err != nil {
		return nil, false, fmt.Errorf("build session expression: %w", err)
	}
	_, err = s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: update},
			{Update: &types.Update{
				TableName:                 aws.String(s.SessionTable),
				Key:                       sessionKey(sess.ID),
				UpdateExpression:          sessExpr.Update(),
				ConditionExpression:       sessExpr.Condition(),
				ExpressionAttributeNames:  sessExpr.Names(),
				ExpressionAttributeValues: sessExpr.Values(),
			}},
		},
	})
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return nil, false, err
	}
	reasons := canceled.CancellationReasons
	if len(reasons) < 1 || aws.ToString(reasons[0].Code) != "ConditionalCheckFailed" {
		// The session's condition failed, or DynamoDB refused for another reason
		// (a conflicting transaction): nothing was written, the callback may be retried.
		return nil, false, fmt.Errorf("transaction canceled: %w", err)
	}
	return reasons[0].Item, true, nil
}

// refusal says why the write's condition refused an authorization of endUserID, from the item
// that refused it (nil if DynamoDB did not return it): another end user's active authorization,
// or a later authorization of the same seller.
func refusal(old map[string]types.AttributeValue, endUserID string) error {
	if old != nil {
		it, err := DecodeItem(old)
		if err != nil {
			return err
		}
		if it.Status == StatusActive && it.EndUserID != endUserID {
			return &authflow.ConflictError{Owner: it.EndUserID}
		}
	}
	return authflow.ErrNewerAuthorization
}

// authorizationExpression is SaveAuthorization's update and condition.
func (s *TokenStore) authorizationExpression(a authflow.Authorization) (expression.Expression, error) {
	authorizedAt := a.AuthorizedAt.Unix()
	retention := s.retention()
	// "" (stored as NULL) marks "nothing replaced" on a first authorization: DynamoDB's SET cannot
	// copy an attribute that does not exist, and if_not_exists gives it a value to copy instead.
	none := expression.Value("")
	update := expression.
		Set(expression.Name(AttrPreviousRefreshToken), expression.Name(AttrRefreshToken).IfNotExists(none)).
		Set(expression.Name(AttrPreviousEndUserID), expression.Name(AttrEndUserID).IfNotExists(none)).
		Set(expression.Name(AttrPreviousStatus), expression.Name(AttrStatus).IfNotExists(none)).
		Set(expression.Name(AttrPreviousAuthorizedAt), expression.Name(AttrAuthorizedAt).IfNotExists(expression.Value(0))).
		Set(expression.Name(AttrPreviousKeptUntil), expression.Value(a.AuthorizedAt.Add(retention).Unix())).
		Set(expression.Name(AttrRefreshToken), expression.Value(a.RefreshToken)).
		Set(expression.Name(AttrAccessToken), expression.Value(a.AccessToken)).
		Set(expression.Name(AttrAccessTokenExpiresAt), expression.Value(a.AccessTokenExpiresAt.Unix())).
		Set(expression.Name(AttrStatus), expression.Value(string(StatusActive))).
		Set(expression.Name(AttrAccountType), expression.Value(string(a.AccountType))).
		Set(expression.Name(AttrAuthorizedAt), expression.Value(authorizedAt)).
		Set(expression.Name(AttrAuthorizedAtMs), expression.Value(a.AuthorizedAt.UnixMilli())).
		Set(expression.Name(AttrReauthorizeBy), expression.Value(a.AuthorizedAt.Add(reauthorizeAfter).Unix())).
		Set(expression.Name(AttrUpdatedAt), expression.Value(s.now().Unix())).
		Set(expression.Name(AttrRefreshShard), expression.Value(Shard(a.SellingPartnerID, a.Region))).
		Set(expression.Name(AttrRefreshDueAt), expression.Value(a.AccessTokenExpiresAt.Add(-RefreshLead).Unix())).
		Remove(expression.Name(AttrExpiresAt)).
		Remove(expression.Name(AttrInvalidGrantCount)).
		Remove(expression.Name(AttrInvalidGrantFirstAt)).
		Remove(expression.Name(AttrReauthorizationNotice)).
		Set(expression.Name(AttrLifecycle), expression.Value(LifecycleAuthorized)).
		Add(expression.Name(AttrVersion), expression.Value(1))
	if a.Session != nil {
		update = update.Set(expression.Name(AttrSessionID), expression.Value(a.Session.ID))
	} else {
		update = update.Remove(expression.Name(AttrSessionID))
	}
	if a.MWSAuthToken != "" {
		update = update.Set(expression.Name(AttrMWSAuthToken), expression.Value(a.MWSAuthToken))
	} else {
		update = update.Remove(expression.Name(AttrMWSAuthToken))
	}
	status, owner := expression.Name(AttrStatus), expression.Name(AttrEndUserID)
	free := expression.AttributeNotExists(status).Or(status.NotEqual(expression.Value(string(StatusActive))))
	var ownership expression.ConditionBuilder
	if a.EndUserID != "" {
		update = update.Set(owner, expression.Value(a.EndUserID))
		ownership = free.Or(owner.Equal(expression.Value(a.EndUserID)))
	} else {
		update = update.Remove(owner)
		ownership = free.Or(expression.AttributeNotExists(owner))
	}
	// Only a later authorization replaces the stored one, to the millisecond: of two callbacks of
	// one seller in the same second, the one that began later wins even if it finishes first. The
	// same instant again is a retried save, and is answered as "a newer one is stored" (the
	// callback treats that as done). An item written before authorized_at_ms existed compares on
	// authorized_at's seconds.
	ms := expression.Name(AttrAuthorizedAtMs)
	order := ms.LessThan(expression.Value(a.AuthorizedAt.UnixMilli())).
		Or(expression.AttributeNotExists(ms).And(
			expression.AttributeNotExists(expression.Name(AttrAuthorizedAt)).
				Or(expression.Name(AttrAuthorizedAt).LessThanEqual(expression.Value(authorizedAt)))))
	return expression.NewBuilder().WithUpdate(update).WithCondition(ownership.And(order)).Build()
}

// Get reads one authorization, consistently, so a reader right after a save or a refresh sees it.
// It returns the item whatever its status; ErrNotFound when there is none.
func (s *TokenStore) Get(ctx context.Context, sellingPartnerID string, region amazon.Region) (Item, error) {
	switch {
	case sellingPartnerID == "":
		return Item{}, errors.New("get authorization: empty selling partner ID")
	case !region.Valid():
		return Item{}, fmt.Errorf("get authorization: invalid region %q", region)
	}
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            tokenKey(sellingPartnerID, region),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Item{}, fmt.Errorf("get authorization: %w", err)
	}
	if out.Item == nil {
		return Item{}, fmt.Errorf("get authorization: %w", ErrNotFound)
	}
	item, err := DecodeItem(out.Item)
	if err != nil {
		return Item{}, fmt.Errorf("get authorization: %w", err)
	}
	return item, nil
}
