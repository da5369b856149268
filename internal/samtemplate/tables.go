package samtemplate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// Table is what an AWS::DynamoDB::Table resource of the template says about the shape of a table:
// keys, attribute types, indexes, stream and TTL. Deployment-only properties (encryption,
// point-in-time recovery, deletion policies) are left out because a local table cannot honour them.
type Table struct {
	// LogicalID is the resource's name in the template, e.g. "StateTable".
	LogicalID string
	// TTLAttribute names the TTL attribute, or is empty when the table has TTL disabled.
	TTLAttribute string

	props tableProperties
}

// The subset of CloudFormation's AWS::DynamoDB::Table properties that shapes a table.
type tableProperties struct {
	BillingMode            string                `yaml:"BillingMode"`
	AttributeDefinitions   []attributeDefinition `yaml:"AttributeDefinitions"`
	KeySchema              []keyElement          `yaml:"KeySchema"`
	GlobalSecondaryIndexes []secondaryIndex      `yaml:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes  []secondaryIndex      `yaml:"LocalSecondaryIndexes"`
	TimeToLive             *struct {
		AttributeName string `yaml:"AttributeName"`
		Enabled       bool   `yaml:"Enabled"`
	} `yaml:"TimeToLiveSpecification"`
	Stream *struct {
		StreamViewType string `yaml:"StreamViewType"`
	} `yaml:"StreamSpecification"`
}

type attributeDefinition struct {
	AttributeName string `yaml:"AttributeName"`
	AttributeType string `yaml:"AttributeType"`
}

type keyElement struct {
	AttributeName string `yaml:"AttributeName"`
	KeyType       string `yaml:"KeyType"`
}

type secondaryIndex struct {
	IndexName  string       `yaml:"IndexName"`
	KeySchema  []keyElement `yaml:"KeySchema"`
	Projection struct {
		ProjectionType   string   `yaml:"ProjectionType"`
		NonKeyAttributes []string `yaml:"NonKeyAttributes"`
	} `yaml:"Projection"`
}

// shapeProperties are the properties decoded above; only these must be free of intrinsic
// functions, since nothing here can evaluate !Ref or !If.
var shapeProperties = []string{
	"BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
	"LocalSecondaryIndexes", "TimeToLiveSpecification", "StreamSpecification",
}

// Tables returns every AWS::DynamoDB::Table of the template, keyed by logical ID. The template's
// own tags (!Ref, !Sub, !GetAtt, !If, ...) are fine anywhere except in the properties that shape
// a table, which must be literal.
func (t *Template) Tables() (map[string]Table, error) {
	tables := map[string]Table{}
	err := t.resourcesOfType("AWS::DynamoDB::Table", func(id string, props *yaml.Node) error {
		table, err := parseTable(id, props)
		if err != nil {
			return fmt.Errorf("resource %s: %w", id, err)
		}
		tables[id] = table
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tables, nil
}

func parseTable(id string, props *yaml.Node) (Table, error) {
	if props == nil || props.Kind != yaml.MappingNode {
		return Table{}, errors.New("no Properties mapping")
	}
	for _, name := range shapeProperties {
		if v := value(props, name); v != nil {
			if err := rejectIntrinsics(v); err != nil {
				return Table{}, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	var p tableProperties
	if err := props.Decode(&p); err != nil {
		return Table{}, fmt.Errorf("decode Properties: %w", err)
	}
	if err := p.validate(); err != nil {
		return Table{}, err
	}
	table := Table{LogicalID: id, props: p}
	if p.TimeToLive != nil && p.TimeToLive.Enabled {
		table.TTLAttribute = p.TimeToLive.AttributeName
	}
	return table, nil
}

// rejectIntrinsics fails on a CloudFormation function in either form (short tag or Fn:: key),
// which would otherwise be decoded as if it were the literal value.
func rejectIntrinsics(n *yaml.Node) error {
	if intrinsic(n) {
		return fmt.Errorf("line %d: intrinsic function %s is not supported here", n.Line, n.Tag)
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "Ref" || strings.HasPrefix(k, "Fn::") {
				return fmt.Errorf("line %d: intrinsic function %s is not supported here", n.Content[i].Line, k)
			}
		}
	}
	for _, c := range n.Content {
		if err := rejectIntrinsics(c); err != nil {
			return err
		}
	}
	return nil
}

func (p tableProperties) validate() error {
	if p.BillingMode != string(types.BillingModePayPerRequest) {
		return fmt.Errorf("BillingMode %q: only PAY_PER_REQUEST is supported", p.BillingMode)
	}
	defined := map[string]bool{}
	for _, a := range p.AttributeDefinitions {
		if !slices.Contains(types.ScalarAttributeType("").Values(), types.ScalarAttributeType(a.AttributeType)) {
			return fmt.Errorf("attribute %q: unknown AttributeType %q", a.AttributeName, a.AttributeType)
		}
		defined[a.AttributeName] = true
	}
	checkKeys := func(where string, keys []keyElement) error {
		if len(keys) == 0 {
			return fmt.Errorf("%s: empty KeySchema", where)
		}
		for _, k := range keys {
			if !slices.Contains(types.KeyType("").Values(), types.KeyType(k.KeyType)) {
				return fmt.Errorf("%s: key %q: unknown KeyType %q", where, k.AttributeName, k.KeyType)
			}
			if !defined[k.AttributeName] {
				return fmt.Errorf("%s: key %q is not in AttributeDefinitions", where, k.AttributeName)
			}
		}
		return nil
	}
	if err := checkKeys("table", p.KeySchema); err != nil {
		return err
	}
	for _, ix := range slices.Concat(p.GlobalSecondaryIndexes, p.LocalSecondaryIndexes) {
		if err := checkKeys("index "+ix.IndexName, ix.KeySchema); err != nil {
			return err
		}
		if !slices.Contains(types.ProjectionType("").Values(), types.ProjectionType(ix.Projection.ProjectionType)) {
			return fmt.Errorf("index %s: unknown ProjectionType %q", ix.IndexName, ix.Projection.ProjectionType)
		}
	}
	if p.TimeToLive != nil && p.TimeToLive.Enabled && p.TimeToLive.AttributeName == "" {
		return errors.New("TimeToLiveSpecification enabled without AttributeName")
	}
	return nil
}

// CreateTableInput is the CreateTable request for a table of this shape named name. Each call
// builds new values, so callers may change the result.
func (tb Table) CreateTableInput(name string) *dynamodb.CreateTableInput {
	p := tb.props
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingMode(p.BillingMode),
		KeySchema:   keySchema(p.KeySchema),
	}
	for _, a := range p.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	for _, ix := range p.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.IndexName),
			KeySchema:  keySchema(ix.KeySchema),
			Projection: ix.projection(),
		})
	}
	for _, ix := range p.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(ix.IndexName),
			KeySchema:  keySchema(ix.KeySchema),
			Projection: ix.projection(),
		})
	}
	if p.Stream != nil {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(p.Stream.StreamViewType),
		}
	}
	return in
}

func keySchema(keys []keyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	return out
}

func (ix secondaryIndex) projection() *types.Projection {
	return &types.Projection{
		ProjectionType:   types.ProjectionType(ix.Projection.ProjectionType),
		NonKeyAttributes: slices.Clone(ix.Projection.NonKeyAttributes),
	}
}

// UpdateTimeToLiveInput is the request that enables the table's TTL, or nil when it has none.
func (tb Table) UpdateTimeToLiveInput(name string) *dynamodb.UpdateTimeToLiveInput {
	if tb.TTLAttribute == "" {
		return nil
	}
	return &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(tb.TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	}
}

// Create creates the table named name, waits until it is active and enables its TTL: what
// CloudFormation does for the resource, minus what only a deployed table can have. The tests'
// tables and the dev stack's are made by this one function, so they cannot differ.
func (tb Table) Create(ctx context.Context, client *dynamodb.Client, name string) error {
	if _, err := client.CreateTable(ctx, tb.CreateTableInput(name)); err != nil {
		// The SDK retries a CreateTable whose answer was lost (a busy moto_server): the retry then
		// finds the table its first attempt created. Names are the caller's alone, so that is success.
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s (%s): %w", name, tb.LogicalID, err)
		}
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	if in := tb.UpdateTimeToLiveInput(name); in != nil {
		if _, err := client.UpdateTimeToLive(ctx, in); err != nil {
			return fmt.Errorf("enable TTL on table %s: %w", name, err)
		}
	}
	return nil
}
