package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// ReaderAttributes are the attributes the reader policy of template.yaml lets other Lambdas read
// (with the key attributes); refresh_token is never among them.
var ReaderAttributes = []string{AttrAccessToken, AttrAccessTokenExpiresAt, AttrStatus, AttrVersion}

// ReaderItem is what ReadAccessToken reads of one authorization.
type ReaderItem struct {
	AccessToken string
	ExpiresAt   time.Time
	// ReauthorizationRequired says the authorization is no longer active: the seller revoked
	// the app or the authorization lapsed.
	ReauthorizationRequired bool
	// Version is what a conditional write of the refreshed token (SaveRefreshed) expects.
	Version int64
	// RefreshToken is read only when asked for (the reader policy forbids it).
	RefreshToken string
}

// ReadAccessToken reads the access-token attributes of one authorization, consistently, with a
// GetItem that names only ReaderAttributes (plus refresh_token when withRefreshToken is set), as
// the reader policy's dynamodb:Attributes condition requires. It returns ErrNotFound, wrapped,
// when there is no item. The tokens package reads through it.
func (s *TokenStore) ReadAccessToken(ctx context.Context, sellingPartnerID string, region amazon.Region, withRefreshToken bool) (ReaderItem, error) {
	const op = "read access token"
	names := ReaderAttributes
	if withRefreshToken {
		names = append(names[:len(names):len(names)], AttrRefreshToken)
	}
	proj := expression.NamesList(expression.Name(names[0]))
	for _, n := range names[1:] {
		proj = proj.AddNames(expression.Name(n))
	}
	expr, err := expression.NewBuilder().WithProjection(proj).Build()
	if err != nil {
		return ReaderItem{}, fmt.Errorf("%s: build expression: %w", op, err)
	}
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.Table),
		Key:                      tokenKey(sellingPartnerID, region),
		ProjectionExpression:     expr.Projection(),
		ExpressionAttributeNames: expr.Names(),
		ConsistentRead:           aws.Bool(true),
	})
	if err != nil {
		return ReaderItem{}, fmt.Errorf("%s: %w", op, err)
	}
	if out.Item == nil {
		return ReaderItem{}, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	var it struct {
		AccessToken  string `dynamodbav:"access_token"`
		ExpiresAt    int64  `dynamodbav:"access_token_expires_at"`
		Status       string `dynamodbav:"status"`
		Version      int64  `dynamodbav:"version"`
		RefreshToken string `dynamodbav:"refresh_token"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return ReaderItem{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	return ReaderItem{
		AccessToken:             it.AccessToken,
		ExpiresAt:               fromEpoch(it.ExpiresAt),
		ReauthorizationRequired: it.Status != string(StatusActive),
		Version:                 it.Version,
		RefreshToken:            it.RefreshToken,
	}, nil
}
