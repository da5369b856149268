package awstest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

// Tables names one test's state, token and session tables.
type Tables struct {
	State   string
	Token   string
	Session string
}

// The logical IDs of the template's tables.
const (
	StateTableID   = "StateTable"
	TokenTableID   = "TokenTable"
	SessionTableID = "SessionTable"
)

var templateSpecs struct {
	once  sync.Once
	specs map[string]samtemplate.Table
	err   error
}

// Specs returns the tables of the repository's template.yaml, read once per test binary.
func Specs(tb testing.TB) map[string]samtemplate.Table {
	tb.Helper()
	templateSpecs.once.Do(func() {
		path, err := samtemplate.Find()
		if err != nil {
			templateSpecs.err = err
			return
		}
		tpl, err := samtemplate.Load(path)
		if err != nil {
			templateSpecs.err = err
			return
		}
		templateSpecs.specs, templateSpecs.err = tpl.Tables()
		if templateSpecs.err == nil {
			for _, id := range []string{StateTableID, TokenTableID, SessionTableID} {
				if _, ok := templateSpecs.specs[id]; !ok {
					templateSpecs.err = fmt.Errorf("%s: no AWS::DynamoDB::Table named %s", path, id)
				}
			}
		}
	})
	if templateSpecs.err != nil {
		tb.Fatal(templateSpecs.err)
	}
	return templateSpecs.specs
}

// CreateTables creates a new state, token and session table, shaped as template.yaml says, for
// this test alone; they are deleted when the test ends.
func (e *Env) CreateTables(tb testing.TB) Tables {
	tb.Helper()
	specs := Specs(tb)
	t := Tables{
		State:   e.CreateTable(tb, specs[StateTableID]),
		Token:   e.CreateTable(tb, specs[TokenTableID]),
		Session: e.CreateTable(tb, specs[SessionTableID]),
	}
	return t
}

// CreateTable creates a uniquely named table of the given shape, deleted when the test ends.
func (e *Env) CreateTable(tb testing.TB, spec samtemplate.Table) string {
	tb.Helper()
	name := uniqueName(spec.LogicalID)
	if err := spec.Create(tb.Context(), e.DynamoDB, name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		_, err := e.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var missing *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &missing) {
			tb.Errorf("delete table %s: %v", name, err)
		}
	})
	return name
}
