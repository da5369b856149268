// Package tokens gives another Lambda a seller's SP-API access token from the token table that
// sellerauth keeps fresh. Build one Reader per process with New (or FromEnvironment) and call
// AccessToken before each SP-API call. The Reader reads only the access-token attributes (so it
// works under the stack's exported TokenReaderPolicy), caches each token until it comes within
// the skew of its expiry, never shares a token across sellers or regions, and lets concurrent
// callers for the same seller share one read. It returns typed errors for a seller who never
// authorized the app and for one who must authorize it again. WithRefresh lets a process that
// may read the LWA client secret refresh a stale token itself, one refresh per seller at a time,
// through the same conditional write the scheduled refresh uses; without it a stale token is
// ErrStale.
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

	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/lwasecret"
)

// Token is an LWA access token of one seller in one region.
type Token struct {
	// AccessToken goes in the x-amz-access-token header of SP-API calls to the region's
	// endpoint. It is a bearer credential: do not log it.
	AccessToken string
	// ExpiresAt is when LWA stops accepting AccessToken. A token AccessToken returns is valid
	// for at least the skew (DefaultSkew unless WithSkew says otherwise).
	ExpiresAt time.Time
}

// Region is an SP-API region, as the token table stores it: a seller authorizes the app once per
// region, and each region has its own token. Use RegionNA, RegionEU or RegionFE.
type Region string

// The SP-API regions.
const (
	// RegionNA is North America (sellingpartnerapi-na.amazon.com): the US, Canada, Mexico and
	// Brazil marketplaces.
	RegionNA Region = "na"
	// RegionEU is Europe (sellingpartnerapi-eu.amazon.com), with the Middle East, India and
	// South Africa.
	RegionEU Region = "eu"
	// RegionFE is the Far East (sellingpartnerapi-fe.amazon.com): Japan, Australia and
	// Singapore.
	RegionFE Region = "fe"
)

// DefaultSkew is how long a token AccessToken returns stays valid at least, unless WithSkew says
// otherwise: long enough for an SP-API call, retries included.
const DefaultSkew = 5 * time.Minute

// The errors AccessToken returns, wrapped, that call for an action; test for them with
// errors.Is. Any other error is a failure to read the table (or, with WithRefresh, to refresh).
var (
	// ErrNotAuthorized means the seller never authorized the app in that region (or the
	// connection was removed): send the seller to the app's Authorize page.
	ErrNotAuthorized = errors.New("seller has not authorized the app in this region")
	// ErrReauthorizationRequired means the seller revoked the app or the authorization lapsed:
	// the seller must authorize the app again.
	ErrReauthorizationRequired = errors.New("seller must authorize the app again")
	// ErrStale means the stored access token expires within the skew and the Reader may not
	// (without WithRefresh) or could not refresh it: the scheduled refresh is late. Retry
	// shortly.
	ErrStale = errors.New("stored access token is stale")
)

// Option changes a Reader built by New or FromEnvironment.
type Option func(*Reader)

// WithSkew sets how long a token AccessToken returns stays valid at least (default
// DefaultSkew). A stored token that expires sooner is stale.
func WithSkew(d time.Duration) Option {
	return func(r *Reader) { r.skew = d }
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
	return func(r *Reader) { r.refresher = lwa.New(tokenURL, lwasecret.New(secrets, secretID)) }
}

// New returns a Reader of the token table (the stack's TokenTableName output) through db. It
// makes no call: the first AccessToken does.
func New(db *dynamodb.Client, table string, opts ...Option) *Reader {
	return newReader(&dynamo.TokenStore{Client: db, Table: table}, opts)
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
		tokenURL, err := lwa.ParseTokenURL(os.Getenv("LWA_TOKEN_URL"))
		if err != nil {
			return nil, fmt.Errorf("tokens: %w", err)
		}
		opts = append([]Option{WithRefresh(secretsmanager.NewFromConfig(cfg), secretID, tokenURL)}, opts...)
	}
	return New(dynamodb.NewFromConfig(cfg), table, opts...), nil
}

// Connection is one of an end user's connections: a seller's authorization in one region, made
// through a connect session of the app's backend. It carries no token.
type Connection struct {
	// SellingPartnerID is the seller's (or vendor's) ID, the first argument of AccessToken.
	SellingPartnerID string
	// Region is the region the seller authorized the app in.
	Region Region
	// AccountType is "seller" (Seller Central) or "vendor" (Vendor Central).
	AccountType string
	// Status is "active", or "reauthorization_required" when AccessToken would return
	// ErrReauthorizationRequired.
	Status string
	// EndUserID is the app's user the connect session was made for.
	EndUserID string
	// AuthorizedAt is when the seller last authorized the app in this region.
	AuthorizedAt time.Time
	// ReauthorizeBy is Amazon's 365-day deadline: the seller must authorize the app again by
	// then.
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
			Region:           Region(c.Region),
			AccountType:      string(c.AccountType),
			Status:           c.Status,
			EndUserID:        c.EndUserID,
			AuthorizedAt:     c.AuthorizedAt,
			ReauthorizeBy:    c.ReauthorizeBy,
		})
	}
	return out, nil
}
