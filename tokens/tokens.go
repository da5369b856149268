// Package tokens gives another Lambda a seller's SP-API access token from the token table that
// sellerauth keeps fresh. It is the importable face of the module's reader: build one Reader per
// process with New and call AccessToken before each SP-API call. The Reader reads only the
// access-token attributes (so it works under the stack's exported TokenReaderPolicy), caches each
// token until it comes within the skew of its expiry, and returns typed errors for a seller who
// never authorized the app and for one who must authorize it again. WithRefresh lets a process
// that may read the LWA client secret refresh a stale token itself, through the same conditional
// write the scheduled refresh uses; without it a stale token is ErrStale.
package tokens

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/lwasecret"
	itokens "github.com/sellerauth/sellerauth/internal/tokens"
)

// Reader returns access tokens; it is safe for concurrent use. Build it with New (its zero value
// is not usable) and keep it for the life of the process: its cache is what saves the reads.
type Reader struct {
	r     *itokens.Reader
	store *dynamo.TokenStore
}

// Connection is one of an end user's connections: a seller's authorization in one region, made
// through a connect session of the app's backend. It carries no token.
type Connection struct {
	SellingPartnerID string
	Region           Region
	AccountType      string // seller or vendor
	Status           string // active, or reauthorization_required
	EndUserID        string
	AuthorizedAt     time.Time
	// ReauthorizeBy is Amazon's 365-day deadline: the seller must authorize the app again by then.
	ReauthorizeBy time.Time
}

// Connections lists an end user's connections (the end_user_id the app's backend gave its
// connect sessions), from the token table's end-user index, which holds no token. The index is
// eventually consistent: a connection made a second ago may be missing for a moment. Anonymous
// authorizations belong to no end user. Under TokenReaderPolicy (dynamodb:Query on the index).
func (r *Reader) Connections(ctx context.Context, endUserID string) ([]Connection, error) {
	list, err := r.store.Connections(ctx, endUserID)
	if err != nil {
		return nil, err
	}
	out := make([]Connection, 0, len(list))
	for _, c := range list {
		out = append(out, Connection{
			SellingPartnerID: c.SellingPartnerID,
			Region:           c.Region,
			AccountType:      string(c.AccountType),
			Status:           c.Status,
			EndUserID:        c.EndUserID,
			AuthorizedAt:     c.AuthorizedAt,
			ReauthorizeBy:    c.ReauthorizeBy,
		})
	}
	return out, nil
}

// AccessToken returns the seller's access token for region, valid for at least the skew. A
// cached token costs no AWS call; concurrent callers for the same seller share one read (and at
// most one refresh). The errors to act on are ErrNotAuthorized, ErrReauthorizationRequired and
// ErrStale; any other is a failure to read the table.
func (r *Reader) AccessToken(ctx context.Context, sellingPartnerID string, region Region) (Token, error) {
	return r.r.AccessToken(ctx, sellingPartnerID, region)
}

type (
	// Token is an LWA access token of one seller and region, for the x-amz-access-token header.
	Token = itokens.Token
	// Region is an SP-API region: RegionNA, RegionEU or RegionFE (the token table's region key).
	Region = amazon.Region
)

// The SP-API regions, as the token table stores them.
const (
	RegionNA = amazon.RegionNA
	RegionEU = amazon.RegionEU
	RegionFE = amazon.RegionFE
)

// DefaultSkew is how long a returned token stays valid at least, unless WithSkew says otherwise.
const DefaultSkew = itokens.DefaultSkew

var (
	// ErrNotAuthorized means the seller never authorized the app in that region.
	ErrNotAuthorized = itokens.ErrNotAuthorized
	// ErrReauthorizationRequired means the seller revoked the app or the authorization lapsed.
	ErrReauthorizationRequired = itokens.ErrReauthorizationRequired
	// ErrStale means the stored token expires within the skew and the Reader may not (or could
	// not) refresh it: the scheduled refresh is late.
	ErrStale = itokens.ErrStale
)

// Option changes what New builds.
type Option func(*itokens.Reader)

// WithSkew sets how long a returned token stays valid at least (default DefaultSkew).
func WithSkew(d time.Duration) Option {
	return func(r *itokens.Reader) { r.Skew = d }
}

// WithRefresh lets the Reader refresh a stale token on demand with the LWA client credentials in
// the secret secretID (its name or ARN, as the stack's LwaCredentialsSecretArn output gives it).
// TokenReaderPolicy withholds what that needs, on purpose, and most readers should do without:
// secretsmanager:GetSecretValue on the secret; dynamodb:GetItem of refresh_token and
// dynamodb:UpdateItem on the token table; kms:Decrypt, kms:Encrypt and kms:GenerateDataKey on the
// table's key through DynamoDB (the stack's TokenTableKey). If the write is refused, the refreshed
// token is still returned (LWA issued it) but not stored, and every process refreshes on its own.
// tokenURL "" means Amazon's LWA token endpoint.
func WithRefresh(secrets *secretsmanager.Client, secretID, tokenURL string) Option {
	if tokenURL == "" {
		tokenURL = lwa.DefaultTokenURL
	}
	return func(r *itokens.Reader) { r.Refresher = lwa.New(tokenURL, lwasecret.New(secrets, secretID)) }
}

// New returns a Reader of the token table (the stack's TokenTableName output) through db. It
// makes no call: the first AccessToken does.
func New(db *dynamodb.Client, table string, opts ...Option) *Reader {
	store := &dynamo.TokenStore{Client: db, Table: table}
	r := &itokens.Reader{Store: store}
	for _, o := range opts {
		o(r)
	}
	return &Reader{r: r, store: store}
}

// FromEnvironment builds a Reader from the contract's environment: TOKEN_TABLE_NAME (required)
// and, only for a Lambda that may refresh (see WithRefresh), LWA_CREDENTIALS_SECRET_ID with
// LWA_TOKEN_URL (default Amazon's endpoint). cfg is the Lambda's AWS configuration, e.g. from
// config.LoadDefaultConfig. It makes no call.
func FromEnvironment(cfg aws.Config, opts ...Option) (*Reader, error) {
	table := os.Getenv("TOKEN_TABLE_NAME")
	if table == "" {
		return nil, errors.New("tokens: TOKEN_TABLE_NAME is not set")
	}
	if secretID := os.Getenv("LWA_CREDENTIALS_SECRET_ID"); secretID != "" {
		tokenURL, err := lwa.TokenURL(os.Getenv("LWA_TOKEN_URL"))
		if err != nil {
			return nil, fmt.Errorf("tokens: %w", err)
		}
		opts = append([]Option{WithRefresh(secretsmanager.NewFromConfig(cfg), secretID, tokenURL)}, opts...)
	}
	return New(dynamodb.NewFromConfig(cfg), table, opts...), nil
}
