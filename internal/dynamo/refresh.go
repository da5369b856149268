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
	"github.com/sellerauth/sellerauth/internal/refresh"
)

var _ refresh.Store = (*TokenStore)(nil)

// DueShards implements refresh.Store.
func (s *TokenStore) DueShards() int { return DueShards }

// dueEntry is what the refresh-due index projects.
type dueEntry struct {
	SellingPartnerID string `dynamodbav:"selling_partner_id"`
	Region           string `dynamodbav:"region"`
	RefreshToken     string `dynamodbav:"refresh_token"`
	Version          int64  `dynamodbav:"version"`
	Status           string `dynamodbav:"status"`
	RefreshDueAt     int64  `dynamodbav:"refresh_due_at"`
	ReauthorizeBy    int64  `dynamodbav:"reauthorize_by"`
	InvalidGrants    int    `dynamodbav:"invalid_grant_count"`
}

// Due queries one shard of the sparse refresh-due index, page by page. Only active
// authorizations carry refresh_shard, so every entry read is a token to refresh: a run reads
// about as many items as it refreshes, whatever the size of the table.
func (s *TokenStore) Due(ctx context.Context, shard int, until time.Time, fn func([]refresh.Due) error) error {
	if shard < 0 || shard >= DueShards {
		return fmt.Errorf("query due: shard %d out of range", shard)
	}
	key := expression.Key(AttrRefreshShard).Equal(expression.Value(shard)).
		And(expression.Key(AttrRefreshDueAt).LessThanEqual(expression.Value(until.Unix())))
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return fmt.Errorf("query due: build expression: %w", err)
	}
	pages := dynamodb.NewQueryPaginator(s.Client, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(RefreshDueIndex),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("query due shard %d: %w", shard, err)
		}
		page := make([]refresh.Due, 0, len(out.Items))
		for _, av := range out.Items {
			var e dueEntry
			if err := attributevalue.UnmarshalMap(av, &e); err != nil {
				return fmt.Errorf("query due shard %d: decode: %w", shard, err)
			}
			if e.Status != string(StatusActive) || e.RefreshToken == "" {
				continue // a stale index entry; the item has left the index already
			}
			page = append(page, refresh.Due{
				SellingPartnerID: e.SellingPartnerID,
				Region:           amazon.Region(e.Region),
				RefreshToken:     e.RefreshToken,
				Version:          e.Version,
				DueAt:            fromEpoch(e.RefreshDueAt),
				ReauthorizeBy:    fromEpoch(e.ReauthorizeBy),
				InvalidGrants:    e.InvalidGrants,
			})
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
	}
	return nil
}

// activeAt is the condition of every refresh write: the item is the version that was read, and
// still active (a dead or re-authorized item is never touched by a stale reader).
func activeAt(version int64) expression.ConditionBuilder {
	return expression.Name(AttrVersion).Equal(expression.Value(version)).
		And(expression.Name(AttrStatus).Equal(expression.Value(string(StatusActive))))
}

// update runs one conditional UpdateItem and returns the updated attributes; a failed condition
// is refresh.ErrConflict.
func (s *TokenStore) update(ctx context.Context, op, id string, region amazon.Region, upd expression.UpdateBuilder, cond expression.ConditionBuilder, ret types.ReturnValue) (map[string]types.AttributeValue, error) {
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("%s: build expression: %w", op, err)
	}
	out, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       tokenKey(id, region),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ReturnValues:              ret,
	})
	if err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return nil, fmt.Errorf("%s: %w", op, refresh.ErrConflict)
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out.Attributes, nil
}

// Claim implements refresh.Store: it moves refresh_due_at past the run's window and bumps the
// version, so that an overlapping run's claim of the same entry fails before it calls LWA.
func (s *TokenStore) Claim(ctx context.Context, d refresh.Due, until, now time.Time) (int64, error) {
	upd := expression.
		Set(expression.Name(AttrRefreshDueAt), expression.Value(until.Unix())).
		Set(expression.Name(AttrUpdatedAt), expression.Value(now.Unix())).
		Remove(expression.Name(AttrLifecycle)).
		Add(expression.Name(AttrVersion), expression.Value(1))
	if _, err := s.update(ctx, "claim refresh", d.SellingPartnerID, d.Region, upd, activeAt(d.Version), types.ReturnValueNone); err != nil {
		return 0, err
	}
	return d.Version + 1, nil // the condition pinned the version read
}

// SaveRefreshed implements refresh.Store and is the one write of a refreshed token, for the
// scheduled job and the reader's on-demand refresh alike.
func (s *TokenStore) SaveRefreshed(ctx context.Context, r refresh.Refreshed) (int64, error) {
	const op = "save refreshed token"
	switch {
	case r.AccessToken == "" || r.RefreshToken == "":
		return 0, fmt.Errorf("%s: empty token", op)
	case r.AccessTokenExpiresAt.IsZero():
		return 0, fmt.Errorf("%s: no expiry", op)
	}
	// The write names only what changes: it is the one write per refresh, every refresh of every
	// seller, so each clause is paid about 40 times a day per seller (and on moto, a clause is
	// ~0.4 ms of a serialised server). refresh_shard is left alone: growing DueShards keeps every
	// old shard number valid.
	upd := expression.
		Set(expression.Name(AttrAccessToken), expression.Value(r.AccessToken)).
		Set(expression.Name(AttrAccessTokenExpiresAt), expression.Value(r.AccessTokenExpiresAt.Unix())).
		Set(expression.Name(AttrUpdatedAt), expression.Value(r.UpdatedAt.Unix())).
		Set(expression.Name(AttrRefreshDueAt), expression.Value(r.AccessTokenExpiresAt.Add(-RefreshLead).Unix())).
		// A plain refresh is no lifecycle change: without the marker the stream filter drops it.
		Remove(expression.Name(AttrLifecycle)).
		Add(expression.Name(AttrVersion), expression.Value(1))
	if r.RefreshToken != r.PreviousRefreshToken {
		upd = upd.Set(expression.Name(AttrRefreshToken), expression.Value(r.RefreshToken))
	}
	if r.ClearInvalidGrants {
		upd = upd.Remove(expression.Name(AttrInvalidGrantCount)).Remove(expression.Name(AttrInvalidGrantFirstAt))
	}
	// The condition pins the version read, so the new one is known without asking for it back.
	if _, err := s.update(ctx, op, r.SellingPartnerID, r.Region, upd, activeAt(r.ReadVersion), types.ReturnValueNone); err != nil {
		return 0, err
	}
	return r.ReadVersion + 1, nil
}

// RecordInvalidGrant implements refresh.Store.
func (s *TokenStore) RecordInvalidGrant(ctx context.Context, d refresh.Due, now, retryAt time.Time) (refresh.InvalidGrants, error) {
	const op = "record invalid_grant"
	upd := expression.
		Set(expression.Name(AttrInvalidGrantFirstAt),
			expression.IfNotExists(expression.Name(AttrInvalidGrantFirstAt), expression.Value(now.Unix()))).
		Set(expression.Name(AttrRefreshDueAt), expression.Value(retryAt.Unix())).
		Set(expression.Name(AttrUpdatedAt), expression.Value(now.Unix())).
		Remove(expression.Name(AttrLifecycle)).
		Add(expression.Name(AttrInvalidGrantCount), expression.Value(1)).
		Add(expression.Name(AttrVersion), expression.Value(1))
	// ALL_NEW: the first-seen time must come back even when if_not_exists kept it.
	attrs, err := s.update(ctx, op, d.SellingPartnerID, d.Region, upd, activeAt(d.Version), types.ReturnValueAllNew)
	if err != nil {
		return refresh.InvalidGrants{}, err
	}
	var v struct {
		Count   int   `dynamodbav:"invalid_grant_count"`
		FirstAt int64 `dynamodbav:"invalid_grant_first_at"`
		Version int64 `dynamodbav:"version"`
	}
	if err := attributevalue.UnmarshalMap(attrs, &v); err != nil || v.Version == 0 || v.Count == 0 || v.FirstAt == 0 {
		return refresh.InvalidGrants{}, fmt.Errorf("%s: unexpected answer", op)
	}
	return refresh.InvalidGrants{Count: v.Count, FirstAt: fromEpoch(v.FirstAt), Version: v.Version}, nil
}

// MarkReauthorizationRequired implements refresh.Store. The tokens stay (a re-authorization
// replaces them); the item leaves the due index and gets its TTL.
func (s *TokenStore) MarkReauthorizationRequired(ctx context.Context, d refresh.Due, now, expiresAt time.Time) error {
	upd := expression.
		Set(expression.Name(AttrStatus), expression.Value(string(StatusReauthorizationRequired))).
		Set(expression.Name(AttrExpiresAt), expression.Value(expiresAt.Unix())).
		Set(expression.Name(AttrUpdatedAt), expression.Value(now.Unix())).
		Remove(expression.Name(AttrRefreshShard)).
		Remove(expression.Name(AttrRefreshDueAt)).
		Set(expression.Name(AttrLifecycle), expression.Value(LifecycleReauthorizationRequired)).
		Add(expression.Name(AttrVersion), expression.Value(1))
	_, err := s.update(ctx, "mark reauthorization_required", d.SellingPartnerID, d.Region, upd, activeAt(d.Version), types.ReturnValueNone)
	return err
}

// NoteReauthorizationDue implements refresh.Store: it records that the reminder daysLeft (30, 7
// or 1) of this authorization is due, once: the condition holds only for the authorization whose
// reauthorize_by the job read, and only if no reminder as close was recorded yet. The write bumps
// the version and carries the lifecycle marker, so it becomes one Connection Reauthorization Due
// event. refresh.ErrConflict when it was already noted (or the item changed).
func (s *TokenStore) NoteReauthorizationDue(ctx context.Context, d refresh.Due, daysLeft int, now time.Time) error {
	notice := expression.Name(AttrReauthorizationNotice)
	cond := expression.Name(AttrStatus).Equal(expression.Value(string(StatusActive))).
		And(expression.Name(AttrReauthorizeBy).Equal(expression.Value(d.ReauthorizeBy.Unix()))).
		And(expression.AttributeNotExists(notice).Or(notice.GreaterThan(expression.Value(daysLeft))))
	upd := expression.
		Set(notice, expression.Value(daysLeft)).
		Set(expression.Name(AttrLifecycle), expression.Value(LifecycleReauthorizationDue)).
		Set(expression.Name(AttrUpdatedAt), expression.Value(now.Unix())).
		Add(expression.Name(AttrVersion), expression.Value(1))
	_, err := s.update(ctx, "note reauthorization due", d.SellingPartnerID, d.Region, upd, cond, types.ReturnValueNone)
	return err
}
