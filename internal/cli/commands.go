package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

// listed are the attributes connections reads: never a token.
var listed = []string{
	dynamo.AttrSellingPartnerID, dynamo.AttrRegion, dynamo.AttrStatus, dynamo.AttrEndUserID, dynamo.AttrAccountType,
	dynamo.AttrAuthorizedAt, dynamo.AttrReauthorizeBy, dynamo.AttrAccessTokenExpiresAt, dynamo.AttrVersion,
}

// connections lists connections: an end user's through the end-user index, else every connection
// (a Scan, paginated: an operator's look, not a request path), filtered by status and region.
func (c command) connections(ctx context.Context, args []string) error {
	fs := quietFlags("connections")
	endUser := fs.String("end-user", "", "only this end user's connections")
	status := fs.String("status", "", "only this status (active, reauthorization_required)")
	region := fs.String("region", "", "only this region (na, eu, fe)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return usageError("connections takes -end-user, -status and -region")
	}
	if *region != "" && !amazon.Region(*region).Valid() {
		return usageError("region must be na, eu or fe")
	}
	var items []dynamo.Item
	if *endUser != "" {
		list, err := c.store.Connections(ctx, *endUser)
		if err != nil {
			return err
		}
		for _, x := range list {
			items = append(items, dynamo.Item{SellingPartnerID: x.SellingPartnerID, Region: x.Region, Status: dynamo.Status(x.Status),
				EndUserID: x.EndUserID, AccountType: x.AccountType, AuthorizedAt: x.AuthorizedAt, ReauthorizeBy: x.ReauthorizeBy})
		}
	} else {
		var err error
		if items, err = c.scan(ctx); err != nil {
			return err
		}
	}
	w := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SELLING_PARTNER_ID\tREGION\tSTATUS\tEND_USER\tTYPE\tAUTHORIZED_AT\tREAUTHORIZE_BY")
	n := 0
	for _, it := range items {
		if (*status != "" && string(it.Status) != *status) || (*region != "" && string(it.Region) != *region) {
			continue
		}
		n++
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.SellingPartnerID, it.Region, it.Status, orNone(it.EndUserID),
			it.AccountType, day(it.AuthorizedAt), day(it.ReauthorizeBy))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	c.out("%d connection(s)\n", n)
	return nil
}

func (c command) scan(ctx context.Context) ([]dynamo.Item, error) {
	proj := expression.NamesList(expression.Name(listed[0]))
	for _, a := range listed[1:] {
		proj = proj.AddNames(expression.Name(a))
	}
	expr, err := expression.NewBuilder().WithProjection(proj).Build()
	if err != nil {
		return nil, err
	}
	var out []dynamo.Item
	p := dynamodb.NewScanPaginator(c.env.DynamoDB, &dynamodb.ScanInput{
		TableName:                aws.String(c.stack.table()),
		ProjectionExpression:     expr.Projection(),
		ExpressionAttributeNames: expr.Names(),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", c.stack.table(), err)
		}
		for _, av := range page.Items {
			it, err := dynamo.DecodeItem(av)
			if err != nil {
				return nil, err
			}
			out = append(out, it)
		}
	}
	return out, nil
}

// refreshPayload is the refresh schedule's input in template.yaml.
const refreshPayload = `{"source":"sellerauth.refresh-schedule"}`

// refresh runs the refresh function now, synchronously, and prints its summary.
func (c command) refresh(ctx context.Context, args []string) error {
	fs := quietFlags("refresh")
	now := fs.Bool("now", false, "run the refresh function now")
	if err := fs.Parse(args); err != nil || !*now || fs.NArg() != 0 {
		return usageError("refresh takes -now")
	}
	fn := c.stack.outputs["RefreshFunctionName"]
	if fn == "" {
		return usageError("refresh -now needs -stack (its RefreshFunctionName output)")
	}
	out, err := c.env.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(refreshPayload)})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", fn, err)
	}
	if out.FunctionError != nil {
		return fmt.Errorf("%s failed (%s); see its log", fn, aws.ToString(out.FunctionError))
	}
	c.out("refresh run: %s\n", trimLines(string(out.Payload)))
	return nil
}

// doctor checks what a deployment needs and says what to fix; it prints no secret.
func (c command) doctor(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return usageError("doctor takes no arguments")
	}
	failed := 0
	check := func(ok bool, what, fix string) {
		if ok {
			c.out("ok    %s\n", what)
			return
		}
		failed++
		c.out("FAIL  %s: %s\n", what, fix)
	}
	if id, ok := c.stack.parameters["ApplicationId"]; ok {
		err := amazon.CheckApplicationID(id)
		check(err == nil, "ApplicationId is an SP-API application ID", fmt.Sprint(err))
	}
	if arn := c.stack.outputs["LwaCredentialsSecretArn"]; arn != "" {
		what, fix := c.secretShape(ctx, arn)
		check(fix == "", what, fix)
	} else {
		check(false, "LWA secret", "run doctor with -stack")
	}
	if topic := c.stack.outputs["AlarmTopicArn"]; topic != "" {
		n, err := c.subscriptions(ctx, topic)
		check(err == nil && n > 0, "the alarm topic has a confirmed subscription",
			fmt.Sprintf("nobody receives the alarms (%v): subscribe an address (parameter AlarmEmail, or aws sns subscribe)", orNil(err, n)))
	}
	for _, o := range []struct{ key, where string }{
		{"LoginUri", "OAuth Login URI"}, {"RedirectUriToRegister", "OAuth Redirect URI"},
	} {
		if v := c.stack.outputs[o.key]; v != "" {
			c.out("note  register %s as the app's %s in Developer Central\n", v, o.where)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	return nil
}

func orNil(err error, n int) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d confirmed", n)
}

// secretShape checks the LWA secret as the functions read it, without printing any of it.
func (c command) secretShape(ctx context.Context, arn string) (string, string) {
	const what = "the LWA secret holds this app's client ID and a client secret"
	out, err := c.env.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		return what, "cannot read it: " + err.Error()
	}
	var v struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		ExpiresAt    string `json:"client_secret_expires_at"`
	}
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v) != nil {
		return what, `it is not JSON {"client_id":"…","client_secret":"…"}`
	}
	switch {
	case !strings.HasPrefix(v.ClientID, "amzn1.application-oa2-client."):
		return what, "client_id is not an LWA client ID (amzn1.application-oa2-client.…): put the app's LWA credentials in it"
	case v.ClientSecret == "":
		return what, "client_secret is empty"
	}
	if t, err := time.Parse(time.RFC3339, v.ExpiresAt); err == nil {
		left := t.Sub(c.now())
		if left < 30*24*time.Hour {
			return what, fmt.Sprintf("the client secret expires in %d days: rotate it (docs/rotation.md)", int(left.Hours()/24))
		}
	}
	return what, ""
}

func (c command) subscriptions(ctx context.Context, topic string) (int, error) {
	n := 0
	p := sns.NewListSubscriptionsByTopicPaginator(c.env.SNS, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, s := range page.Subscriptions {
			if arn := aws.ToString(s.SubscriptionArn); arn != "" && arn != "PendingConfirmation" {
				n++
			}
		}
	}
	return n, nil
}

// reactivate re-activates the connections marked reauthorization_required within a window (a
// mass revocation by mistake: another app's secret, LWA misbehaving). Their tokens were kept;
// they become active and due now, so the next refresh run checks each with Amazon.
func (c command) reactivate(ctx context.Context, args []string) error {
	fs := quietFlags("reactivate")
	since := fs.String("marked-since", "", "the window's start: RFC 3339, or a duration ago (e.g. 2h)")
	until := fs.String("until", "", "the window's end (default now)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *since == "" {
		return usageError("reactivate takes -marked-since TIME [-until TIME]")
	}
	from, err := c.when(*since)
	if err != nil {
		return usageError("-marked-since: " + err.Error())
	}
	var to time.Time
	if *until != "" {
		if to, err = c.when(*until); err != nil {
			return usageError("-until: " + err.Error())
		}
	}
	n, err := c.store.Reactivate(ctx, from, to)
	if err != nil {
		return err
	}
	c.out("re-activated %d connection(s) marked since %s; the next refresh run checks each with Amazon\n", n, day(from))
	return nil
}

// when reads a time: RFC 3339, or a duration before now.
func (c command) when(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 2h", v)
	}
	return c.now().Add(-d), nil
}
