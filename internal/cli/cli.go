// Package cli is the operator's command line (cmd/sellerauth): it finds the stack's table,
// secret, topic and functions from its CloudFormation outputs, looks at and repairs connections
// without hand-written DynamoDB calls against attribute names, and checks the set-up. It never
// prints a token or the client secret. Each command is one or a few calls of the same stores the
// functions use, so it keeps their rules (conditional writes, history, lifecycle events).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

// Clients are the AWS clients the commands use; *X.Client of the SDK satisfies each.
type Clients struct {
	DynamoDB interface {
		dynamo.API
		Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	}
	CloudFormation interface {
		DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	}
	Lambda interface {
		Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
	}
	Secrets interface {
		GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	}
	SNS interface {
		ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	}
}

// Env is what a run needs besides its arguments.
type Env struct {
	Clients
	Getenv         func(string) string
	Stdout, Stderr io.Writer
	Now            func() time.Time
}

const usage = `usage: sellerauth [-stack NAME | -table NAME] COMMAND [FLAGS] [ARGUMENTS]

-stack reads the stack's outputs (TokenTableName, LwaCredentialsSecretArn, AlarmTopicArn,
RefreshFunctionName, LoginUri, RedirectUriToRegister); -table (or $TOKEN_TABLE_NAME) names the
token table alone. AWS credentials and region come from the usual configuration.

Commands (none prints a token):
  connections [-end-user ID] [-status S] [-region R]   list connections
  show SELLING_PARTNER_ID REGION                       one connection, and what it replaced
  disconnect [-end-user ID] SELLING_PARTNER_ID REGION  delete a connection and its tokens
  restore SELLING_PARTNER_ID REGION                    put back the refresh token (and end user)
                                                       the last authorization replaced
  reactivate -marked-since TIME [-until TIME]          re-activate the connections marked
                                                       reauthorization_required in that window
                                                       (RFC 3339, or a duration ago such as 2h)
  refresh -now                                         run the refresh function now
  doctor                                               check the secret, the app ID, the alarm
                                                       subscriptions; print the URIs to register
`

// stack is what the commands know of the deployment.
type stack struct {
	outputs    map[string]string
	parameters map[string]string
}

func (s stack) table() string { return s.outputs["TokenTableName"] }

// Run runs one command line and returns the exit code: 0, 1 for a failure, 2 for a usage error.
func Run(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("sellerauth", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprint(env.Stderr, usage) }
	stackName := fs.String("stack", "", "the CloudFormation stack")
	table := fs.String("table", env.Getenv("TOKEN_TABLE_NAME"), "the token table")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	st := stack{outputs: map[string]string{}, parameters: map[string]string{}}
	if *stackName != "" {
		var err error
		if st, err = describe(ctx, env, *stackName); err != nil {
			fmt.Fprintln(env.Stderr, "sellerauth:", err)
			return 1
		}
	}
	if *table != "" && (*stackName == "" || st.table() == "") {
		st.outputs["TokenTableName"] = *table
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	c := command{env: env, stack: st, store: &dynamo.TokenStore{Client: env.DynamoDB, Table: st.table(), Now: env.Now}}
	run, ok := map[string]func(context.Context, []string) error{
		"connections": c.connections,
		"show":        c.show,
		"disconnect":  c.disconnect,
		"restore":     c.restore,
		"reactivate":  c.reactivate,
		"refresh":     c.refresh,
		"doctor":      c.doctor,
	}[cmd]
	if !ok {
		fs.Usage()
		return 2
	}
	if cmd != "doctor" && cmd != "refresh" && st.table() == "" {
		fmt.Fprintln(env.Stderr, "sellerauth: name the stack (-stack) or the token table (-table, $TOKEN_TABLE_NAME)")
		return 2
	}
	err := run(ctx, rest)
	var usageErr usageError
	switch {
	case errors.As(err, &usageErr):
		fmt.Fprintln(env.Stderr, "sellerauth:", err)
		fs.Usage()
		return 2
	case err != nil:
		fmt.Fprintln(env.Stderr, "sellerauth:", err)
		return 1
	}
	return 0
}

type usageError string

func (e usageError) Error() string { return string(e) }

func describe(ctx context.Context, env Env, name string) (stack, error) {
	out, err := env.CloudFormation.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return stack{}, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) != 1 {
		return stack{}, fmt.Errorf("describe stack %s: %d stacks", name, len(out.Stacks))
	}
	st := stack{outputs: map[string]string{}, parameters: map[string]string{}}
	for _, o := range out.Stacks[0].Outputs {
		st.outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range out.Stacks[0].Parameters {
		st.parameters[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return st, nil
}

type command struct {
	env   Env
	stack stack
	store *dynamo.TokenStore
}

func (c command) out(format string, a ...any) { fmt.Fprintf(c.env.Stdout, format, a...) }

// sellerRegion reads the two positional arguments of the commands on one connection.
func sellerRegion(fs *flag.FlagSet, args []string) (string, amazon.Region, error) {
	if err := fs.Parse(args); err != nil {
		return "", "", usageError(err.Error())
	}
	if fs.NArg() != 2 {
		return "", "", usageError(fs.Name() + " takes SELLING_PARTNER_ID REGION")
	}
	region := amazon.Region(fs.Arg(1))
	if !region.Valid() {
		return "", "", usageError(fmt.Sprintf("region must be na, eu or fe, not %q", region))
	}
	return fs.Arg(0), region, nil
}

func quietFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func (c command) show(ctx context.Context, args []string) error {
	seller, region, err := sellerRegion(quietFlags("show"), args)
	if err != nil {
		return err
	}
	it, err := c.store.Get(ctx, seller, region)
	if errors.Is(err, dynamo.ErrNotFound) {
		return fmt.Errorf("no connection of %s in %s", seller, region)
	}
	if err != nil {
		return err
	}
	c.describe(it)
	return nil
}

func (c command) restore(ctx context.Context, args []string) error {
	seller, region, err := sellerRegion(quietFlags("restore"), args)
	if err != nil {
		return err
	}
	it, err := c.store.Restore(ctx, seller, region)
	if errors.Is(err, dynamo.ErrNotFound) {
		return fmt.Errorf("no connection of %s in %s", seller, region)
	}
	if err != nil {
		return err
	}
	c.out("restored: the replaced refresh token is back and the one it replaced is kept in its place (restore again to undo); the next refresh run checks it with Amazon\n")
	c.describe(it)
	return nil
}

func (c command) disconnect(ctx context.Context, args []string) error {
	fs := quietFlags("disconnect")
	endUser := fs.String("end-user", "", "only if the connection is this end user's")
	seller, region, err := sellerRegion(fs, args)
	if err != nil {
		return err
	}
	if err := c.store.Disconnect(ctx, seller, region, *endUser); err != nil {
		return err
	}
	c.out("disconnected %s in %s: the item and every token deleted\n", seller, region)
	return nil
}

// describe prints a connection without any token: whether one is there is all an operator needs.
func (c command) describe(it dynamo.Item) {
	c.out("selling_partner_id  %s\nregion              %s\naccount_type        %s\nstatus              %s\n",
		it.SellingPartnerID, it.Region, it.AccountType, it.Status)
	c.out("end_user_id         %s\nauthorized_at       %s\nreauthorize_by      %s\nversion             %d\n",
		orNone(it.EndUserID), day(it.AuthorizedAt), day(it.ReauthorizeBy), it.Version)
	c.out("access token        %s\n", freshness(it, c.now()))
	if it.PreviousRefreshToken == "" {
		c.out("replaced            nothing kept\n")
		return
	}
	c.out("replaced            a refresh token of end user %s (status %s, authorized %s), kept until %s\n",
		orNone(it.PreviousEndUserID), orNone(string(it.PreviousStatus)), day(it.PreviousAuthorizedAt), day(it.PreviousKeptUntil))
}

func (c command) now() time.Time {
	if c.env.Now != nil {
		return c.env.Now()
	}
	return time.Now()
}

func freshness(it dynamo.Item, now time.Time) string {
	if it.AccessTokenExpiresAt.IsZero() {
		return "none"
	}
	left := it.AccessTokenExpiresAt.Sub(now).Round(time.Second)
	if left <= 0 {
		return "expired " + (-left).String() + " ago"
	}
	return "valid for " + left.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func trimLines(s string) string { return strings.TrimRight(s, "\n") }
