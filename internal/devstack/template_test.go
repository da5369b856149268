package devstack

import (
	"slices"
	"testing"

	"github.com/sellerauth/sellerauth/internal/awstest"
)

func TestFunctionsOfTheRepositoryTemplate(t *testing.T) {
	tpl, err := awstest.FindTemplate()
	if err != nil {
		t.Fatal(err)
	}
	fns, err := Functions(tpl, Resolver{Region: Region, Parameters: map[string]string{"ApplicationId": ApplicationID},
		Resources: map[string]string{"StateTable": "state", "TokenTable": "token", "SessionTable": "session", "LwaCredentialsSecret": "arn:secret",
			"TokenTableKey": "k", "RefreshDeadLetterQueue": "q", "HttpApi": "api"}})
	if err != nil {
		t.Fatal(err)
	}
	var routes, iam []string
	byID := map[string]Function{}
	for _, f := range fns {
		byID[f.LogicalID] = f
		for _, r := range f.Routes {
			routes = append(routes, r.Key())
			if r.IAM {
				iam = append(iam, r.Key())
			}
		}
	}
	for _, want := range []string{"GET /", "GET /authorize", "GET /connect", "GET /login", "GET /callback"} {
		if !slices.Contains(routes, want) {
			t.Errorf("routes %v lack %q", routes, want)
		}
	}
	// The backend API, and only it, is behind the IAM authorizer.
	slices.Sort(iam)
	if want := []string{"DELETE /connections/{selling_partner_id}/{region}", "GET /connect/sessions/{session_id}", "GET /connections", "POST /connect/sessions"}; !slices.Equal(iam, want) {
		t.Errorf("IAM-authorized routes %v, want %v", iam, want)
	}
	if c := byID["ConnectApiFunction"]; c.Env["SESSION_TABLE_NAME"] != "session" || c.Env["TOKEN_TABLE_NAME"] != "token" {
		t.Errorf("connect-api env %v", c.Env)
	}
	a := byID["AuthorizeFunction"]
	if a.Env["STATE_TABLE_NAME"] != "state" || a.Env["APPLICATION_ID"] != ApplicationID || a.Env["APP_DRAFT"] != "true" {
		t.Errorf("authorize env %v", a.Env)
	}
	if _, ok := a.Env["REDIRECT_URI"]; ok {
		t.Errorf("REDIRECT_URI set although the parameter is empty (AWS::NoValue): %q", a.Env["REDIRECT_URI"])
	}
	if c := byID["CallbackFunction"]; c.Env["LWA_CREDENTIALS_SECRET_ID"] != "arn:secret" || c.Timeout != 20 {
		t.Errorf("callback env %v timeout %d", c.Env, c.Timeout)
	}
	if r, ok := byID["RefreshFunction"]; ok && len(r.Schedules) == 0 {
		t.Error("RefreshFunction has no schedule")
	}
}
