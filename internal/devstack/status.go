package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/events"
)

// Seller is one row of the status page: never a token value.
type Seller struct {
	SellingPartnerID, Region, Status, AccountType string
	// EndUserID is the app's user the connection belongs to; "" for an anonymous authorization.
	EndUserID                                      string
	AccessTokenExpiresAt, ReauthorizeBy, UpdatedAt time.Time
	RefreshDueAt                                   time.Time
	Version, InvalidGrantCount                     int64
}

// Fresh says whether the access token is still valid.
func (s Seller) Fresh() bool { return time.Now().Before(s.AccessTokenExpiresAt) }

// ExpiresIn is the access token's remaining life, rounded.
func (s Seller) ExpiresIn() string {
	return time.Until(s.AccessTokenExpiresAt).Round(time.Second).String()
}

// publicAttributes are what the status page reads: no token attribute is ever projected.
const publicAttributes = "selling_partner_id, #r, #s, account_type, end_user_id, access_token_expires_at, reauthorize_by, updated_at, refresh_due_at, version, invalid_grant_count"

// Sellers lists the token table's authorizations without their tokens.
func (s *Stack) Sellers(ctx context.Context) ([]Seller, error) {
	db := dynamodb.NewFromConfig(s.AWS)
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName:                aws.String(s.TokenTable),
		ProjectionExpression:     aws.String(publicAttributes),
		ExpressionAttributeNames: map[string]string{"#r": "region", "#s": "status"},
	})
	var out []Seller
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan the token table: %w", err)
		}
		for _, it := range page.Items {
			out = append(out, Seller{
				SellingPartnerID: str(it["selling_partner_id"]), Region: str(it["region"]),
				Status: str(it["status"]), AccountType: str(it["account_type"]), EndUserID: str(it["end_user_id"]),
				AccessTokenExpiresAt: epoch(it["access_token_expires_at"]), ReauthorizeBy: epoch(it["reauthorize_by"]),
				UpdatedAt: epoch(it["updated_at"]), RefreshDueAt: epoch(it["refresh_due_at"]),
				Version: num(it["version"]), InvalidGrantCount: num(it["invalid_grant_count"]),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].SellingPartnerID < out[j].SellingPartnerID
	})
	return out, nil
}

// FastForward is dev time travel for the refresh schedule: every scheduled refresh (including an
// invalid_grant's retry) becomes due now, as if its time had come. It changes nothing else.
func (s *Stack) FastForward(ctx context.Context) (int, error) {
	sellers, err := s.Sellers(ctx)
	if err != nil {
		return 0, err
	}
	db := dynamodb.NewFromConfig(s.AWS)
	n := 0
	now := strconv.FormatInt(time.Now().Unix(), 10)
	for _, sl := range sellers {
		if sl.RefreshDueAt.IsZero() {
			continue
		}
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.TokenTable),
			Key: map[string]types.AttributeValue{
				"selling_partner_id": &types.AttributeValueMemberS{Value: sl.SellingPartnerID},
				"region":             &types.AttributeValueMemberS{Value: sl.Region},
			},
			UpdateExpression:          aws.String("SET refresh_due_at = :now"),
			ConditionExpression:       aws.String("attribute_exists(refresh_due_at)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: now}},
		})
		if err != nil {
			return n, fmt.Errorf("fast-forward %s/%s: %w", sl.SellingPartnerID, sl.Region, err)
		}
		n++
	}
	return n, nil
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func num(v types.AttributeValue) int64 {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(n.Value, 10, 64)
		return i
	}
	return 0
}

func epoch(v types.AttributeValue) time.Time {
	if n := num(v); n > 0 {
		return time.Unix(n, 0)
	}
	return time.Time{}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type statusPage struct {
	Sellers    []Seller
	Events     []events.Event
	EventBus   string
	URL        string
	SandboxURL string
	DemoURL    string
	Anonymous  bool
	Message    string
	Error      string
}

var statusTemplate = template.Must(template.New("status").Parse(`<!doctype html><html><head><meta charset="utf-8">
<title>sellerauth dev stack</title><meta http-equiv="refresh" content="15">
<style>body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:4px 10px;text-align:left}
td.detail-type{white-space:nowrap}.active{color:#070}.reauthorization_required{color:#b00}form{display:inline}</style></head><body>
<h1>sellerauth dev stack</h1>
<p><a href="{{.DemoURL}}/">Demo app (your app)</a> · {{if .Anonymous}}<a href="{{.URL}}/">Landing page</a> · {{end}}<a href="{{.SandboxURL}}/sandbox/appstore">Sandbox Appstore</a> · <a href="{{.SandboxURL}}/sandbox/admin">Sandbox Amazon admin (revoke, rotate the client secret)</a></p>
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}{{if .Error}}<p style="color:#b00">{{.Error}}</p>{{end}}
<h2>Connected sellers</h2>
<table id="sellers"><tr><th>Region</th><th>Selling partner</th><th>App user</th><th>Account</th><th>Status</th><th>Access token</th><th>Next refresh</th><th>Reauthorize by</th><th>Version</th></tr>
{{range .Sellers}}<tr><td>{{.Region}}</td><td>{{.SellingPartnerID}}</td><td class="end-user">{{if .EndUserID}}{{.EndUserID}}{{else}}<small>(anonymous)</small>{{end}}</td><td>{{.AccountType}}</td><td class="{{.Status}}">{{.Status}}{{if .InvalidGrantCount}} (invalid_grant ×{{.InvalidGrantCount}}){{end}}</td>
<td>{{if .Fresh}}fresh, expires in {{.ExpiresIn}}{{else}}expired{{end}}</td><td>{{if not .RefreshDueAt.IsZero}}{{.RefreshDueAt.UTC.Format "15:04:05Z"}}{{else}}none{{end}}</td>
<td>{{.ReauthorizeBy.UTC.Format "2006-01-02"}}</td><td>{{.Version}}</td></tr>
{{else}}<tr><td colspan="9">No seller yet: connect one from the demo app{{if .Anonymous}} or the landing page{{end}}.</td></tr>{{end}}</table>
<p><form method="post" action="/_dev/refresh"><button>Run the refresh function now</button></form>
<form method="post" action="/_dev/refresh?fast_forward=1"><button>Make every refresh due, then run it</button></form></p>
{{if .EventBus}}<h2>Recent events</h2>
<p><small>What the events function put on EventBridge bus <code>{{.EventBus}}</code> (source sellerauth), fed by the token and session tables' streams, newest first; as JSON: <a href="/_dev/events">/_dev/events</a>.</small></p>
<table id="events"><tr><th>Time</th><th>Detail-type</th><th>App user</th><th>Selling partner</th><th>Region</th><th>Status</th><th>Version</th><th>Details</th></tr>
{{range .Events}}{{$e := .}}<tr class="event"><td>{{.Time.UTC.Format "15:04:05Z"}}</td><td class="detail-type">{{.DetailType}}</td><td class="end-user">{{with .Detail.EndUserID}}{{.}}{{else}}<small>(anonymous)</small>{{end}}</td><td>{{.Detail.SellingPartnerID}}</td><td>{{.Detail.Region}}</td><td>{{.Detail.Status}}</td><td>{{.Detail.Version}}</td>
<td>{{with .Detail.OwnerEndUserID}}owner {{.}} {{end}}{{with .Detail.PreviousEndUserID}}{{if ne . $e.Detail.EndUserID}}previously {{.}}'s {{end}}{{end}}{{with .Detail.Reason}}reason {{.}} {{end}}{{with .Detail.DaysLeft}}{{.}} days left {{end}}</td></tr>
{{else}}<tr><td colspan="8">No event yet.</td></tr>{{end}}</table>{{end}}
<p><small>Token values are never shown.</small></p></body></html>`))

func (s *Stack) devPages() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_dev/{$}", func(w http.ResponseWriter, r *http.Request) {
		p := statusPage{URL: s.URL, SandboxURL: s.SandboxURL, DemoURL: s.DemoURL, Anonymous: s.Anonymous, Message: r.URL.Query().Get("message"),
			Events: s.Events(), EventBus: s.EventBus}
		var err error
		if p.Sellers, err = s.Sellers(r.Context()); err != nil {
			p.Error = err.Error()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = statusTemplate.Execute(w, p)
	})
	mux.HandleFunc("GET /_dev/sellers", func(w http.ResponseWriter, r *http.Request) {
		sellers, err := s.Sellers(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(sellers)
	})
	mux.HandleFunc("GET /_dev/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		evs := s.Events()
		if evs == nil {
			evs = []events.Event{}
		}
		_ = json.NewEncoder(w).Encode(evs)
	})
	// POST /_dev/refresh[?fast_forward=1]: the scheduled functions, now. JSON for scripts, a
	// redirect back to the status page for the browser.
	mux.HandleFunc("POST /_dev/refresh", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fast_forward") != "" {
			if _, err := s.FastForward(r.Context()); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		out, err := s.RunSchedules(r.Context())
		if r.Header.Get("Accept") == "application/json" {
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				w.WriteHeader(http.StatusBadGateway)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
				return
			}
			_ = json.NewEncoder(w).Encode(out)
			return
		}
		msg := "refresh run: "
		for id, b := range out {
			msg += id + " " + string(b) + " "
		}
		if err != nil {
			msg += "error: " + err.Error()
		}
		http.Redirect(w, r, "/_dev/?message="+url.QueryEscape(msg), http.StatusSeeOther)
	})
	return mux
}
