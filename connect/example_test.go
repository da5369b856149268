package connect_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sellerauth/sellerauth/connect"
)

// Example shows the whole integration of an app's backend: start a session for one of its
// users, send the user to the connect URL, read the outcome, list the user's connections and
// disconnect one. It runs against an in-memory stand-in for the deployed API.
func Example() {
	api := startFakeAPI() // stands in for the stack; use its ApiUrl output instead
	defer api.Close()

	// In production: cfg, err := config.LoadDefaultConfig(ctx), with an IAM identity that has
	// the stack's ConnectApiPolicyArn policy.
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(fakeKeyID, fakeSecret, ""),
	}
	client := connect.New(cfg, api.URL)
	ctx := context.Background()

	// 1. Start an authorization for user-42.
	s, err := client.CreateSession(ctx, connect.SessionInput{EndUserID: "user-42", Marketplace: "DE"})
	if err != nil {
		log.Fatal(err)
	}

	// 2. Redirect the user's browser to s.ConnectURL. Here the fake seller opens it and consents.
	resp, err := http.Get(s.ConnectURL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()

	// 3. When the browser comes back to your return URL (or by polling), read the outcome.
	st, err := client.Session(ctx, s.SessionID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Status, st.SellingPartnerID, st.Region)

	// 4. List the user's connections.
	conns, err := client.Connections(ctx, "user-42")
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range conns {
		fmt.Println(c.SellingPartnerID, c.Region, c.Status, c.ReauthorizeBy.Format("2006-01-02"))
	}

	// 5. Disconnect the seller, only if it is still user-42's.
	seller := conns[0]
	if err := client.Disconnect(ctx, seller.SellingPartnerID, seller.Region, connect.WithEndUser("user-42")); err != nil {
		log.Fatal(err)
	}
	conns, _ = client.Connections(ctx, "user-42")
	fmt.Println(len(conns), "connections left")

	// Output:
	// connected A1EXAMPLE eu
	// A1EXAMPLE eu active 2027-12-02
	// 0 connections left
}

// ExampleAPIError shows how to branch on a failed call: errors.Is for the HTTP status, errors.As
// for the API's stable error code.
func ExampleAPIError() {
	api := startFakeAPI()
	defer api.Close()
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(fakeKeyID, fakeSecret, ""),
	}
	client := connect.New(cfg, api.URL)

	err := client.Disconnect(context.Background(), "A1UNKNOWN", "eu")
	var apiErr *connect.APIError
	switch {
	case errors.Is(err, connect.ErrNotFound):
		fmt.Println("already gone")
	case errors.As(err, &apiErr):
		fmt.Println("refused:", apiErr.Code)
	case err != nil:
		fmt.Println("no answer:", err) // a network error or a canceled context: try again
	}
	// Output:
	// already gone
}

// ExampleNewSession_String shows that printing a session by accident does not leak the secret
// that opens its connect URL.
func ExampleNewSession_String() {
	s := connect.NewSession{
		SessionID:  "cs_1",
		ConnectURL: "https://auth.example.com/connect?session=secret-token",
		ExpiresAt:  time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC),
	}
	fmt.Println(s)
	// Output:
	// {SessionID:cs_1 ConnectURL:https://auth.example.com/connect?REDACTED ExpiresAt:2026-12-02T11:00:00Z}
}

// ExampleStatus_Final shows a backend that polls a session, for instance while the user's
// browser is away at Amazon, until it has an outcome.
func ExampleStatus_Final() {
	api := startFakeAPI()
	defer api.Close()
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(fakeKeyID, fakeSecret, ""),
	}
	client := connect.New(cfg, api.URL)
	ctx := context.Background()

	s, err := client.CreateSession(ctx, connect.SessionInput{EndUserID: "user-42"})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; ; i++ {
		st, err := client.Session(ctx, s.SessionID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(st.Status)
		if st.Status.Final() {
			if st.Status == connect.StatusFailed {
				fmt.Println("failed:", st.Error)
			}
			break
		}
		if i == 0 { // here the fake seller consents; in production, wait between reads
			resp, err := http.Get(s.ConnectURL)
			if err != nil {
				log.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	// Output:
	// pending
	// connected
}
