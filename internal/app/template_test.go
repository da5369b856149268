package app_test

import (
	"bytes"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"gopkg.in/yaml.v3"
)

// The rules of least privilege and of the build, checked on template.yaml itself: a change that
// grants the authorize function the token table, or adds a function sam build cannot build,
// fails here before it is deployed.

type cfnTemplate struct {
	Globals struct {
		Function map[string]any `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]struct {
		Type       string         `yaml:"Type"`
		Metadata   map[string]any `yaml:"Metadata"`
		Properties map[string]any `yaml:"Properties"`
	} `yaml:"Resources"`
}

func loadTemplate(t *testing.T) cfnTemplate {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl cfnTemplate
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// grants lists "action on resource" for every statement of a function's inline policies.
// CloudFormation tags (!Ref, !GetAtt) are dropped by the parser, leaving the logical IDs.
func grants(props map[string]any) []string {
	var out []string
	policies, _ := props["Policies"].([]any)
	for _, p := range policies {
		doc, ok := p.(map[string]any)
		if !ok {
			out = append(out, "managed:"+asString(p))
			continue
		}
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			for _, a := range asList(st["Action"]) {
				for _, r := range asList(st["Resource"]) {
					out = append(out, a+" on "+r)
				}
			}
		}
	}
	return out
}

func asList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, asString(x))
		}
		return out
	}
	return []string{asString(v)}
}

func asString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = asString(x)
		}
		return strings.Join(parts, ".")
	}
	return ""
}

func TestTemplateLeastPrivilege(t *testing.T) {
	tpl := loadTemplate(t)
	secretReaders := []string{"CallbackFunction", "RefreshFunction", "RotateSecretFunction"}
	secretWriters := []string{"RotateSecretFunction"}
	tokenTableAllowed := map[string][]string{
		"AuthorizeFunction":    nil,
		"LoginFunction":        nil,
		"RotateSecretFunction": nil,
		// The backend API lists (through the token-less end-user index) and deletes; it never
		// reads or writes a token.
		"ConnectApiFunction": {"dynamodb:DeleteItem", "kms:Decrypt"},
		// The events function reads the streams (SAM grants that) and decrypts their records.
		"EventsFunction": {"kms:Decrypt"},
	}
	found := 0
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		found++
		for _, g := range grants(r.Properties) {
			action, resource, _ := strings.Cut(g, " on ")
			if strings.HasPrefix(g, "managed:") {
				t.Errorf("%s: managed policy %q; use inline single-action statements", id, g)
			}
			if strings.HasSuffix(action, ":*") || action == "*" {
				t.Errorf("%s: wildcard action %q", id, action)
			}
			if resource == "*" || resource == "" {
				t.Errorf("%s: %s on every resource", id, action)
			}
			if strings.HasPrefix(action, "secretsmanager:") && !slices.Contains(secretReaders, id) {
				t.Errorf("%s may not read the LWA secret (%s)", id, g)
			}
			if action != "secretsmanager:GetSecretValue" && strings.HasPrefix(action, "secretsmanager:") && !slices.Contains(secretWriters, id) {
				t.Errorf("%s may not change the LWA secret (%s)", id, g)
			}
			if strings.HasPrefix(resource, "StateTable") && (id == "RotateSecretFunction" || id == "RefreshFunction") {
				t.Errorf("%s may not touch the state table (%s)", id, g)
			}
			if allowed, ok := tokenTableAllowed[id]; ok && strings.HasPrefix(resource, "TokenTable") && !slices.Contains(allowed, action) {
				t.Errorf("%s may not touch the token table (%s)", id, g)
			}
			if id == "ConnectApiFunction" && strings.Contains(resource, "TokenTable") && strings.Contains(resource, "/index/") &&
				resource != "${TokenTable.Arn}/index/end-user" {
				t.Errorf("%s may query only the end-user index, which projects no token (%s)", id, g)
			}
		}
	}
	if found < 3 {
		t.Fatalf("found %d functions in template.yaml", found)
	}
}

func TestTemplateFunctionsBuildWithMakefile(t *testing.T) {
	tpl := loadTemplate(t)
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Globals.Function["Runtime"] != "provided.al2023" || asString(tpl.Globals.Function["Architectures"]) != "arm64" {
		t.Errorf("functions must run on provided.al2023 arm64, got %v %v", tpl.Globals.Function["Runtime"], tpl.Globals.Function["Architectures"])
	}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		if r.Metadata["BuildMethod"] != "makefile" {
			t.Errorf("%s: Metadata BuildMethod must be makefile", id)
		}
		target := regexp.MustCompile(`(?m)^build-` + id + `:`)
		if !target.Match(makefile) {
			t.Errorf("Makefile has no build-%s target for sam build", id)
		}
	}
}

// TestServerErrorsMetricMatchesTheLogLines: ServerErrorsAlarm counts the ERROR lines of the HTTP
// functions through a metric filter; the filter must match what the functions' logger writes, in
// the JSON log format the template sets.
func TestServerErrorsMetricMatchesTheLogLines(t *testing.T) {
	tpl := loadTemplate(t)
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "LogFormat: JSON") {
		t.Fatal("the functions do not log in Lambda's JSON format")
	}
	const pattern = `{ $.level = "ERROR" }`
	filtered := map[string]bool{}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Logs::MetricFilter" {
			continue
		}
		if got := asString(r.Properties["FilterPattern"]); got != pattern {
			t.Errorf("%s: FilterPattern %q, want %q", id, got, pattern)
		}
		filtered[strings.TrimSuffix(asString(r.Properties["LogGroupName"]), "Logs")] = true
	}
	for _, fn := range []string{"AuthorizeFunction", "LoginFunction", "CallbackFunction", "ConnectApiFunction", "EventsFunction"} {
		if !filtered[fn] {
			t.Errorf("%s's error lines are not counted", fn)
		}
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr}))
	log.Error("request failed")
	if !strings.Contains(buf.String(), `"level":"ERROR"`) {
		t.Errorf("the functions' logger writes %s, which the filter %s does not match", buf.String(), pattern)
	}
}

// TestSecretNotificationsQueueIsClosed: a message on the rotation queue can replace the LWA client
// secret and carries one, so only Amazon's notification account may send and only the
// rotate-secret function's role may receive, from the queue and from its dead-letter queue.
func TestSecretNotificationsQueueIsClosed(t *testing.T) {
	tpl := loadTemplate(t)
	denies := func(policy, action string) []map[string]any {
		r, ok := tpl.Resources[policy]
		if !ok {
			t.Fatalf("no %s in template.yaml", policy)
		}
		doc, _ := r.Properties["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		var out []map[string]any
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			if st["Effect"] != "Deny" || st["Principal"] != "*" {
				continue
			}
			actions := []string{asString(st["Action"])}
			if list, ok := st["Action"].([]any); ok {
				actions = nil
				for _, a := range list {
					actions = append(actions, asString(a))
				}
			}
			if slices.Contains(actions, action) {
				cond, _ := st["Condition"].(map[string]any)
				out = append(out, cond)
			}
		}
		return out
	}
	condition := func(c map[string]any, operator, key string) string {
		m, _ := c[operator].(map[string]any)
		return asString(m[key])
	}
	if c := denies("SecretNotificationsQueuePolicy", "sqs:SendMessage"); len(c) != 1 || condition(c[0], "StringNotEquals", "aws:PrincipalAccount") != "437568002678" {
		t.Errorf("the queue does not refuse senders other than Amazon's notification account: %v", c)
	}
	if c := denies("SecretNotificationsQueuePolicy", "sqs:ReceiveMessage"); len(c) != 1 || condition(c[0], "ArnNotEquals", "aws:PrincipalArn") != "RotateSecretFunctionRole.Arn" {
		t.Errorf("the queue does not refuse receivers other than the rotate-secret function: %v", c)
	}
	if c := denies("SecretNotificationsDeadLetterQueuePolicy", "sqs:ReceiveMessage"); len(c) != 1 || c[0] != nil {
		t.Errorf("the dead-letter queue's client secrets can be received: %v", c)
	}
}

// TestTemplateBackendRoutesNeedIAM: the app's backend API is reachable only with SigV4 through
// API Gateway's IAM authorizer, the seller's routes stay public, and ConnectApiPolicy grants
// exactly the backend routes, no more (a wildcard would let the app's backend role reach routes
// added later).
func TestTemplateBackendRoutesNeedIAM(t *testing.T) {
	tpl := loadTemplate(t)
	api := tpl.Resources["HttpApi"].Properties
	if auth, _ := api["Auth"].(map[string]any); auth["EnableIamAuthorizer"] != true {
		t.Fatal("HttpApi does not enable the IAM authorizer")
	}
	var backendRoutes []string
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		events, _ := r.Properties["Events"].(map[string]any)
		for name, e := range events {
			ev, _ := e.(map[string]any)
			if ev["Type"] != "HttpApi" {
				continue
			}
			props, _ := ev["Properties"].(map[string]any)
			auth, _ := props["Auth"].(map[string]any)
			iam := auth["Authorizer"] == "AWS_IAM"
			route := asString(props["Method"]) + " " + asString(props["Path"])
			switch {
			case id == "ConnectApiFunction" && !iam:
				t.Errorf("%s %s (%s) is not behind the IAM authorizer", id, name, route)
			case id != "ConnectApiFunction" && iam:
				t.Errorf("%s %s (%s): a seller's route behind IAM would refuse every seller", id, name, route)
			case iam:
				backendRoutes = append(backendRoutes, route)
			}
		}
	}
	slices.Sort(backendRoutes)
	want := []string{"DELETE /connections/{selling_partner_id}/{region}", "GET /connect/sessions/{session_id}", "GET /connections", "POST /connect/sessions"}
	if !slices.Equal(backendRoutes, want) {
		t.Fatalf("backend routes %v, want %v", backendRoutes, want)
	}
	doc, _ := tpl.Resources["ConnectApiPolicy"].Properties["PolicyDocument"].(map[string]any)
	stmts, _ := doc["Statement"].([]any)
	var granted []string
	for _, s := range stmts {
		st, _ := s.(map[string]any)
		if st["Effect"] != "Allow" || asString(st["Action"]) != "execute-api:Invoke" {
			t.Fatalf("ConnectApiPolicy grants %v", st)
		}
		for _, r := range asList(st["Resource"]) {
			_, route, _ := strings.Cut(r, "${HttpApi}/$default/")
			method, path, _ := strings.Cut(route, "/")
			granted = append(granted, method+" /"+path)
		}
	}
	slices.Sort(granted)
	wantGranted := []string{"DELETE /connections/*/*", "GET /connect/sessions/*", "GET /connections", "POST /connect/sessions"}
	if !slices.Equal(granted, wantGranted) {
		t.Fatalf("ConnectApiPolicy grants %v, want exactly %v", granted, wantGranted)
	}
}
