package refresh_test

import (
	"bytes"
	"context"
	"fmt"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/fakeclock"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/lwasecret"
	"github.com/sellerauth/sellerauth/internal/refresh"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

func TestMain(m *testing.M) { os.Exit(awstest.Main(m)) }

const (
	clientID     = "amzn1.application-oa2-client.0123456789abcdef"
	clientSecret = "amzn1.oa2-cs.v1.refresh-test-secret"
)

// readCounter counts the items DynamoDB read for us: Query's ScannedCount and one per GetItem
// that found an item, from the real SDK's answers.
type readCounter struct{ n atomic.Int64 }

func countReads(cfg *aws.Config) *readCounter {
	rc := &readCounter{}
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("refresh_test.countReads", func(
			ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
		) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			switch o := out.Result.(type) {
			case *dynamodb.QueryOutput:
				rc.n.Add(int64(o.ScannedCount))
			case *dynamodb.GetItemOutput:
				if o.Item != nil {
					rc.n.Add(1)
				}
			}
			return out, md, err
		}), middleware.After)
	})
	return rc
}

// atomicItems gives moto_server DynamoDB's per-item atomicity. moto checks an UpdateItem's
// condition and then applies the update with no lock held (moto/dynamodb/models update_item), so
// two concurrent conditional writes of the same item can both succeed there, which DynamoDB never
// allows. Every write still goes to moto; writes of one item just do not overlap, as in DynamoDB.
type atomicItems struct {
	dynamo.API
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (a *atomicItems) lock(key map[string]types.AttributeValue) func() {
	var k string
	for _, name := range []string{dynamo.AttrSellingPartnerID, dynamo.AttrRegion} {
		if v, ok := key[name].(*types.AttributeValueMemberS); ok {
			k += v.Value + "\x00"
		}
	}
	a.mu.Lock()
	if a.locks == nil {
		a.locks = map[string]*sync.Mutex{}
	}
	l, ok := a.locks[k]
	if !ok {
		l = &sync.Mutex{}
		a.locks[k] = l
	}
	a.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (a *atomicItems) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	defer a.lock(in.Key)()
	return a.API.UpdateItem(ctx, in, opts...)
}

type fixture struct {
	t      testing.TB
	env    *awstest.Env
	table  string
	db     *dynamodb.Client
	calls  *awstest.CallCounter
	reads  *readCounter
	store  *dynamo.TokenStore
	amazon *sandbox.Sandbox
	lwa    *lwa.Client
	clock  *fakeclock.Clock
	logs   *bytes.Buffer
	logMu  *sync.Mutex
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	env := awstest.Start(t)
	f := &fixture{t: t, env: env, clock: fakeclock.New(time.Now().UTC().Truncate(time.Second)), logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	f.table = env.CreateTables(t).Token
	cfg := env.Config.Copy()
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.MaxIdleConnsPerHost = 64 })
	f.calls = awstest.CountCalls(&cfg)
	f.reads = countReads(&cfg)
	f.db = dynamodb.NewFromConfig(cfg)
	f.store = &dynamo.TokenStore{Client: &atomicItems{API: f.db}, Table: f.table, Now: f.clock.Now}
	f.amazon = sandbox.New(sandbox.Options{ClientID: clientID, ClientSecret: clientSecret, Now: f.clock.Now})
	srv := httptest.NewServer(f.amazon.Handler())
	t.Cleanup(srv.Close)
	secretID := env.CreateSecret(t, fmt.Sprintf(`{"client_id":%q,"client_secret":%q}`, clientID, clientSecret))
	f.lwa = lwa.New(srv.URL+sandbox.TokenPath, lwasecret.New(secretsmanager.NewFromConfig(cfg), secretID))
	f.lwa.HTTPClient.Timeout = 2 * time.Second
	f.lwa.HTTPClient.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	f.lwa.Backoff = func(int) time.Duration { return 5 * time.Millisecond }
	return f
}

func (f *fixture) Write(p []byte) (int, error) {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logs.Write(p)
}

func (f *fixture) logText() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logs.String()
}

func (f *fixture) job(p refresh.Policy) *refresh.Job {
	return &refresh.Job{
		Store:     f.store,
		Refresher: f.lwa,
		Policy:    p,
		Now:       f.clock.Now,
		Log:       slog.New(slog.NewJSONHandler(f, nil)),
		Metrics:   f,
	}
}

// seller is what a test seeded.
type seller struct {
	id           string
	refreshToken string
	accessToken  string
	version      int64
	due          bool
}

func sellerID(i int) string { return fmt.Sprintf("A%011d", i) }

// seed writes n active authorizations in region na with BatchWriteItem; the first due of them
// are due now (their access token expires in 10 minutes), the others in 35 minutes. Due sellers
// get a real refresh token from the sandbox; the others a placeholder that is never used.
func (f *fixture) seed(n, due int) []seller {
	f.t.Helper()
	ctx := context.Background()
	now := f.clock.Now()
	sellers := make([]seller, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var failed atomic.Value
	for i := range n {
		sellers[i] = seller{id: sellerID(i), due: i < due, version: 1, accessToken: fmt.Sprintf("Atza|old-%d", i), refreshToken: fmt.Sprintf("Atzr|never-used-%d", i)}
		if i < due {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				tok, err := f.lwa.ExchangeCode(ctx, f.amazon.IssueCode(sellers[i].id), "")
				if err != nil {
					failed.Store(err)
					return
				}
				sellers[i].refreshToken, sellers[i].accessToken = tok.RefreshToken, tok.AccessToken
			})
		}
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		f.t.Fatalf("seed: exchange code: %v", err)
	}
	items := make([]types.WriteRequest, n)
	for i, s := range sellers {
		expires := now.Add(35*time.Minute + dynamo.RefreshLead)
		if s.due {
			expires = now.Add(10 * time.Minute)
		}
		av, err := dynamo.EncodeItem(dynamo.Item{
			SellingPartnerID: s.id, Region: amazon.RegionNA, RefreshToken: s.refreshToken,
			AccessToken: s.accessToken, AccessTokenExpiresAt: expires, Status: dynamo.StatusActive,
			AccountType: amazon.Seller, AuthorizedAt: now.Add(-24 * time.Hour),
			ReauthorizeBy: now.Add(364 * 24 * time.Hour), UpdatedAt: now, Version: 1,
			RefreshDueAt: expires.Add(-dynamo.RefreshLead), RefreshShard: dynamo.Shard(s.id, amazon.RegionNA),
		})
		if err != nil {
			f.t.Fatal(err)
		}
		items[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: av}}
	}
	batchWrite(f.t, f.env.DynamoDB, f.table, items)
	return sellers
}

// batchWrite writes items 25 at a time from 8 goroutines, resending what DynamoDB leaves unprocessed.
func batchWrite(tb testing.TB, db *dynamodb.Client, table string, items []types.WriteRequest) {
	tb.Helper()
	batches := make(chan []types.WriteRequest)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 8 {
		wg.Go(func() {
			for b := range batches {
				for len(b) > 0 {
					out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
						RequestItems: map[string][]types.WriteRequest{table: b},
					})
					if err != nil {
						failed.Store(err)
						break
					}
					b = out.UnprocessedItems[table]
				}
			}
		})
	}
	for i := 0; i < len(items); i += 25 {
		batches <- items[i:min(i+25, len(items))]
	}
	close(batches)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		tb.Fatalf("batch write: %v", err)
	}
}

// item reads one seller's item as stored, consistently, without counting.
func (f *fixture) item(id string) dynamo.Item {
	f.t.Helper()
	out, err := f.env.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			dynamo.AttrSellingPartnerID: &types.AttributeValueMemberS{Value: id},
			dynamo.AttrRegion:           &types.AttributeValueMemberS{Value: string(amazon.RegionNA)},
		},
	})
	if err != nil || out.Item == nil {
		f.t.Fatalf("read %s: %v (item %v)", id, err, out)
	}
	it, err := dynamo.DecodeItem(out.Item)
	if err != nil {
		f.t.Fatal(err)
	}
	return it
}
