// Command refresh is the scheduled refresh Lambda function: it refreshes the access tokens that
// are due (see README.md, "Keeping tokens fresh").
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/app/lwaapp"
)

func main() {
	log := lambdacontext.NewLogger()
	cfg, err := app.LoadAWSConfig(context.Background())
	if err != nil {
		log.Error("start-up failed", "error", err)
		os.Exit(1)
	}
	h, err := lwaapp.NewRefresh(app.Runtime{Getenv: os.Getenv, AWS: cfg, Log: log})
	if err != nil {
		log.Error("start-up failed", "error", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h.Handle)
}
