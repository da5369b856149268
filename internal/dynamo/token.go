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
	// Now stamps updated_at; nil means time.Now.
	Now func() time.Time
}

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

// SaveAuthorization writes a new authorization in one conditional UpdateItem, so nothing is ever
// half-written and no read can race the write. The condition on authorized_at keeps a slow
// callback from overwriting a later authorization of the same seller; an equal authorized_at is
// accepted so that a retried save succeeds. It also revives a dead item (removes the TTL and the
// refresh-failure bookkeeping) and schedules the next refresh.
func (s *TokenStore) SaveAuthorization(ctx context.Context, a authflow.Authorization) error {
	switch {
	case a.SellingPartnerID == "":
		return errors.New("save authorization: empty selling partner ID")
	case !a.Region.Valid():
		return fmt.Errorf("save authorization: invalid region %q", a.Region)
	case a.RefreshToken == "":
		return errors.New("save authorization: empty refresh token")
	case a.AuthorizedAt.IsZero() || a.AccessTokenExpiresAt.IsZero():
		return errors.New("save authorization: missing authorization or expiry time")
	}
	authorizedAt := a.AuthorizedAt.Unix()
	expiresAt := a.AccessTokenExpiresAt.Unix()

	update := expression.
		Set(expression.Name(AttrRefreshToken), expression.Value(a.RefreshToken)).
		Set(expression.Name(AttrAccessToken), expression.Value(a.AccessToken)).
		Set(expression.Name(AttrAccessTokenExpiresAt), expression.Value(expiresAt)).
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
		Add(expression.Name(AttrVersion), expression.Value(1))
	if a.MWSAuthToken != "" {
		update = update.Set(expression.Name(AttrMWSAuthToken), expression.Value(a.MWSAuthToken))
	} else {
		update = update.Remove(expression.Name(AttrMWSAuthToken))
	}
	// Only a later authorization replaces the stored one, to the millisecond: of two callbacks of
	// one seller in the same second, the one that began later wins even if it finishes first. The
	// same instant again is a retried save, and is answered as "a newer one is stored" (the
	// callback treats that as done). An item written before authorized_at_ms existed compares on
	// authorized_at's seconds.
	ms := expression.Name(AttrAuthorizedAtMs)
	cond := ms.LessThan(expression.Value(a.AuthorizedAt.UnixMilli())).
		Or(expression.AttributeNotExists(ms).And(
			expression.AttributeNotExists(expression.Name(AttrAuthorizedAt)).
				Or(expression.Name(AttrAuthorizedAt).LessThanEqual(expression.Value(authorizedAt)))))
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("save authorization: build expression: %w", err)
	}
	_, err = s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       tokenKey(a.SellingPartnerID, a.Region),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return fmt.Errorf("save authorization: %w", authflow.ErrNewerAuthorization)
		}
		return fmt.Errorf("save authorization: %w", err)
	}
	return nil
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
