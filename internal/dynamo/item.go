package dynamo

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// Attribute names of the token table (docs/contract.md, "Token table"), for code that writes its own
// expressions against the table, such as the refresh job.
//
// These constants are the one list of names. The dynamodbav tags of tokenItem and of the partial
// reads repeat them only because a struct tag must be a literal while an expression needs the name
// as a value; TestAttrConstantsMatchTags reads the source and fails when a tag is not one of these
// constants or a constant is no tag of tokenItem.
const (
	AttrSellingPartnerID     = "selling_partner_id" // partition key
	AttrRegion               = "region"             // sort key
	AttrRefreshToken         = "refresh_token"
	AttrAccessToken          = "access_token"
	AttrAccessTokenExpiresAt = "access_token_expires_at"
	AttrStatus               = "status"
	AttrAccountType          = "account_type"
	AttrAuthorizedAt         = "authorized_at"
	// AttrAuthorizedAtMs orders authorizations finer than authorized_at's seconds.
	AttrAuthorizedAtMs = "authorized_at_ms"
	AttrReauthorizeBy  = "reauthorize_by"
	AttrUpdatedAt      = "updated_at"
	AttrVersion        = "version"
	AttrMWSAuthToken   = "mws_auth_token"
	AttrExpiresAt      = "expires_at" // TTL, set only on a dead authorization
	// The refresh-due index keys; both are absent when no refresh is scheduled, which keeps the
	// index sparse.
	AttrRefreshShard = "refresh_shard"
	AttrRefreshDueAt = "refresh_due_at"
	// Refresh-failure bookkeeping: how many refreshes in a row LWA answered invalid_grant, and
	// since when. A new authorization clears them.
	AttrInvalidGrantCount   = "invalid_grant_count"
	AttrInvalidGrantFirstAt = "invalid_grant_first_at"
	// AttrEndUserID is the app's user a connection belongs to (absent for an anonymous one);
	// the key of the sparse end-user index.
	AttrEndUserID = "end_user_id"
	// What an authorization replaced, kept until AttrPreviousKeptUntil so that an operator can
	// restore it: the refresh token ("" when the authorization replaced nothing), its end user
	// ("" for none), its status and authorized_at.
	AttrPreviousRefreshToken = "previous_refresh_token"
	AttrPreviousEndUserID    = "previous_end_user_id"
	AttrPreviousStatus       = "previous_status"
	AttrPreviousAuthorizedAt = "previous_authorized_at"
	AttrPreviousKeptUntil    = "previous_kept_until"
	// AttrLifecycle marks a write that changes the connection's lifecycle (LifecycleAuthorized,
	// LifecycleReauthorizationRequired, LifecycleReauthorizationDue, LifecycleRestored); every
	// other write (a refresh, a claim, an unconfirmed invalid_grant) removes it. The events
	// function's stream filter passes only records whose new image has it, so a plain refresh
	// never invokes the function (docs/events.md).
	AttrLifecycle = "lifecycle"
	// AttrSessionID is the connect session of the last authorization (absent for an anonymous one).
	AttrSessionID = "session_id"
	// AttrReauthorizationNotice is the last 365-day reminder sent for this authorization (30, 7
	// or 1 days before reauthorize_by); a new authorization removes it.
	AttrReauthorizationNotice = "reauthorization_notice"
)

// The values of AttrLifecycle.
const (
	LifecycleAuthorized              = "authorized"
	LifecycleReauthorizationRequired = "reauthorization_required"
	LifecycleReauthorizationDue      = "reauthorization_due"
	LifecycleRestored                = "restored"
)

// EndUserIndex is the token table's sparse GSI on end_user_id: an end user's connections,
// projecting no token.
const EndUserIndex = "end-user"

// RefreshDueIndex is the token table's GSI on (refresh_shard, refresh_due_at). It projects
// refresh_token, version, status, reauthorize_by and invalid_grant_count, so the refresh job needs
// no second read.
const RefreshDueIndex = "refresh-due"

// DueShards is the number of refresh_shard partitions of the refresh-due index. Spreading the
// index over shards keeps any one partition key from becoming hot when many sellers are due:
// every refresh moves its entry within its shard (a delete and a put on the index). At the
// default concurrency (16 LWA calls of ~100 ms) that is ~320 index writes/s, over the four shards
// a run reads at a time: ~80 each, against a partition's 1,000. Each shard also costs every run
// one query (which an emulator such as moto answers by scanning the whole table). It may grow;
// it must not shrink, or entries in the dropped shards are never queried again.
const DueShards = 16

// RefreshLead is how long before the access token expires its refresh is due, leaving the refresh
// job several scheduled runs to succeed before readers would see an expired token.
const RefreshLead = 20 * time.Minute

// Shard is the stable refresh_shard of a seller and region (FNV-1a, so every writer agrees).
func Shard(sellingPartnerID string, region amazon.Region) int {
	h := fnv.New32a()
	h.Write([]byte(sellingPartnerID + "#" + string(region)))
	return int(h.Sum32() % DueShards)
}

// Status is the state of an authorization.
type Status string

// The statuses.
const (
	StatusActive                  Status = "active"
	StatusReauthorizationRequired Status = "reauthorization_required"
)

// Item is one authorization as stored in the token table. Times have second precision (the table
// stores epoch seconds) and are in UTC; a zero time means the attribute is absent. An item read
// from the refresh-due index carries only the attributes the index projects.
type Item struct {
	SellingPartnerID     string
	Region               amazon.Region
	RefreshToken         string
	AccessToken          string
	AccessTokenExpiresAt time.Time
	Status               Status
	AccountType          amazon.AccountType
	AuthorizedAt         time.Time
	ReauthorizeBy        time.Time
	UpdatedAt            time.Time
	Version              int64
	MWSAuthToken         string    // hybrid apps only
	ExpiresAt            time.Time // TTL: set only on a dead authorization

	// RefreshDueAt is when the refresh job should refresh the access token; zero when no refresh
	// is scheduled, and then RefreshShard means nothing.
	RefreshDueAt time.Time
	RefreshShard int

	InvalidGrantCount   int
	InvalidGrantFirstAt time.Time

	EndUserID string // "" for an anonymous authorization
	// What the last authorization replaced (see AttrPreviousRefreshToken); zero when nothing.
	PreviousRefreshToken string
	PreviousEndUserID    string
	PreviousStatus       Status
	PreviousAuthorizedAt time.Time
	PreviousKeptUntil    time.Time

	Lifecycle             string // see AttrLifecycle
	SessionID             string
	ReauthorizationNotice int
}

// tokenItem is the token table's item as DynamoDB sees it; all times are epoch seconds.
type tokenItem struct {
	SellingPartnerID     string `dynamodbav:"selling_partner_id"`
	Region               string `dynamodbav:"region"`
	RefreshToken         string `dynamodbav:"refresh_token"`
	AccessToken          string `dynamodbav:"access_token"`
	AccessTokenExpiresAt int64  `dynamodbav:"access_token_expires_at"`
	Status               string `dynamodbav:"status"`
	AccountType          string `dynamodbav:"account_type"`
	AuthorizedAt         int64  `dynamodbav:"authorized_at"`
	ReauthorizeBy        int64  `dynamodbav:"reauthorize_by"`
	UpdatedAt            int64  `dynamodbav:"updated_at"`
	Version              int64  `dynamodbav:"version"`
	MWSAuthToken         string `dynamodbav:"mws_auth_token,omitempty"`
	ExpiresAt            int64  `dynamodbav:"expires_at,omitempty"`
	// A pointer because shard 0 is a real shard that omitempty must not drop.
	RefreshShard        *int  `dynamodbav:"refresh_shard,omitempty"`
	RefreshDueAt        int64 `dynamodbav:"refresh_due_at,omitempty"`
	InvalidGrantCount   int   `dynamodbav:"invalid_grant_count,omitempty"`
	InvalidGrantFirstAt int64 `dynamodbav:"invalid_grant_first_at,omitempty"`

	EndUserID            string `dynamodbav:"end_user_id,omitempty"`
	PreviousRefreshToken string `dynamodbav:"previous_refresh_token,omitempty"`
	PreviousEndUserID    string `dynamodbav:"previous_end_user_id,omitempty"`
	PreviousStatus       string `dynamodbav:"previous_status,omitempty"`
	PreviousAuthorizedAt int64  `dynamodbav:"previous_authorized_at,omitempty"`
	PreviousKeptUntil    int64  `dynamodbav:"previous_kept_until,omitempty"`

	Lifecycle             string `dynamodbav:"lifecycle,omitempty"`
	SessionID             string `dynamodbav:"session_id,omitempty"`
	ReauthorizationNotice int    `dynamodbav:"reauthorization_notice,omitempty"`
}

// DecodeItem reads a token table item, as returned by GetItem, Query or Scan.
func DecodeItem(av map[string]types.AttributeValue) (Item, error) {
	var it tokenItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Item{}, fmt.Errorf("decode token item: %w", err)
	}
	out := Item{
		SellingPartnerID:      it.SellingPartnerID,
		Region:                amazon.Region(it.Region),
		RefreshToken:          it.RefreshToken,
		AccessToken:           it.AccessToken,
		AccessTokenExpiresAt:  fromEpoch(it.AccessTokenExpiresAt),
		Status:                Status(it.Status),
		AccountType:           amazon.AccountType(it.AccountType),
		AuthorizedAt:          fromEpoch(it.AuthorizedAt),
		ReauthorizeBy:         fromEpoch(it.ReauthorizeBy),
		UpdatedAt:             fromEpoch(it.UpdatedAt),
		Version:               it.Version,
		MWSAuthToken:          it.MWSAuthToken,
		ExpiresAt:             fromEpoch(it.ExpiresAt),
		RefreshDueAt:          fromEpoch(it.RefreshDueAt),
		InvalidGrantCount:     it.InvalidGrantCount,
		InvalidGrantFirstAt:   fromEpoch(it.InvalidGrantFirstAt),
		EndUserID:             it.EndUserID,
		PreviousRefreshToken:  it.PreviousRefreshToken,
		PreviousEndUserID:     it.PreviousEndUserID,
		PreviousStatus:        Status(it.PreviousStatus),
		PreviousAuthorizedAt:  fromEpoch(it.PreviousAuthorizedAt),
		PreviousKeptUntil:     fromEpoch(it.PreviousKeptUntil),
		Lifecycle:             it.Lifecycle,
		SessionID:             it.SessionID,
		ReauthorizationNotice: it.ReauthorizationNotice,
	}
	if it.RefreshShard != nil {
		out.RefreshShard = *it.RefreshShard
	}
	return out, nil
}

// EncodeItem is the inverse of DecodeItem, for writers of whole items (a local stack seeding the
// table, tests). The flow itself never writes whole items: it uses SaveAuthorization.
func EncodeItem(i Item) (map[string]types.AttributeValue, error) {
	it := tokenItem{
		SellingPartnerID:      i.SellingPartnerID,
		Region:                string(i.Region),
		RefreshToken:          i.RefreshToken,
		AccessToken:           i.AccessToken,
		AccessTokenExpiresAt:  toEpoch(i.AccessTokenExpiresAt),
		Status:                string(i.Status),
		AccountType:           string(i.AccountType),
		AuthorizedAt:          toEpoch(i.AuthorizedAt),
		ReauthorizeBy:         toEpoch(i.ReauthorizeBy),
		UpdatedAt:             toEpoch(i.UpdatedAt),
		Version:               i.Version,
		MWSAuthToken:          i.MWSAuthToken,
		ExpiresAt:             toEpoch(i.ExpiresAt),
		RefreshDueAt:          toEpoch(i.RefreshDueAt),
		InvalidGrantCount:     i.InvalidGrantCount,
		InvalidGrantFirstAt:   toEpoch(i.InvalidGrantFirstAt),
		EndUserID:             i.EndUserID,
		PreviousRefreshToken:  i.PreviousRefreshToken,
		PreviousEndUserID:     i.PreviousEndUserID,
		PreviousStatus:        string(i.PreviousStatus),
		PreviousAuthorizedAt:  toEpoch(i.PreviousAuthorizedAt),
		PreviousKeptUntil:     toEpoch(i.PreviousKeptUntil),
		Lifecycle:             i.Lifecycle,
		SessionID:             i.SessionID,
		ReauthorizationNotice: i.ReauthorizationNotice,
	}
	if !i.RefreshDueAt.IsZero() {
		shard := i.RefreshShard
		it.RefreshShard = &shard
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("encode token item: %w", err)
	}
	return av, nil
}

func fromEpoch(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func toEpoch(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
