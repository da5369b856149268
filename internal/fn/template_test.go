package fn_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

// The rules of least privilege and of the build, checked on template.yaml itself: a change that
// grants the authorize function the token table, or adds a function sam build cannot build,
// fails here before it is deployed.

// readTemplate is template.yaml as CloudFormation reads it: internal/samtemplate, the one reader of
// the template, gives the short-form tags in their long form (!Ref X is {"Ref": "X"}).
func readTemplate(t *testing.T) map[string]any {
	t.Helper()
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tpl.CloudFormation()
}

type cfnTemplate struct {
	Globals struct {
		Function map[string]any
	}
	Resources map[string]cfnResource
}

type cfnResource struct {
	Type                 string
	Metadata, Properties map[string]any
}

// loadTemplate is template.yaml with each intrinsic function replaced by its arguments (see
// arguments): the least-privilege checks compare the logical IDs a policy names, whichever
// function names them.
func loadTemplate(t *testing.T) cfnTemplate {
	t.Helper()
	doc, _ := arguments(readTemplate(t)).(map[string]any)
	var tpl cfnTemplate
	globals, _ := doc["Globals"].(map[string]any)
	tpl.Globals.Function, _ = globals["Function"].(map[string]any)
	resources, _ := doc["Resources"].(map[string]any)
	tpl.Resources = map[string]cfnResource{}
	for id, r := range resources {
		m, _ := r.(map[string]any)
		var res cfnResource
		res.Type, _ = m["Type"].(string)
		res.Metadata, _ = m["Metadata"].(map[string]any)
		res.Properties, _ = m["Properties"].(map[string]any)
		tpl.Resources[id] = res
	}
	return tpl
}

// arguments replaces each intrinsic function of a long-form value by its arguments: {"Ref": "X"}
// is "X", {"Fn::GetAtt": ["A", "B"]} is "A.B" (as the template writes it), {"Fn::Sub": s} is s,
// {"Fn::If": [c, a, b]} is [c, a, b].
func arguments(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for name, arg := range v {
				if name == "Fn::GetAtt" {
					if l, ok := arg.([]any); ok && len(l) == 2 {
						return asString(l[0]) + "." + asString(l[1])
					}
				}
				if _, named := arg.(string); named && (name == "Ref" || name == "Condition") || strings.HasPrefix(name, "Fn::") {
					return arguments(arg)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = arguments(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = arguments(x)
		}
		return out
	}
	return v
}

// grants lists "action on resource" for every statement of a function's inline policies, with
// the logical IDs the intrinsic functions name (loadTemplate).
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
	logFormat := func(props map[string]any) string {
		lc, _ := props["LoggingConfig"].(map[string]any)
		f, _ := lc["LogFormat"].(string)
		return f
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
		format := logFormat(tpl.Resources[fn].Properties)
		if format == "" {
			format = logFormat(tpl.Globals.Function)
		}
		if format != "JSON" {
			t.Errorf("%s does not log in Lambda's JSON format (LogFormat %q)", fn, format)
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

// alarmActionProblems says why CloudWatch could not deliver an alarm's notification: an action
// that is not a topic of the template, a topic encrypted with an AWS-managed key (alias/aws/sns,
// whose policy cannot let CloudWatch use it), or with a key of the template whose policy does not
// let cloudwatch.amazonaws.com decrypt and generate data keys, or a topic policy without
// CloudWatch. Every alarm must also notify someone (AlarmActions).
func alarmActionProblems(tpl map[string]any) []string {
	resources, _ := tpl["Resources"].(map[string]any)
	typeOf := func(id string) string {
		r, _ := resources[id].(map[string]any)
		s, _ := r["Type"].(string)
		return s
	}
	props := func(id string) map[string]any {
		r, _ := resources[id].(map[string]any)
		p, _ := r["Properties"].(map[string]any)
		return p
	}
	var problems []string
	// Branches of !If, !Ref AWS::NoValue left out.
	var alternatives func(v any) []any
	alternatives = func(v any) []any {
		if m, ok := v.(map[string]any); ok {
			if l, ok := m["Fn::If"].([]any); ok && len(l) == 3 {
				return append(alternatives(l[1]), alternatives(l[2])...)
			}
			if m["Ref"] == "AWS::NoValue" {
				return nil
			}
		}
		return []any{v}
	}
	refOrArn := func(v any) string {
		m, _ := v.(map[string]any)
		if s, ok := m["Ref"].(string); ok {
			return s
		}
		if l, ok := m["Fn::GetAtt"].([]any); ok && len(l) == 2 && l[1] == "Arn" {
			s, _ := l[0].(string)
			return s
		}
		return ""
	}
	cloudWatchMayUse := func(key string) string {
		p := props(key)
		if spec, ok := p["KeySpec"]; ok && spec != "SYMMETRIC_DEFAULT" {
			return "SNS needs a symmetric key"
		}
		if p["Enabled"] == false {
			return "the key is disabled"
		}
		doc, _ := p["KeyPolicy"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		allowed := false
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			principal, _ := st["Principal"].(map[string]any)
			services := asList(principal["Service"])
			if st["Principal"] == "*" {
				services = append(services, "cloudwatch.amazonaws.com")
			}
			if !slices.Contains(services, "cloudwatch.amazonaws.com") {
				continue
			}
			actions := asList(st["Action"])
			covers := func(action string) bool {
				return slices.ContainsFunc(actions, func(a string) bool {
					return a == action || a == "kms:*" || a == "*" || strings.HasSuffix(a, "*") && strings.HasPrefix(action, strings.TrimSuffix(a, "*"))
				})
			}
			if !covers("kms:Decrypt") || !covers("kms:GenerateDataKey") {
				continue
			}
			if st["Effect"] == "Deny" {
				return "its policy denies CloudWatch the key"
			}
			if st["Effect"] != "Allow" || asString(st["Resource"]) != "*" {
				continue
			}
			// The only conditions CloudWatch's requests meet: its own account.
			cond, _ := st["Condition"].(map[string]any)
			ok := true
			for op, c := range cond {
				keys, _ := c.(map[string]any)
				for k, v := range keys {
					if op != "StringEquals" || k != "aws:SourceAccount" || refOrArn(v) != "AWS::AccountId" {
						ok = false
					}
				}
			}
			allowed = allowed || ok
		}
		if !allowed {
			return "its key policy does not let cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*)"
		}
		return ""
	}
	topicProblem := func(topic string) string {
		for id, r := range resources {
			res, _ := r.(map[string]any)
			if res["Type"] != "AWS::SNS::TopicPolicy" || !slices.ContainsFunc(asAnyList(props(id)["Topics"]), func(v any) bool { return refOrArn(v) == topic }) {
				continue
			}
			doc, _ := props(id)["PolicyDocument"].(map[string]any)
			found := false
			for _, s := range asAnyList(doc["Statement"]) {
				st, _ := s.(map[string]any)
				principal, _ := st["Principal"].(map[string]any)
				if st["Effect"] == "Allow" && slices.Contains(asList(principal["Service"]), "cloudwatch.amazonaws.com") && slices.Contains(asList(st["Action"]), "sns:Publish") {
					found = true
				}
			}
			if !found {
				return id + " replaces the topic's default policy without letting cloudwatch.amazonaws.com publish"
			}
		}
		for _, k := range alternatives(props(topic)["KmsMasterKeyId"]) {
			if s, ok := k.(string); ok {
				if strings.Contains(s, "alias/aws/") {
					return "encrypted with the AWS-managed key " + s + ", whose policy cannot let CloudWatch use it"
				}
				return "encrypted with " + s + ", a key outside the template that this test cannot read"
			}
			key := refOrArn(k)
			if typeOf(key) != "AWS::KMS::Key" {
				return fmt.Sprintf("encrypted with %v: refer to an AWS::KMS::Key of the template (not an alias)", k)
			}
			if p := cloudWatchMayUse(key); p != "" {
				return "encrypted with " + key + ": " + p
			}
		}
		return ""
	}
	alarms := 0
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] != "AWS::CloudWatch::Alarm" && res["Type"] != "AWS::CloudWatch::CompositeAlarm" {
			continue
		}
		alarms++
		p, _ := res["Properties"].(map[string]any)
		if len(asAnyList(p["AlarmActions"])) == 0 {
			problems = append(problems, id+": no AlarmActions, it notifies nobody")
		}
		for _, key := range []string{"AlarmActions", "OKActions", "InsufficientDataActions"} {
			for _, a := range asAnyList(p[key]) {
				for _, action := range alternatives(a) {
					topic := refOrArn(action)
					if typeOf(topic) != "AWS::SNS::Topic" {
						problems = append(problems, fmt.Sprintf("%s.%s: %v is not a topic of the template", id, key, action))
						continue
					}
					if p := topicProblem(topic); p != "" {
						problems = append(problems, fmt.Sprintf("%s.%s: topic %s is %s", id, key, topic, p))
					}
				}
			}
		}
	}
	if alarms == 0 {
		problems = append(problems, "no alarm")
	}
	slices.Sort(problems)
	return problems
}

func asAnyList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

func cloneTemplate(t *testing.T, tpl map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(tpl)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTemplateAlarmsReachTheTopic: CloudWatch publishes an alarm to an encrypted topic only with
// the topic's key, so every alarm action must be a topic whose key lets cloudwatch.amazonaws.com
// use it. With alias/aws/sns every alarm failed silently.
func TestTemplateAlarmsReachTheTopic(t *testing.T) {
	tpl := readTemplate(t)
	for _, p := range alarmActionProblems(tpl) {
		t.Error(p)
	}
	// The check itself, on the two ways the alarms went nowhere.
	resource := func(tpl map[string]any, id string) map[string]any {
		r, _ := tpl["Resources"].(map[string]any)[id].(map[string]any)
		if r == nil {
			t.Fatalf("no %s in template.yaml", id)
		}
		p, _ := r["Properties"].(map[string]any)
		return p
	}
	managed := cloneTemplate(t, tpl)
	resource(managed, "AlarmTopic")["KmsMasterKeyId"] = "alias/aws/sns"
	if p := alarmActionProblems(managed); len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), "AWS-managed key alias/aws/sns") {
		t.Errorf("alias/aws/sns on the topic is not reported: %v", p)
	}
	keyless := cloneTemplate(t, tpl)
	key := resource(keyless, "AlarmTopicKey")
	doc, _ := key["KeyPolicy"].(map[string]any)
	var kept []any
	for _, s := range asAnyList(doc["Statement"]) {
		st, _ := s.(map[string]any)
		principal, _ := st["Principal"].(map[string]any)
		if !slices.Contains(asList(principal["Service"]), "cloudwatch.amazonaws.com") {
			kept = append(kept, s)
		}
	}
	doc["Statement"] = kept
	if p := alarmActionProblems(keyless); len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), "does not let cloudwatch.amazonaws.com use it") {
		t.Errorf("a key policy without CloudWatch is not reported: %v", p)
	}
	// The optional e-mail subscription: only with AlarmEmail, and to the alarm topic.
	resources, _ := tpl["Resources"].(map[string]any)
	sub, _ := resources["AlarmEmailSubscription"].(map[string]any)
	sp, _ := sub["Properties"].(map[string]any)
	if sub["Type"] != "AWS::SNS::Subscription" || sub["Condition"] != "HasAlarmEmail" || sp["Protocol"] != "email" ||
		!reflect.DeepEqual(sp["TopicArn"], map[string]any{"Ref": "AlarmTopic"}) || !reflect.DeepEqual(sp["Endpoint"], map[string]any{"Ref": "AlarmEmail"}) {
		t.Errorf("AlarmEmailSubscription: %v", sub)
	}
	if resource(tpl, "AlarmTopicKey")["EnableKeyRotation"] != true {
		t.Error("AlarmTopicKey does not rotate")
	}
}

// TestTemplateDashboard: the operator's dashboard is valid JSON once CloudFormation substitutes
// its variables, refers only to resources of the stack, and shows what docs/operations.md names:
// authorizations and server errors, the refresh runs, invalid_grant and revocations, lifecycle
// events and the dead-letter queues.
func TestTemplateDashboard(t *testing.T) {
	tpl := readTemplate(t)
	resources, _ := tpl["Resources"].(map[string]any)
	var bodies []string
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] != "AWS::CloudWatch::Dashboard" {
			continue
		}
		p, _ := res["Properties"].(map[string]any)
		if _, named := p["DashboardName"]; named {
			t.Errorf("%s: DashboardName is the same in every stack of the account; leave it out", id)
		}
		sub, _ := p["DashboardBody"].(map[string]any)
		body, ok := sub["Fn::Sub"].(string)
		if !ok {
			t.Fatalf("%s: DashboardBody is not a !Sub string: %v", id, p["DashboardBody"])
		}
		bodies = append(bodies, body)
	}
	if len(bodies) != 1 {
		t.Fatalf("%d dashboards in template.yaml, want 1", len(bodies))
	}
	body := subVariable.ReplaceAllStringFunc(bodies[0], func(m string) string {
		name := m[2 : len(m)-1]
		resource, _, _ := strings.Cut(name, ".")
		if !strings.HasPrefix(name, "AWS::") && resources[resource] == nil {
			t.Errorf("dashboard: ${%s} is not a resource of the stack", name)
		}
		return "<" + name + ">"
	})
	var dash struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Title   string  `json:"title"`
				Region  string  `json:"region"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("the dashboard is not valid JSON: %v\n%s", err, body)
	}
	shown := map[string]bool{}
	for _, w := range dash.Widgets {
		if w.Type == "metric" && w.Properties.Region != "<AWS::Region>" {
			t.Errorf("widget %q: region %q, want ${AWS::Region}", w.Properties.Title, w.Properties.Region)
		}
		for _, m := range w.Properties.Metrics {
			var parts []string
			for _, x := range m {
				if s, ok := x.(string); ok {
					parts = append(parts, s)
				}
			}
			shown[strings.Join(parts, " ")] = true
		}
	}
	for _, want := range []string{
		"SPAPIAuth ServerErrors",
		"AWS/Lambda Invocations FunctionName <CallbackFunction>",
		"SPAPIAuth Due", "SPAPIAuth Refreshed", "SPAPIAuth LeftForNextRun", "SPAPIAuth Raced", "SPAPIAuth Failed",
		"SPAPIAuth InvalidGrant", "SPAPIAuth Revoked",
		"AWS/Lambda Invocations FunctionName <EventsFunction>", "AWS/Lambda Errors FunctionName <EventsFunction>",
		"AWS/SQS ApproximateNumberOfMessagesVisible QueueName <RefreshDeadLetterQueue.QueueName>",
		"AWS/SQS ApproximateNumberOfMessagesVisible QueueName <SecretNotificationsDeadLetterQueue.QueueName>",
		"AWS/SQS ApproximateNumberOfMessagesVisible QueueName <EventsDeadLetterQueue.QueueName>",
	} {
		if !shown[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}
