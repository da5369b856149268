package dynamo_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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
	cfg := env.Unreachable()
	requests := &countingHTTP{inner: awshttp.NewBuildableClient()}
	cfg.HTTPClient = requests
	db := dynamodb.NewFromConfig(cfg)
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
		before := requests.n.Load()
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
		// It fails at once: one request, no retry or wait of the store's own. (Counted, not timed:
		// how long a refused connection takes depends on the machine's load.)
		if n := requests.n.Load() - before; n != 1 {
			t.Errorf("%s made %d requests, want 1", c.name, n)
		}
	}
}

// countingHTTP counts the HTTP requests the SDK sends.
type countingHTTP struct {
	inner aws.HTTPClient
	n     atomic.Int64
}

func (c *countingHTTP) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.inner.Do(r)
}
