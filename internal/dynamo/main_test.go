package dynamo_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

func TestMain(m *testing.M) { os.Exit(awstest.Main(m)) }

// updatedAt is the token store's clock in every test.
var updatedAt = time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)

// fixture is one test's tables on the shared moto, with stores whose calls are counted.
type fixture struct {
	env    *awstest.Env
	tables awstest.Tables
	calls  *awstest.CallCounter
	states *dynamo.StateStore
	tokens *dynamo.TokenStore
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := awstest.Start(t)
	tables := env.CreateTables(t)
	cfg := env.Config.Copy()
	calls := awstest.CountCalls(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	return &fixture{
		env:    env,
		tables: tables,
		calls:  calls,
		states: &dynamo.StateStore{Client: db, Table: tables.State},
		tokens: &dynamo.TokenStore{Client: db, Table: tables.Token, Now: func() time.Time { return updatedAt }},
	}
}

// raw reads an item as DynamoDB holds it, bypassing the code under test.
func (f *fixture) raw(t *testing.T, table string, key map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.env.DynamoDB.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// shape maps each attribute name to its DynamoDB type and value, e.g. "N:1700000000".
func shape(item map[string]types.AttributeValue) map[string]string {
	out := map[string]string{}
	for name, v := range item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out[name] = "S:" + v.Value
		case *types.AttributeValueMemberN:
			out[name] = "N:" + v.Value
		default:
			out[name] = fmt.Sprintf("%T", v)
		}
	}
	return out
}

func epoch(t time.Time) string { return fmt.Sprint(t.Unix()) }
