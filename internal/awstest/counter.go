package awstest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// CallCounter counts the AWS operations made by clients built from a configuration, to prove a
// call budget (one write per callback, one fetch of a secret) against the real SDK rather than a
// mock that would only count what the code under test chose to tell it.
type CallCounter struct {
	mu     sync.Mutex
	counts map[string]int
	calls  []Call
}

// Call is one recorded operation with its input, the typed SDK input (e.g. *dynamodb.UpdateItemInput),
// from which a test reads the resources the call touched (table, index, secret, bus).
type Call struct {
	Op    string // as a key of Counts: "DynamoDB.UpdateItem"
	Input any
}

// CountCalls adds a counting middleware to cfg; clients built from cfg afterwards are counted.
// An operation counts once however many times the SDK retries it. Keys are the service ID without
// spaces and the operation name: "DynamoDB.PutItem", "SecretsManager.GetSecretValue".
func CountCalls(cfg *aws.Config) *CallCounter {
	c := &CallCounter{counts: map[string]int{}}
	c.Record(cfg)
	return c
}

// Record adds c's counting middleware to cfg as well, so that one counter can follow the clients of
// several configurations (e.g. one function wired again after a change of its environment).
func (c *CallCounter) Record(cfg *aws.Config) {
	id := fmt.Sprintf("awstest.CountCalls.%p", c)
	// Clip so that appending never writes into an array shared with the Config this one was copied from.
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc(id, func(
			ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
		) (middleware.InitializeOutput, middleware.Metadata, error) {
			service := strings.ReplaceAll(awsmiddleware.GetServiceID(ctx), " ", "")
			c.add(service+"."+awsmiddleware.GetOperationName(ctx), in.Parameters)
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	})
}

func (c *CallCounter) add(op string, input any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[op]++
	c.calls = append(c.calls, Call{Op: op, Input: input})
}

// Calls returns the recorded operations in order, with their inputs.
func (c *CallCounter) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Counts returns a copy of the counts by operation.
func (c *CallCounter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Count returns how many times op (e.g. "DynamoDB.PutItem") was called.
func (c *CallCounter) Count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[op]
}

// Total returns the number of operations of every kind.
func (c *CallCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Reset forgets every count, e.g. after a test's setup calls.
func (c *CallCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.counts)
	c.calls = nil
}
