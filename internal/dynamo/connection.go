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
	"github.com/sellerauth/sellerauth/internal/refresh"
)

var _ authflow.ConnectionStore = (*TokenStore)(nil)

// maxConnectionsPerEndUser bounds one listing: an end user with more seller-regions than this is
// not a person, and the answer must stay within a Lambda response.
const maxConnectionsPerEndUser = 1000

// Connections lists an end user's connections from the end-user index, which projects no token.
// The index is eventually consistent: a connection made a moment ago may be missing for a
// moment (the session's status is the consistent answer to "did it work").
func (s *TokenStore) Connections(ctx context.Context, endUserID string) ([]authflow.Connection, error) {
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(AttrEndUserID).Equal(expression.Value(endUserID))).
		Build()
	if err != nil {
		return nil, fmt.Errorf("list connections: build expression: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(EndUserIndex),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}
	var out []authflow.Connection
	for p := dynamodb.NewQueryPaginator(s.Client, in); p.HasMorePages() && len(out) < maxConnectionsPerEndUser; {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
		for _, av := range page.Items {
			it, err := DecodeItem(av)
			if err != nil {
				return nil, fmt.Errorf("list connections: %w", err)
			}
			out = append(out, authflow.Connection{
				SellingPartnerID: it.SellingPartnerID,
				Region:           it.Region,
				AccountType:      it.AccountType,
				Status:           string(it.Status),
				EndUserID:        it.EndUserID,
				AuthorizedAt:     it.AuthorizedAt,
				ReauthorizeBy:    it.ReauthorizeBy,
			})
		}
	}
	return out, nil
}

// Disconnect deletes a connection's item, tokens and history with it, in one conditional
// DeleteItem. With endUserID it deletes only that user's connection.
func (s *TokenStore) Disconnect(ctx context.Context, sellingPartnerID string, region amazon.Region, endUserID string) error {
	cond := expression.AttributeExists(expression.Name(AttrSellingPartnerID))
	if endUserID != "" {
		cond = cond.And(expression.Name(AttrEndUserID).Equal(expression.Value(endUserID)))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("disconnect: build expression: %w", err)
	}
	_, err = s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           aws.String(s.Table),
		Key:                                 tokenKey(sellingPartnerID, region),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed) && failed.Item == nil:
		return fmt.Errorf("disconnect: %w", authflow.ErrConnectionNotFound)
	case errors.As(err, &failed):
		return fmt.Errorf("disconnect: %w", authflow.ErrConnectedToAnotherUser)
	case err != nil:
		return fmt.Errorf("disconnect: %w", err)
	}
	return nil
}

// Errors of Restore.
var (
	ErrNothingToRestore = errors.New("no replaced refresh token is kept for this connection")
	ErrHistoryExpired   = errors.New("the replaced refresh token is past its retention")
)

// Restore puts back the refresh token (and end user) that the last authorization replaced, and
// keeps the current one in its place, so a restore can itself be undone. The item becomes active
// and due for refresh now, which both checks the restored token with LWA and gets a fresh access
// token. It is an operator's step (docs/operations.md): a read, then one UpdateItem conditional
// on the version read, so a write in between makes it fail rather than mix two states.
func (s *TokenStore) Restore(ctx context.Context, sellingPartnerID string, region amazon.Region) (Item, error) {
	it, err := s.Get(ctx, sellingPartnerID, region)
	if err != nil {
		return Item{}, fmt.Errorf("restore: %w", err)
	}
	now := s.now()
	switch {
	case it.PreviousRefreshToken == "":
		return Item{}, fmt.Errorf("restore: %w", ErrNothingToRestore)
	case !now.Before(it.PreviousKeptUntil):
		return Item{}, fmt.Errorf("restore: %w", ErrHistoryExpired)
	}
	owner := expression.Name(AttrEndUserID)
	update := expression.
		Set(expression.Name(AttrRefreshToken), expression.Value(it.PreviousRefreshToken)).
		Set(expression.Name(AttrPreviousRefreshToken), expression.Value(it.RefreshToken)).
		Set(expression.Name(AttrPreviousEndUserID), expression.Value(it.EndUserID)).
		Set(expression.Name(AttrPreviousStatus), expression.Value(string(it.Status))).
		Set(expression.Name(AttrPreviousAuthorizedAt), expression.Value(it.AuthorizedAt.Unix())).
		Set(expression.Name(AttrPreviousKeptUntil), expression.Value(now.Add(s.retention()).Unix())).
		Set(expression.Name(AttrStatus), expression.Value(string(StatusActive))).
		Set(expression.Name(AttrUpdatedAt), expression.Value(now.Unix())).
		Set(expression.Name(AttrRefreshShard), expression.Value(Shard(sellingPartnerID, region))).
		Set(expression.Name(AttrRefreshDueAt), expression.Value(now.Unix())).
		// The access token belongs to the replaced authorization: readers must not use it.
		Set(expression.Name(AttrAccessTokenExpiresAt), expression.Value(now.Unix())).
		Remove(expression.Name(AttrAccessToken)).
		Remove(expression.Name(AttrExpiresAt)).
		Remove(expression.Name(AttrInvalidGrantCount)).
		Remove(expression.Name(AttrInvalidGrantFirstAt)).
		Remove(expression.Name(AttrReauthorizationNotice)).
		Set(expression.Name(AttrLifecycle), expression.Value(LifecycleRestored)).
		Add(expression.Name(AttrVersion), expression.Value(1))
	if it.PreviousAuthorizedAt.IsZero() {
		update = update.Remove(expression.Name(AttrAuthorizedAt)).Remove(expression.Name(AttrAuthorizedAtMs))
	} else {
		update = update.Set(expression.Name(AttrAuthorizedAt), expression.Value(it.PreviousAuthorizedAt.Unix())).
			Set(expression.Name(AttrAuthorizedAtMs), expression.Value(it.PreviousAuthorizedAt.UnixMilli())).
			Set(expression.Name(AttrReauthorizeBy), expression.Value(it.PreviousAuthorizedAt.Add(reauthorizeAfter).Unix()))
	}
	if it.PreviousEndUserID != "" {
		update = update.Set(owner, expression.Value(it.PreviousEndUserID))
	} else {
		update = update.Remove(owner)
	}
	cond := expression.Name(AttrVersion).Equal(expression.Value(it.Version))
	_, err = s.update(ctx, "restore", sellingPartnerID, region, update, cond, types.ReturnValueNone)
	if errors.Is(err, refresh.ErrConflict) {
		return Item{}, errors.New("restore: the connection changed while restoring; run it again")
	}
	if err != nil {
		return Item{}, err
	}
	return s.Get(ctx, sellingPartnerID, region)
}

func (s *TokenStore) retention() time.Duration {
	if s.HistoryRetention <= 0 {
		return DefaultHistoryRetention
	}
	return s.HistoryRetention
}
