package streams

import (
	"context"
	"errors"
	"fmt"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// API is the part of the DynamoDB Streams client the poller uses.
type API interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Poller reads one stream from its beginning (TRIM_HORIZON), as an event source mapping does.
// It is not safe for concurrent use.
type Poller struct {
	Client    API
	StreamARN string
	// position holds, per shard, where the next read starts. Each read asks for a fresh iterator
	// from there rather than keeping the last NextShardIterator, and starts at the last record
	// read rather than after it, to check that record is still there. Both are for moto: it
	// applies a transaction's writes one by one, stream records included, and restores the tables
	// from a copy when the transaction is canceled. A read in between sees a record that then
	// vanishes, and the next write reuses its sequence number. DynamoDB never writes a stream
	// record for a canceled transaction.
	position map[string]position
}

type position struct {
	sequence string // "" for the shard's beginning
	// returned says the record at sequence, eventID, was returned already; after a rewind it
	// was not, and every record from sequence on is returned again.
	returned bool
	eventID  string
}

// Batch is the new records of one shard, in order.
type Batch struct {
	Shard   string
	Records []lambdaevents.DynamoDBEventRecord
}

// Next returns the records written since the last call, shard by shard.
func (p *Poller) Next(ctx context.Context) ([]Batch, error) {
	if p.position == nil {
		p.position = map[string]position{}
	}
	desc, err := p.Client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.StreamARN)})
	if err != nil {
		return nil, fmt.Errorf("describe stream: %w", err)
	}
	var out []Batch
	for _, shard := range desc.StreamDescription.Shards {
		id := aws.ToString(shard.ShardId)
		it, err := p.iterator(ctx, id, p.position[id])
		if err != nil {
			return nil, err
		}
		b := Batch{Shard: id}
		for it != "" {
			page, err := p.Client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(it)})
			if err != nil {
				return nil, fmt.Errorf("get records: %w", err)
			}
			for _, r := range page.Records {
				rec, err := lambdaRecord(r, p.StreamARN)
				if err != nil {
					return nil, err
				}
				if from := p.position[id]; from.returned && rec.EventID == from.eventID && rec.Change.SequenceNumber == from.sequence {
					continue // returned before
				}
				b.Records = append(b.Records, rec)
				p.position[id] = position{sequence: rec.Change.SequenceNumber, returned: true, eventID: rec.EventID}
			}
			it = aws.ToString(page.NextShardIterator)
			if len(page.Records) == 0 {
				break
			}
		}
		if len(b.Records) > 0 {
			out = append(out, b)
		}
	}
	return out, nil
}

// Skip moves past every record written so far without returning them, as a mapping created
// with StartingPosition LATEST would start.
func (p *Poller) Skip(ctx context.Context) error {
	_, err := p.Next(ctx)
	return err
}

// Rewind makes the next Next return again every record from sequenceNumber on (in its shard), as
// Lambda does after a batch item failure.
func (p *Poller) Rewind(ctx context.Context, shardID, sequenceNumber string) error {
	p.position[shardID] = position{sequence: sequenceNumber}
	return nil
}

func (p *Poller) iterator(ctx context.Context, shardID string, from position) (string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.StreamARN), ShardId: aws.String(shardID),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if from.sequence != "" {
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAtSequenceNumber, aws.String(from.sequence)
	}
	out, err := p.Client.GetShardIterator(ctx, in)
	if err != nil {
		return "", fmt.Errorf("get shard iterator: %w", err)
	}
	return aws.ToString(out.ShardIterator), nil
}

// lambdaRecord is the record as Lambda's event source mapping hands it to a function.
func lambdaRecord(r types.Record, arn string) (lambdaevents.DynamoDBEventRecord, error) {
	if r.Dynamodb == nil {
		return lambdaevents.DynamoDBEventRecord{}, errors.New("stream record without dynamodb")
	}
	rec := lambdaevents.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: arn,
	}
	if r.UserIdentity != nil {
		rec.UserIdentity = &lambdaevents.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	d := r.Dynamodb
	rec.Change = lambdaevents.DynamoDBStreamRecord{
		SequenceNumber: aws.ToString(d.SequenceNumber),
		SizeBytes:      aws.ToInt64(d.SizeBytes),
		StreamViewType: string(d.StreamViewType),
	}
	if d.ApproximateCreationDateTime != nil {
		rec.Change.ApproximateCreationDateTime = lambdaevents.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
	}
	var err error
	if rec.Change.Keys, err = image(d.Keys); err != nil {
		return rec, err
	}
	if rec.Change.NewImage, err = image(d.NewImage); err != nil {
		return rec, err
	}
	if rec.Change.OldImage, err = image(d.OldImage); err != nil {
		return rec, err
	}
	return rec, nil
}

func image(m map[string]types.AttributeValue) (map[string]lambdaevents.DynamoDBAttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]lambdaevents.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		av, err := attribute(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func attribute(v types.AttributeValue) (lambdaevents.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return lambdaevents.NewStringAttribute(v.Value), nil
	case *types.AttributeValueMemberN:
		return lambdaevents.NewNumberAttribute(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return lambdaevents.NewBooleanAttribute(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return lambdaevents.NewNullAttribute(), nil
	case *types.AttributeValueMemberB:
		return lambdaevents.NewBinaryAttribute(v.Value), nil
	case *types.AttributeValueMemberSS:
		return lambdaevents.NewStringSetAttribute(v.Value), nil
	case *types.AttributeValueMemberNS:
		return lambdaevents.NewNumberSetAttribute(v.Value), nil
	case *types.AttributeValueMemberBS:
		return lambdaevents.NewBinarySetAttribute(v.Value), nil
	case *types.AttributeValueMemberM:
		m, err := image(v.Value)
		if err != nil {
			return lambdaevents.DynamoDBAttributeValue{}, err
		}
		return lambdaevents.NewMapAttribute(m), nil
	case *types.AttributeValueMemberL:
		l := make([]lambdaevents.DynamoDBAttributeValue, 0, len(v.Value))
		for _, x := range v.Value {
			av, err := attribute(x)
			if err != nil {
				return lambdaevents.DynamoDBAttributeValue{}, err
			}
			l = append(l, av)
		}
		return lambdaevents.NewListAttribute(l), nil
	}
	return lambdaevents.DynamoDBAttributeValue{}, fmt.Errorf("unknown attribute type %T", v)
}
