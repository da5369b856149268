package awstest_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/awstest"
)

func TestCreateTablesMatchesTheTemplate(t *testing.T) {
	t.Parallel()
	env := awstest.Start(t)
	tables := env.CreateTables(t)
	other := env.CreateTables(t)
	if tables.State == other.State || tables.Token == other.Token || tables.State == tables.Token {
		t.Fatalf("table names are not unique: %+v %+v", tables, other)
	}
	ctx := t.Context()

	for _, tc := range []struct{ name, table string }{{"state", tables.State}, {"token", tables.Token}} {
		ttl, err := env.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tc.table)})
		if err != nil {
			t.Fatal(err)
		}
		if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expires_at" {
			t.Errorf("%s TTL = %s on %q", tc.name, d.TimeToLiveStatus, aws.ToString(d.AttributeName))
		}
	}

	desc, err := env.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tables.Token)})
	if err != nil {
		t.Fatal(err)
	}
	tbl := desc.Table
	if len(tbl.KeySchema) != 2 || aws.ToString(tbl.KeySchema[0].AttributeName) != "selling_partner_id" ||
		aws.ToString(tbl.KeySchema[1].AttributeName) != "region" {
		t.Errorf("token key schema = %+v", tbl.KeySchema)
	}
	if len(tbl.GlobalSecondaryIndexes) != 2 || aws.ToString(tbl.GlobalSecondaryIndexes[0].IndexName) != "refresh-due" ||
		aws.ToString(tbl.GlobalSecondaryIndexes[1].IndexName) != "end-user" {
		t.Fatalf("token GSIs = %+v", tbl.GlobalSecondaryIndexes)
	}
	if s := tbl.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewAndOldImages {
		t.Errorf("token stream = %+v", s)
	}
	if p := tbl.GlobalSecondaryIndexes[0].Projection; p.ProjectionType != types.ProjectionTypeInclude || len(p.NonKeyAttributes) != 5 {
		t.Errorf("GSI projection = %+v", p)
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	env := awstest.Start(t)
	id := env.CreateSecret(t, "first")
	read := func() string {
		out, err := env.SecretsManager.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.SecretString)
	}
	if got := read(); got != "first" {
		t.Fatalf("secret = %q", got)
	}
	env.PutSecret(t, id, "second")
	if got := read(); got != "second" {
		t.Fatalf("rotated secret = %q", got)
	}
	if other := env.CreateSecret(t, "first"); other == id {
		t.Fatal("secret IDs are not unique")
	}
}

func TestCountCalls(t *testing.T) {
	t.Parallel()
	env := awstest.Start(t)
	tables := env.CreateTables(t)

	cfg := env.Config.Copy()
	calls := awstest.CountCalls(&cfg)
	second := awstest.CountCalls(&cfg) // two counters on one config must not clash
	db := dynamodb.NewFromConfig(cfg)
	sm := secretsmanager.NewFromConfig(cfg)
	for range 3 {
		if _, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{
			TableName: aws.String(tables.State),
			Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("missing")})

	want := map[string]int{"DynamoDB.GetItem": 3, "SecretsManager.GetSecretValue": 1}
	for op, n := range want {
		if calls.Count(op) != n || second.Count(op) != n {
			t.Errorf("%s = %d and %d, want %d", op, calls.Count(op), second.Count(op), n)
		}
	}
	if calls.Total() != 4 || len(calls.Counts()) != 2 {
		t.Errorf("total = %d, counts = %v", calls.Total(), calls.Counts())
	}
	calls.Reset()
	if calls.Total() != 0 || second.Total() != 4 {
		t.Errorf("after reset: %d and %d", calls.Total(), second.Total())
	}

	// The shared configuration is untouched.
	if _, err := env.DynamoDB.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(tables.State),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}},
	}); err != nil {
		t.Fatal(err)
	}
	if calls.Total() != 0 || len(env.Config.APIOptions) != 0 {
		t.Errorf("the counter leaked into env.Config: %d, %d options", calls.Total(), len(env.Config.APIOptions))
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	env := awstest.Start(t)
	cfg := env.Unreachable()
	calls := awstest.CountCalls(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	_, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String("any"),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}},
	})
	if err == nil {
		t.Fatal("a call to an unreachable AWS succeeded")
	}
	var apiErr interface{ ErrorCode() string }
	if errors.As(err, &apiErr) {
		t.Errorf("got an API error %q, want a transport error", apiErr.ErrorCode())
	}
	if calls.Total() != 1 {
		t.Errorf("calls = %d", calls.Total())
	}
}
