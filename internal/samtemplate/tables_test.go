package samtemplate

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestTablesOfTheRepositoryTemplate(t *testing.T) {
	tables, err := repositoryTemplate(t).Tables()
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 3 {
		t.Fatalf("got %d tables, want StateTable, TokenTable and SessionTable", len(tables))
	}

	state := tables["StateTable"].CreateTableInput("s")
	if got := describeKeys(state.KeySchema); got != "pk:HASH" {
		t.Errorf("state keys = %s", got)
	}
	if got := describeAttrs(state.AttributeDefinitions); got != "pk:S" {
		t.Errorf("state attributes = %s", got)
	}
	if tables["StateTable"].TTLAttribute != "expires_at" {
		t.Errorf("state TTL = %q", tables["StateTable"].TTLAttribute)
	}
	if in := tables["StateTable"].UpdateTimeToLiveInput("s"); aws.ToString(in.TableName) != "s" ||
		aws.ToString(in.TimeToLiveSpecification.AttributeName) != "expires_at" || !aws.ToBool(in.TimeToLiveSpecification.Enabled) {
		t.Errorf("state UpdateTimeToLive = %+v", in)
	}

	token := tables["TokenTable"].CreateTableInput("t")
	if got := describeKeys(token.KeySchema); got != "selling_partner_id:HASH region:RANGE" {
		t.Errorf("token keys = %s", got)
	}
	if token.StreamSpecification == nil || token.StreamSpecification.StreamViewType != "NEW_AND_OLD_IMAGES" {
		t.Errorf("token stream = %+v", token.StreamSpecification)
	}
	if got := describeAttrs(token.AttributeDefinitions); got != "selling_partner_id:S region:S refresh_shard:N refresh_due_at:N end_user_id:S" {
		t.Errorf("token attributes = %s", got)
	}
	if len(token.GlobalSecondaryIndexes) != 2 {
		t.Fatalf("token GSIs = %d, want refresh-due and end-user", len(token.GlobalSecondaryIndexes))
	}
	if eu := token.GlobalSecondaryIndexes[1]; aws.ToString(eu.IndexName) != "end-user" || describeKeys(eu.KeySchema) != "end_user_id:HASH" ||
		slices.ContainsFunc(eu.Projection.NonKeyAttributes, func(a string) bool { return strings.Contains(a, "token") }) {
		t.Errorf("end-user GSI = %s %s %v: it must project no token", aws.ToString(eu.IndexName), describeKeys(eu.KeySchema), eu.Projection.NonKeyAttributes)
	}
	gsi := token.GlobalSecondaryIndexes[0]
	if aws.ToString(gsi.IndexName) != "refresh-due" || describeKeys(gsi.KeySchema) != "refresh_shard:HASH refresh_due_at:RANGE" {
		t.Errorf("GSI = %s %s", aws.ToString(gsi.IndexName), describeKeys(gsi.KeySchema))
	}
	if gsi.Projection.ProjectionType != types.ProjectionTypeInclude ||
		strings.Join(gsi.Projection.NonKeyAttributes, ",") != "refresh_token,version,status,reauthorize_by,invalid_grant_count" {
		t.Errorf("GSI projection = %s %v", gsi.Projection.ProjectionType, gsi.Projection.NonKeyAttributes)
	}
	if token.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing = %s", token.BillingMode)
	}
	if tables["TokenTable"].TTLAttribute != "expires_at" {
		t.Errorf("token TTL = %q", tables["TokenTable"].TTLAttribute)
	}

	// Each call builds new values: changing one request must not change the next.
	token.GlobalSecondaryIndexes[0].Projection.NonKeyAttributes[0] = "changed"
	again := tables["TokenTable"].CreateTableInput("t")
	if again.GlobalSecondaryIndexes[0].Projection.NonKeyAttributes[0] != "refresh_token" {
		t.Error("CreateTableInput shares slices between calls")
	}
}

func TestParseTables(t *testing.T) {
	const table = `
Resources:
  Other:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-q"
      Tags: !If [Cond, [{Key: a, Value: b}], !Ref AWS::NoValue]
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-t"
      SSESpecification: {SSEEnabled: true, KMSMasterKeyId: !GetAtt Key.Arn}
      BillingMode: %BILLING%
      AttributeDefinitions:
        - {AttributeName: id, AttributeType: %TYPE%}
      KeySchema:
        - {AttributeName: %KEY%, KeyType: HASH}
%EXTRA%
Outputs:
  X:
    Value: !GetAtt T.Arn
`
	tests := []struct {
		name                     string
		billing, typ, key, extra string
		wantErr                  string
	}{
		{name: "tags outside the shape are ignored", billing: "PAY_PER_REQUEST", typ: "S", key: "id"},
		{name: "TTL disabled", billing: "PAY_PER_REQUEST", typ: "S", key: "id",
			extra: "      TimeToLiveSpecification: {AttributeName: ttl, Enabled: false}"},
		{name: "short-form intrinsic in the shape", billing: "!Ref Billing", typ: "S", key: "id", wantErr: "intrinsic function !Ref"},
		{name: "long-form intrinsic in the shape", billing: "PAY_PER_REQUEST", typ: "S", key: "id",
			extra:   "      TimeToLiveSpecification: {\"Fn::If\": [C, {AttributeName: a, Enabled: true}, {Ref: AWS::NoValue}]}",
			wantErr: "intrinsic function Fn::If"},
		{name: "provisioned", billing: "PROVISIONED", typ: "S", key: "id", wantErr: "only PAY_PER_REQUEST"},
		{name: "unknown attribute type", billing: "PAY_PER_REQUEST", typ: "X", key: "id", wantErr: "unknown AttributeType"},
		{name: "undefined key", billing: "PAY_PER_REQUEST", typ: "S", key: "nope", wantErr: "not in AttributeDefinitions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.NewReplacer("%BILLING%", tc.billing, "%TYPE%", tc.typ, "%KEY%", tc.key, "%EXTRA%", tc.extra).Replace(table)
			tpl, err := Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			tables, err := tpl.Tables()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tables) != 1 || tables["T"].LogicalID != "T" || tables["T"].TTLAttribute != "" || tables["T"].UpdateTimeToLiveInput("t") != nil {
				t.Fatalf("tables = %+v", tables)
			}
		})
	}
}

func describeKeys(keys []types.KeySchemaElement) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return strings.Join(parts, " ")
}

func describeAttrs(attrs []types.AttributeDefinition) string {
	var parts []string
	for _, a := range attrs {
		parts = append(parts, aws.ToString(a.AttributeName)+":"+string(a.AttributeType))
	}
	return strings.Join(parts, " ")
}
