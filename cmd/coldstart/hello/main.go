// Command hello is the baseline of make bench-coldstart: the smallest Go Lambda, built with the
// same flags as the functions.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.StartHandlerFunc(func(context.Context, json.RawMessage) (string, error) {
		return "hello", nil
	})
}
