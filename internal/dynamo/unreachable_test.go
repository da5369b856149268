package dynamo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

// A DynamoDB outage must surface as a dependency failure (5xx), never as one of the sentinels that
// the flow turns into a 4xx "start again" page.
func TestDynamoDBUnreachable(t *testing.T) {
	t.Parallel()
	env := awstest.Start(t)
	db := dynamodb.NewFromConfig(env.Unreachable())
	states := &dynamo.StateStore{Client: db, Table: "state"}
	tokens := &dynamo.TokenStore{Client: db, Table: "token"}
	ctx := t.Context()
	calls := []struct {
		name string
		run  func(context.Context) error
	}{
		{"Put", func(ctx context.Context) error { return states.Put(ctx, pending("k")) }},
		{"Get", func(ctx context.Context) error { _, err := states.Get(ctx, "k", created); return err }},
		{"Consume", func(ctx context.Context) error { _, err := states.Consume(ctx, "k", created); return err }},
		{"SaveAuthorization", func(ctx context.Context) error {
			return tokens.SaveAuthorization(ctx, authorization(authorizedAt, "1"))
		}},
		{"Get token", func(ctx context.Context) error { _, err := tokens.Get(ctx, seller, "na"); return err }},
	}
	sentinels := []error{authflow.ErrStateExists, authflow.ErrStateNotFound, authflow.ErrStateExpired, authflow.ErrNewerAuthorization, dynamo.ErrNotFound}
	for _, c := range calls {
		start := time.Now()
		err := c.run(ctx)
		if err == nil {
			t.Errorf("%s succeeded against an unreachable DynamoDB", c.name)
			continue
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				t.Errorf("%s: %v is the sentinel %q", c.name, err, s)
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %s to fail", c.name, d)
		}
	}
}
