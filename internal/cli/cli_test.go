package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/cli"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/refresh"
)

func TestMain(m *testing.M) { os.Exit(awstest.Main(m)) }

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fakeLambda stands in for Lambda's Invoke (moto runs functions only in Docker).
type fakeLambda struct{ invoked []string }

func (f *fakeLambda) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.invoked = append(f.invoked, aws.ToString(in.FunctionName)+" "+string(in.Payload))
	return &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"due":3,"refreshed":3}`)}, nil
}

type fixture struct {
	t      *testing.T
	env    cli.Env
	store  *dynamo.TokenStore
	lambda *fakeLambda
	stack  string
}

// newFixture deploys, in moto, a stack whose outputs name a token table, the LWA secret and an
// alarm topic, as the real stack's do.
func newFixture(t *testing.T, secret string, subscribe bool) *fixture {
	env := awstest.Start(t)
	table := env.CreateTables(t).Token
	secretID := env.CreateSecret(t, secret)
	cfg := env.Config
	cfn := cloudformation.NewFromConfig(cfg)
	name := fmt.Sprintf("sellerauth-cli-%d", time.Now().UnixNano())
	body := fmt.Sprintf(`{"Resources":{"AlarmTopic":{"Type":"AWS::SNS::Topic"}},
	  "Parameters":{"ApplicationId":{"Type":"String"}},
	  "Outputs":{"TokenTableName":{"Value":%q},"LwaCredentialsSecretArn":{"Value":%q},
	    "AlarmTopicArn":{"Value":{"Ref":"AlarmTopic"}},"RefreshFunctionName":{"Value":"sellerauth-RefreshFunction-X"},
	    "LoginUri":{"Value":"https://auth.example.com/login"},"RedirectUriToRegister":{"Value":"https://auth.example.com/callback"}}}`,
		table, secretID)
	if _, err := cfn.CreateStack(t.Context(), &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body),
		Parameters: []cfntypes.Parameter{{ParameterKey: aws.String("ApplicationId"), ParameterValue: aws.String("amzn1.sp.solution.x")}}}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, stack: name, lambda: &fakeLambda{}}
	if subscribe {
		st, _ := cfn.DescribeStacks(t.Context(), &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		for _, o := range st.Stacks[0].Outputs {
			if aws.ToString(o.OutputKey) == "AlarmTopicArn" {
				if _, err := sns.NewFromConfig(cfg).Subscribe(t.Context(), &sns.SubscribeInput{TopicArn: o.OutputValue,
					Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:123456789012:ops")}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	db := dynamodb.NewFromConfig(cfg)
	f.store = &dynamo.TokenStore{Client: db, Table: table, Now: func() time.Time { return now }}
	f.env = cli.Env{
		Clients: cli.Clients{DynamoDB: db, CloudFormation: cfn, Lambda: f.lambda,
			Secrets: secretsmanager.NewFromConfig(cfg), SNS: sns.NewFromConfig(cfg)},
		Getenv: func(string) string { return "" },
		Now:    func() time.Time { return now },
	}
	return f
}

func (f *fixture) save(seller, endUser, refresh string, at time.Time) {
	f.t.Helper()
	if err := f.store.SaveAuthorization(f.t.Context(), authflow.Authorization{
		SellingPartnerID: seller, Region: amazon.RegionEU, AccountType: amazon.Seller, EndUserID: endUser,
		RefreshToken: refresh, AccessToken: "Atza|access-" + refresh, AccessTokenExpiresAt: at.Add(time.Hour), AuthorizedAt: at,
	}); err != nil {
		f.t.Fatal(err)
	}
}

// run runs the command line against the stack and fails the test if anything secret is printed.
func (f *fixture) run(args ...string) (int, string, string) {
	var out, errs bytes.Buffer
	env := f.env
	env.Stdout, env.Stderr = &out, &errs
	code := cli.Run(f.t.Context(), append([]string{"-stack", f.stack}, args...), env)
	if all := out.String() + errs.String(); strings.Contains(all, "Atz") || strings.Contains(all, "cli-test-secret") {
		f.t.Fatalf("sellerauth %v printed a token or the client secret:\n%s", args, all)
	}
	return code, out.String(), errs.String()
}

const goodSecret = `{"client_id":"amzn1.application-oa2-client.0123","client_secret":"cli-test-secret"}`

// TestRestoreIsOneOperatorStep: a connection was re-authorized; the operator puts the replaced
// refresh token back with one command, and can undo it with the same command.
func TestRestoreIsOneOperatorStep(t *testing.T) {
	f := newFixture(t, goodSecret, true)
	f.save("A1SELLER", "alice", "Atzr|first", now.Add(-48*time.Hour))
	f.save("A1SELLER", "alice", "Atzr|second", now.Add(-time.Hour))

	if code, out, _ := f.run("show", "A1SELLER", "eu"); code != 0 || !strings.Contains(out, "replaced            a refresh token of end user alice") {
		t.Fatalf("show: %d\n%s", code, out)
	}
	if code, out, errs := f.run("restore", "A1SELLER", "eu"); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %d\n%s%s", code, out, errs)
	}
	it, err := f.store.Get(t.Context(), "A1SELLER", amazon.RegionEU)
	if err != nil {
		t.Fatal(err)
	}
	if it.RefreshToken != "Atzr|first" || it.PreviousRefreshToken != "Atzr|second" || it.Status != dynamo.StatusActive || !it.AuthorizedAt.Equal(now.Add(-48*time.Hour)) {
		t.Fatalf("after restore: refresh %q, previous %q, status %s, authorized %v", it.RefreshToken, it.PreviousRefreshToken, it.Status, it.AuthorizedAt)
	}
	if code, _, _ := f.run("restore", "A1SELLER", "eu"); code != 0 {
		t.Fatal("restoring again (undo) failed")
	}
	if it, _ := f.store.Get(t.Context(), "A1SELLER", amazon.RegionEU); it.RefreshToken != "Atzr|second" {
		t.Fatal("the second restore did not undo the first")
	}
	if code, _, errs := f.run("restore", "A9NOBODY", "eu"); code != 1 || !strings.Contains(errs, "no connection") {
		t.Fatalf("restore of nobody: %d %s", code, errs)
	}
	if code, _, _ := f.run("restore", "A1SELLER", "mars"); code != 2 {
		t.Fatal("a bad region was accepted")
	}
	f.save("A2FRESH", "", "Atzr|only", now)
	if code, _, errs := f.run("restore", "A2FRESH", "eu"); code != 1 || !strings.Contains(errs, "no replaced refresh token") {
		t.Fatalf("restore with nothing kept: %d %s", code, errs)
	}
}

func TestConnectionsAndDisconnect(t *testing.T) {
	f := newFixture(t, goodSecret, true)
	f.save("A1ALICE", "alice", "Atzr|a", now)
	f.save("A2BOB", "bob", "Atzr|b", now)
	f.save("A3ANON", "", "Atzr|c", now)
	code, out, _ := f.run("connections")
	if code != 0 || !strings.Contains(out, "3 connection(s)") || !strings.Contains(out, "A3ANON") || !strings.Contains(out, "(none)") {
		t.Fatalf("connections: %d\n%s", code, out)
	}
	if code, out, _ := f.run("connections", "-end-user", "alice"); code != 0 || !strings.Contains(out, "1 connection(s)") || !strings.Contains(out, "A1ALICE") {
		t.Fatalf("connections of alice: %d\n%s", code, out)
	}
	if code, out, _ := f.run("connections", "-status", "reauthorization_required"); code != 0 || !strings.Contains(out, "0 connection(s)") {
		t.Fatalf("dead connections: %d\n%s", code, out)
	}
	if code, _, errs := f.run("disconnect", "-end-user", "alice", "A2BOB", "eu"); code != 1 || !strings.Contains(errs, "another user") {
		t.Fatalf("disconnecting bob's as alice's: %d %s", code, errs)
	}
	if code, out, _ := f.run("disconnect", "A2BOB", "eu"); code != 0 || !strings.Contains(out, "disconnected") {
		t.Fatalf("disconnect: %d %s", code, out)
	}
	if _, err := f.store.Get(t.Context(), "A2BOB", amazon.RegionEU); err == nil {
		t.Fatal("the connection is still there")
	}
}

func TestRefreshNowAndDoctor(t *testing.T) {
	f := newFixture(t, goodSecret, true)
	if code, out, _ := f.run("refresh", "-now"); code != 0 || !strings.Contains(out, `"refreshed":3`) ||
		len(f.lambda.invoked) != 1 || !strings.HasPrefix(f.lambda.invoked[0], "sellerauth-RefreshFunction-X ") {
		t.Fatalf("refresh -now: %d %s %v", code, out, f.lambda.invoked)
	}
	code, out, _ := f.run("doctor")
	if code != 0 || strings.Count(out, "ok    ") != 3 || !strings.Contains(out, "register https://auth.example.com/callback") {
		t.Fatalf("doctor on a good stack: %d\n%s", code, out)
	}

	bad := newFixture(t, `{"client_id":"amzn1.sp.solution.wrong","client_secret":"cli-test-secret"}`, false)
	code, out, _ = bad.run("doctor")
	if code != 1 || !strings.Contains(out, "FAIL  the LWA secret") || !strings.Contains(out, "FAIL  the alarm topic") {
		t.Fatalf("doctor on a bad stack: %d\n%s", code, out)
	}
}

// TestReactivateAfterAMassRevocation: connections marked by mistake in a window come back active,
// with their tokens; one marked before the window stays.
func TestReactivateAfterAMassRevocation(t *testing.T) {
	f := newFixture(t, goodSecret, true)
	for _, seller := range []string{"A1OLD", "A2NEW", "A3NEW"} {
		f.save(seller, "alice", "Atzr|"+seller, now.Add(-72*time.Hour))
	}
	mark := func(seller string, at time.Time) {
		t.Helper()
		it, err := f.store.Get(t.Context(), seller, amazon.RegionEU)
		if err != nil {
			t.Fatal(err)
		}
		d := refresh.Due{SellingPartnerID: seller, Region: amazon.RegionEU, RefreshToken: it.RefreshToken, Version: it.Version}
		if err := f.store.MarkReauthorizationRequired(t.Context(), d, at, at.Add(30*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	mark("A1OLD", now.Add(-48*time.Hour))
	mark("A2NEW", now.Add(-time.Hour))
	mark("A3NEW", now.Add(-30*time.Minute))
	if code, out, errs := f.run("reactivate", "-marked-since", "2h"); code != 0 || !strings.Contains(out, "re-activated 2 connection(s)") {
		t.Fatalf("reactivate: %d %s%s", code, out, errs)
	}
	for seller, want := range map[string]dynamo.Status{"A1OLD": dynamo.StatusReauthorizationRequired, "A2NEW": dynamo.StatusActive, "A3NEW": dynamo.StatusActive} {
		it, err := f.store.Get(t.Context(), seller, amazon.RegionEU)
		if err != nil {
			t.Fatal(err)
		}
		if it.Status != want || it.RefreshToken != "Atzr|"+seller || (want == dynamo.StatusActive && !it.ExpiresAt.IsZero()) {
			t.Errorf("%s: status %s, token kept %v, TTL %v", seller, it.Status, it.RefreshToken == "Atzr|"+seller, it.ExpiresAt)
		}
	}
	if code, _, _ := f.run("reactivate"); code != 2 {
		t.Fatal("reactivate without a window was accepted")
	}
}
