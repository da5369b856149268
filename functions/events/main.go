// Command events is the events Lambda function: it reads the token and session tables' DynamoDB
// streams (through event filters that drop plain refreshes) and puts one lifecycle event per
// change of a connection on EventBridge (docs/events.md).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/app/eventsapp"
)

func main() {
	r := app.Start()
	h, err := eventsapp.New(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
