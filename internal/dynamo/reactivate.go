package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/refresh"
)

// reactivateConcurrency bounds the re-activation writes in flight.
const reactivateConcurrency = 16

// ErrCannotScan is returned by Reactivate when the store's client has no Scan (a test double).
var ErrCannotScan = errors.New("the DynamoDB client cannot Scan")

// Reactivate puts back to work the connections marked reauthorization_required between
// markedSince and until (both included; a zero until means now): the repair after marks made by
// mistake, e.g. while the secret held another app's credentials or LWA answered invalid_grant
// wrongly. The mark kept their tokens (it only set the TTL), so each becomes active again, due
// for refresh now (the next refresh run asks LWA whether its refresh token is good, and marks it
// again after the usual confirmations if it is not), with its TTL and invalid_grant bookkeeping
// removed. Each is one UpdateItem conditional on the status and the version read, with the
// lifecycle marker "restored": the events function sends one event for it. A connection that
// changed since the read (re-authorized, disconnected) is left as it is and not counted.
//
// The time of the mark is updated_at: the mark sets it, and no later write of a dead connection
// changes it (every other writer needs an active connection, makes it active, or deletes it).
//
// Reading: a Scan of the token table with a filter, consistent. It reads every item once (one
// read unit per 4 KB of table, e.g. ~37,000 units for 100,000 connections of 1.5 KB) and is
// meant for an operator's rare repair, not for a function's schedule: dead connections are in no
// index (refresh-due is sparse on purpose, and its keys are documented to apps as active-only;
// end-user does not hold anonymous connections), and a GSI for this repair would cost every mark
// and every re-authorization an index write.
func (s *TokenStore) Reactivate(ctx context.Context, markedSince, until time.Time) (int, error) {
	const op = "reactivate"
	now := s.now()
	if until.IsZero() {
		until = now
	}
	switch {
	case markedSince.IsZero():
		return 0, fmt.Errorf("%s: no start of the window", op)
	case until.Before(markedSince):
		return 0, fmt.Errorf("%s: the window ends (%s) before it starts (%s)", op,
			until.UTC().Format(time.RFC3339), markedSince.UTC().Format(time.RFC3339))
	}
	scanner, ok := s.Client.(dynamodb.ScanAPIClient)
	if !ok {
		return 0, fmt.Errorf("%s: %w", op, ErrCannotScan)
	}
	filter := expression.Name(AttrStatus).Equal(expression.Value(string(StatusReauthorizationRequired))).
		And(expression.Name(AttrUpdatedAt).Between(expression.Value(markedSince.Unix()), expression.Value(until.Unix())))
	proj := expression.NamesList(expression.Name(AttrSellingPartnerID), expression.Name(AttrRegion),
		expression.Name(AttrVersion), expression.Name(AttrStatus), expression.Name(AttrUpdatedAt))
	expr, err := expression.NewBuilder().WithFilter(filter).WithProjection(proj).Build()
	if err != nil {
		return 0, fmt.Errorf("%s: build expression: %w", op, err)
	}
	pages := dynamodb.NewScanPaginator(scanner, &dynamodb.ScanInput{
		TableName:                 aws.String(s.Table),
		FilterExpression:          expr.Filter(),
		ProjectionExpression:      expr.Projection(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	})

	var done atomic.Int64
	var failMu sync.Mutex
	var failed error
	sem := make(chan struct{}, reactivateConcurrency)
	var writes sync.WaitGroup
	defer writes.Wait()
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			writes.Wait()
			return int(done.Load()), fmt.Errorf("%s: scan: %w", op, err)
		}
		for _, av := range out.Items {
			var m struct {
				SellingPartnerID string `dynamodbav:"selling_partner_id"`
				Region           string `dynamodbav:"region"`
				Version          int64  `dynamodbav:"version"`
			}
			if err := attributevalue.UnmarshalMap(av, &m); err != nil {
				writes.Wait()
				return int(done.Load()), fmt.Errorf("%s: decode: %w", op, err)
			}
			sem <- struct{}{}
			writes.Go(func() {
				defer func() { <-sem }()
				switch err := s.reactivate(ctx, m.SellingPartnerID, amazon.Region(m.Region), m.Version, now); {
				case err == nil:
					done.Add(1)
				case errors.Is(err, refresh.ErrConflict): // changed since the scan: leave it
				default:
					failMu.Lock()
					failed = errors.Join(failed, err)
					failMu.Unlock()
				}
			})
		}
		writes.Wait()
		if failed != nil {
			return int(done.Load()), fmt.Errorf("%s: %w", op, failed)
		}
	}
	return int(done.Load()), nil
}

// reactivate is the one write of Reactivate for one connection.
func (s *TokenStore) reactivate(ctx context.Context, id string, region amazon.Region, version int64, now time.Time) error {
	upd := expression.
		Set(expression.Name(AttrStatus), expression.Value(string(StatusActive))).
		Set(expression.Name(AttrUpdatedAt), expression.Value(now.Unix())).
		// Back in the refresh-due index, due now: the next run checks the token with LWA.
		Set(expression.Name(AttrRefreshShard), expression.Value(Shard(id, region))).
		Set(expression.Name(AttrRefreshDueAt), expression.Value(now.Unix())).
		Remove(expression.Name(AttrExpiresAt)). // the TTL: the connection is no longer dead
		Remove(expression.Name(AttrInvalidGrantCount)).
		Remove(expression.Name(AttrInvalidGrantFirstAt)).
		Set(expression.Name(AttrLifecycle), expression.Value(LifecycleRestored)).
		Add(expression.Name(AttrVersion), expression.Value(1))
	cond := expression.Name(AttrStatus).Equal(expression.Value(string(StatusReauthorizationRequired))).
		And(expression.Name(AttrVersion).Equal(expression.Value(version)))
	_, err := s.update(ctx, "reactivate "+id+" "+string(region), id, region, upd, cond, types.ReturnValueNone)
	return err
}
