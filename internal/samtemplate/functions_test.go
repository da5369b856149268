package samtemplate

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

const (
	testRegion        = "us-east-1"
	testApplicationID = "amzn1.sp.solution.00000000-0000-0000-0000-00000000dev0"
)

func TestFunctionsOfTheRepositoryTemplate(t *testing.T) {
	fns, err := repositoryTemplate(t).Functions(Resolver{Region: testRegion, Parameters: map[string]string{"ApplicationId": testApplicationID},
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
	if !slices.IsSortedFunc(fns, func(a, b Function) int { return strings.Compare(a.LogicalID, b.LogicalID) }) {
		t.Error("the functions are not sorted by logical ID")
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
	if a.Env["STATE_TABLE_NAME"] != "state" || a.Env["APPLICATION_ID"] != testApplicationID || a.Env["APP_DRAFT"] != "true" {
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

	// Without the resources, only a lenient resolver lists the functions.
	if _, err := repositoryTemplate(t).Functions(Resolver{Region: testRegion}); err == nil || !strings.Contains(err.Error(), "unknown to the local stack") {
		t.Errorf("a strict resolver without resources: err = %v", err)
	}
}

func TestEventSourcesOfTheRepositoryTemplate(t *testing.T) {
	fns, err := repositoryTemplate(t).Functions(Resolver{Region: testRegion, Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	var queueEvents []QueueEvent
	var streamEvents []StreamEvent
	for _, f := range fns {
		switch f.LogicalID {
		case "RotateSecretFunction":
			queueEvents = f.Queues
		case "EventsFunction":
			streamEvents = f.Streams
			if _, ok := f.Env["EVENT_BUS_NAME"]; !ok {
				t.Errorf("EventsFunction has no EVENT_BUS_NAME: %v", f.Env)
			}
		}
		if len(f.Queues) > 0 && f.LogicalID != "RotateSecretFunction" {
			t.Errorf("%s has SQS events %v", f.LogicalID, f.Queues)
		}
		if len(f.Streams) > 0 && f.LogicalID != "EventsFunction" {
			t.Errorf("%s has DynamoDB events %v", f.LogicalID, f.Streams)
		}
	}
	want := []QueueEvent{{Name: "SecretNotifications", Queue: "SecretNotificationsQueue", BatchSize: 10, ReportBatchItemFailures: true}}
	if !slices.Equal(queueEvents, want) {
		t.Errorf("RotateSecretFunction's SQS events = %+v, want %+v", queueEvents, want)
	}

	if len(streamEvents) != 2 {
		t.Fatalf("EventsFunction's DynamoDB events = %+v, want TokenChanges and SessionRefusals", streamEvents)
	}
	byName := map[string]StreamEvent{}
	for _, ev := range streamEvents {
		byName[ev.Name] = ev
		if ev.BatchSize != 100 || ev.StartingPosition != "TRIM_HORIZON" || !ev.ReportBatchItemFailures {
			t.Errorf("%s = %+v", ev.Name, ev)
		}
	}
	if tc := byName["TokenChanges"]; tc.Table != "TokenTable" || len(tc.Filters) != 2 {
		t.Errorf("TokenChanges = %+v", tc)
	}
	if sr := byName["SessionRefusals"]; sr.Table != "SessionTable" || len(sr.Filters) != 1 || !strings.Contains(sr.Filters[0], "connected_to_another_user") {
		t.Errorf("SessionRefusals = %+v", sr)
	}
}

// TestFunctionsResolve: the intrinsic functions of an environment, SAM's defaults and the
// events' shapes, on a template written for it.
func TestFunctionsResolve(t *testing.T) {
	tpl, err := Parse([]byte(`
Parameters:
  Name: {Type: String, Default: dflt}
  Empty: {Type: String, Default: ""}
Conditions:
  HasEmpty: !Not [!Equals [!Ref Empty, ""]]
  IsDflt: !Equals [!Ref Name, dflt]
  NotDflt: !Not [!Condition IsDflt]
Globals:
  Function:
    Timeout: 7
    Environment:
      Variables:
        GLOBAL: g
        DROPPED: x
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth: {DefaultAuthorizer: AWS_IAM}
  Q:
    Type: AWS::SQS::Queue
  T:
    Type: AWS::DynamoDB::Table
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          NAME: !Ref Name
          SUB: !Sub "${AWS::Region}:${AWS::AccountId}:${Name}:${Q.Arn}"
          ATT: !GetAtt Q.Arn
          ATT_LIST: !GetAtt [Q, QueueName]
          IF: !If [NotDflt, yes, no]
          DROPPED: !If [HasEmpty, !Ref Empty, !Ref AWS::NoValue]
      Events:
        Open: {Type: HttpApi, Properties: {Method: get, Path: /open, Auth: {Authorizer: NONE}}}
        Signed: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: post, Path: /signed}}
        Tick: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(5 minutes), Input: '{"a":1}'}}
        Queue: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt T.StreamArn
            StartingPosition: LATEST
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
            FilterCriteria: {Filters: [{Pattern: '{"eventName":["INSERT"]}'}]}
        Other: {Type: S3}
`))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions(Resolver{Region: "eu-west-1", AccountID: "111122223333",
		Resources: map[string]string{"Q": "https://q", "Q.Arn": "arn:q", "Q.QueueName": "q-name"}, Parameters: map[string]string{"Name": "set"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 1 {
		t.Fatalf("functions %+v", fns)
	}
	f := fns[0]
	wantEnv := map[string]string{"GLOBAL": "g", "NAME": "set", "SUB": "eu-west-1:111122223333:set:arn:q", "ATT": "arn:q", "ATT_LIST": "q-name", "IF": "yes"}
	if !maps.Equal(f.Env, wantEnv) {
		t.Errorf("env %v, want %v", f.Env, wantEnv)
	}
	if f.Timeout != 7 {
		t.Errorf("timeout %d, want Globals' 7", f.Timeout)
	}
	if want := []Route{{Method: "GET", Path: "/open"}, {Method: "POST", Path: "/signed", IAM: true}}; !slices.Equal(f.Routes, want) {
		t.Errorf("routes %+v, want %+v", f.Routes, want)
	}
	if want := []Schedule{{Name: "Tick", Expression: "rate(5 minutes)", Input: `{"a":1}`}}; !slices.Equal(f.Schedules, want) {
		t.Errorf("schedules %+v", f.Schedules)
	}
	if want := []QueueEvent{{Name: "Queue", Queue: "Q", BatchSize: 10}}; !slices.Equal(f.Queues, want) {
		t.Errorf("queue events %+v", f.Queues)
	}
	if len(f.Streams) != 1 || f.Streams[0].Table != "T" || f.Streams[0].BatchSize != 5 || f.Streams[0].StartingPosition != "LATEST" ||
		!f.Streams[0].ReportBatchItemFailures || !slices.Equal(f.Streams[0].Filters, []string{`{"eventName":["INSERT"]}`}) {
		t.Errorf("stream events %+v", f.Streams)
	}
}
