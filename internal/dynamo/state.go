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

// StateStore keeps pending authorization states in the state table, one item per state keyed by
// the state's hash (authflow.PendingState.Key).
type StateStore struct {
	Client API
	Table  string
}

var _ authflow.StateStore = (*StateStore)(nil)

// stateItem is the state table's item. Times are epoch seconds; expires_at is also the table's
// TTL attribute.
type stateItem struct {
	PK          string `dynamodbav:"pk"`
	Marketplace string `dynamodbav:"marketplace"`
	Region      string `dynamodbav:"region"`
	AccountType string `dynamodbav:"account_type"`
	Flow        string `dynamodbav:"flow"`
	CreatedAt   int64  `dynamodbav:"created_at"`
	ExpiresAt   int64  `dynamodbav:"expires_at"`
}

func (it stateItem) pendingState() authflow.PendingState {
	return authflow.PendingState{
		Key:         it.PK,
		Marketplace: it.Marketplace,
		Region:      amazon.Region(it.Region),
		AccountType: amazon.AccountType(it.AccountType),
		Flow:        authflow.Flow(it.Flow),
		CreatedAt:   time.Unix(it.CreatedAt, 0).UTC(),
		ExpiresAt:   time.Unix(it.ExpiresAt, 0).UTC(),
	}
}

func (s *StateStore) key(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}
}

// Put stores a new state. The condition makes a key collision an error instead of a silent
// overwrite of somebody else's pending authorization.
func (s *StateStore) Put(ctx context.Context, ps authflow.PendingState) error {
	if ps.Key == "" {
		return errors.New("put state: empty key")
	}
	item, err := attributevalue.MarshalMap(stateItem{
		PK:          ps.Key,
		Marketplace: ps.Marketplace,
		Region:      string(ps.Region),
		AccountType: string(ps.AccountType),
		Flow:        string(ps.Flow),
		CreatedAt:   ps.CreatedAt.Unix(),
		ExpiresAt:   ps.ExpiresAt.Unix(),
	})
	if err != nil {
		return fmt.Errorf("put state: marshal: %w", err)
	}
	expr, err := expression.NewBuilder().
		WithCondition(expression.AttributeNotExists(expression.Name("pk"))).
		Build()
	if err != nil {
		return fmt.Errorf("put state: build expression: %w", err)
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.Table),
		Item:                      item,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return fmt.Errorf("put state: %w", authflow.ErrStateExists)
		}
		return fmt.Errorf("put state: %w", err)
	}
	return nil
}

// Get returns a live state. It reads consistently because the state is usually written by the
// previous request of the same browser a moment earlier.
func (s *StateStore) Get(ctx context.Context, key string, now time.Time) (authflow.PendingState, error) {
	if key == "" {
		return authflow.PendingState{}, fmt.Errorf("get state: %w", authflow.ErrStateNotFound)
	}
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            s.key(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return authflow.PendingState{}, fmt.Errorf("get state: %w", err)
	}
	if out.Item == nil {
		return authflow.PendingState{}, fmt.Errorf("get state: %w", authflow.ErrStateNotFound)
	}
	var it stateItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return authflow.PendingState{}, fmt.Errorf("get state: unmarshal: %w", err)
	}
	if it.ExpiresAt <= now.Unix() {
		return authflow.PendingState{}, fmt.Errorf("get state: %w", authflow.ErrStateNotFound)
	}
	return it.pendingState(), nil
}

// Consume deletes a live state and returns it, in one conditional DeleteItem: DynamoDB applies
// it atomically, so of concurrent callbacks with the same state exactly one gets the item. When
// the condition fails nothing is deleted, and DynamoDB returns the item as it is, if any
// (ReturnValuesOnConditionCheckFailure), which tells an expired state from an unknown or used one
// without a second read. An expired item is left for TTL to purge.
func (s *StateStore) Consume(ctx context.Context, key string, now time.Time) (authflow.PendingState, error) {
	if key == "" {
		return authflow.PendingState{}, fmt.Errorf("consume state: %w", authflow.ErrStateNotFound)
	}
	cond := expression.AttributeExists(expression.Name("pk")).
		And(expression.Name("expires_at").GreaterThan(expression.Value(now.Unix())))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return authflow.PendingState{}, fmt.Errorf("consume state: build expression: %w", err)
	}
	out, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           aws.String(s.Table),
		Key:                                 s.key(key),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			if failed.Item != nil {
				// The item exists, so the expiry part of the condition is what failed.
				return authflow.PendingState{}, fmt.Errorf("consume state: %w", authflow.ErrStateExpired)
			}
			return authflow.PendingState{}, fmt.Errorf("consume state: %w", authflow.ErrStateNotFound)
		}
		return authflow.PendingState{}, fmt.Errorf("consume state: %w", err)
	}
	if out.Attributes == nil {
		// The condition held, so an item was deleted: no old image means DynamoDB broke its contract.
		return authflow.PendingState{}, errors.New("consume state: DeleteItem returned no item")
	}
	var it stateItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return authflow.PendingState{}, fmt.Errorf("consume state: unmarshal: %w", err)
	}
	return it.pendingState(), nil
}
