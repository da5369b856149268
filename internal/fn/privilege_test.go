package fn_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	eventsfn "github.com/sellerauth/sellerauth/internal/fn/events"
	refreshfn "github.com/sellerauth/sellerauth/internal/fn/refresh"
	rotatesecretfn "github.com/sellerauth/sellerauth/internal/fn/rotatesecret"
)

// Exact least privilege, proven: every function runs its real flows against moto with its own
// recorded configuration; each AWS operation it made becomes the IAM action(s) and the template
// resource it needs, and that set must equal what the function's inline policy in template.yaml
// grants: nothing used without a grant (AccessDenied in AWS), nothing granted without a use.

// functionIDs maps the recorders of stack.recorded to the template's functions. A function added to
// the template without a recorder here fails the test.
var functionIDs = map[string]string{
	"authorize":   "AuthorizeFunction",
	"login":       "LoginFunction",
	"callback":    "CallbackFunction",
	"connect-api": "ConnectApiFunction",
	"events":      "EventsFunction",
	"refresh":     "RefreshFunction",
	"rotate":      "RotateSecretFunction",
}

// iamPrefix is the IAM service prefix of the SDK's service IDs (CallCounter's keys).
var iamPrefix = map[string]string{
	"DynamoDB":       "dynamodb",
	"SecretsManager": "secretsmanager",
	"EventBridge":    "events",
	"SQS":            "sqs",
}

// resourceNames maps the test's physical names to the template's logical resources.
type resourceNames map[string]string

func (s *stack) resourceNames() resourceNames {
	return resourceNames{
		s.tables.State:          "StateTable",
		s.tables.Token:          "TokenTable",
		s.tables.Session:        "SessionTable",
		s.secretID:              "LwaCredentialsSecret",
		s.env["EVENT_BUS_NAME"]: "EventBus",
		"":                      "unnamed",
	}
}

func (n resourceNames) of(name *string) string {
	if r, ok := n[aws.ToString(name)]; ok {
		return r
	}
	return "unknown(" + aws.ToString(name) + ")"
}

// needs returns the "action on resource" IAM needs for one recorded call.
func (n resourceNames) needs(c awstest.Call) []string {
	service, op, _ := strings.Cut(c.Op, ".")
	prefix, ok := iamPrefix[service]
	if !ok {
		return []string{"unmapped service " + c.Op}
	}
	action := prefix + ":" + op
	on := func(a, r string) string { return a + " on " + r }
	switch in := c.Input.(type) {
	case *dynamodb.QueryInput:
		r := n.of(in.TableName)
		if in.IndexName != nil {
			r += "/index/" + *in.IndexName
		}
		return []string{on(action, r)}
	case *dynamodb.ScanInput:
		r := n.of(in.TableName)
		if in.IndexName != nil {
			r += "/index/" + *in.IndexName
		}
		return []string{on(action, r)}
	case *dynamodb.TransactWriteItemsInput:
		// IAM authorizes a transaction item by item, with the item's own action on its table.
		var out []string
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, on("dynamodb:PutItem", n.of(it.Put.TableName)))
			case it.Update != nil:
				out = append(out, on("dynamodb:UpdateItem", n.of(it.Update.TableName)))
			case it.Delete != nil:
				out = append(out, on("dynamodb:DeleteItem", n.of(it.Delete.TableName)))
			case it.ConditionCheck != nil:
				out = append(out, on("dynamodb:ConditionCheckItem", n.of(it.ConditionCheck.TableName)))
			}
		}
		return out
	case *dynamodb.TransactGetItemsInput:
		var out []string
		for _, it := range in.TransactItems {
			out = append(out, on("dynamodb:GetItem", n.of(it.Get.TableName)))
		}
		return out
	case *dynamodb.BatchGetItemInput:
		var out []string
		for table := range in.RequestItems {
			out = append(out, on(action, n.of(&table)))
		}
		return out
	case *dynamodb.BatchWriteItemInput:
		var out []string
		for table := range in.RequestItems {
			out = append(out, on(action, n.of(&table)))
		}
		return out
	case *eventbridge.PutEventsInput:
		var out []string
		for _, e := range in.Entries {
			out = append(out, on(action, n.of(e.EventBusName)))
		}
		return out
	}
	// Single-resource operations: the table or secret is a field of the input.
	v := reflect.ValueOf(c.Input)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		for _, field := range []string{"TableName", "SecretId", "QueueUrl"} {
			if f := v.Elem().FieldByName(field); f.IsValid() {
				if p, ok := f.Interface().(*string); ok {
					return []string{on(action, n.of(p))}
				}
			}
		}
	}
	return []string{"unmapped input " + c.Op + fmt.Sprintf(" %T", c.Input)}
}

// used turns every function's recorded calls into the "action on resource" it needs.
func (s *stack) used() map[string]map[string]bool {
	names := s.resourceNames()
	out := map[string]map[string]bool{}
	for fn, r := range s.recorders {
		id := functionIDs[fn]
		if id == "" {
			id = "unknown function " + fn
		}
		set := map[string]bool{}
		for _, c := range r.Calls() {
			for _, need := range names.needs(c) {
				set[need] = true
			}
		}
		out[id] = set
	}
	return out
}

// canonicalResource names a policy resource as needs does: StateTable.Arn → StateTable,
// ${TokenTable.Arn}/index/x → TokenTable/index/x, the bus (by name or ARN) → EventBus.
func canonicalResource(r string) string {
	if strings.HasSuffix(r, "event-bus/${EventBusName}") || r == "EventBusName" {
		return "EventBus"
	}
	if strings.HasPrefix(r, "${") {
		if ref, rest, ok := strings.Cut(r[2:], "}"); ok {
			return strings.TrimSuffix(ref, ".Arn") + rest
		}
	}
	return strings.TrimSuffix(r, ".Arn")
}

// policyResources reads a statement's Resource. The YAML loader drops tags, so !If [Cond, a, b]
// arrives as a three-element list whose first element is a condition name; a and b must then be
// the same resource (the bus by ARN or by name).
func policyResources(v any) []string {
	if l, ok := v.([]any); ok && len(l) == 3 {
		cond, _ := l[0].(string)
		a, b := canonicalResource(asString(l[1])), canonicalResource(asString(l[2]))
		if cond != "" && !strings.ContainsAny(cond, ".:$/") && a == b {
			return []string{a}
		}
	}
	var out []string
	for _, r := range asList(v) {
		out = append(out, canonicalResource(r))
	}
	return out
}

// onFailureDestinations lists the queues a function's properties name as OnFailure destinations
// (asynchronous invocations, event source mappings).
func onFailureDestinations(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "OnFailure" {
				if m, ok := x.(map[string]any); ok {
					out = append(out, canonicalResource(asString(m["Destination"])))
				}
				continue
			}
			out = append(out, onFailureDestinations(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, onFailureDestinations(x)...)
		}
	}
	return out
}

// granted reads a function's inline policy statements as "action on resource", leaving out, with
// the reason, what the function's code never calls itself.
func granted(props map[string]any) (set map[string]bool, excluded []string) {
	set = map[string]bool{}
	destinations := onFailureDestinations(props)
	policies, _ := props["Policies"].([]any)
	for _, p := range policies {
		doc, ok := p.(map[string]any)
		if !ok {
			set["managed policy "+asString(p)] = true // never used by a recorded call: fails
			continue
		}
		stmts, _ := doc["Statement"].([]any)
		for _, st := range stmts {
			st, _ := st.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			for _, a := range asList(st["Action"]) {
				for _, r := range policyResources(st["Resource"]) {
					g := a + " on " + r
					switch {
					// DynamoDB calls KMS with the function's credentials to encrypt and decrypt the
					// token table (customer-managed key, kms:ViaService); the SDK client never sees it.
					case strings.HasPrefix(a, "kms:"):
						excluded = append(excluded, g+" (KMS through DynamoDB)")
					// Lambda sends failed invocations / batches to the OnFailure destination with the
					// function's role; the function's code never sends there.
					case a == "sqs:SendMessage" && slices.Contains(destinations, r):
						excluded = append(excluded, g+" (OnFailure destination, sent by Lambda)")
					default:
						set[g] = true
					}
				}
			}
		}
	}
	// Stream reads (dynamodb:GetRecords, GetShardIterator, DescribeStream, ListStreams) come from
	// SAM's AWSLambdaDynamoDBExecutionRole for the DynamoDB events, not from an inline statement;
	// Lambda's poller makes them, and the tests' poller (internal/streams) is not recorded.
	return set, excluded
}

// privilegeProblems compares each function's grants with its recorded use and returns the
// differences and a per-function report.
func privilegeProblems(tpl cfnTemplate, used map[string]map[string]bool) (problems, report []string) {
	var ids []string
	for id, r := range tpl.Resources {
		if r.Type == "AWS::Serverless::Function" {
			ids = append(ids, id)
		}
	}
	for id := range used {
		if r, ok := tpl.Resources[id]; !ok || r.Type != "AWS::Serverless::Function" {
			problems = append(problems, fmt.Sprintf("%s: recorded calls, but no such function in the template", id))
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !slices.Contains(slices.Collect(maps.Values(functionIDs)), id) {
			problems = append(problems, fmt.Sprintf("%s: no recorder; wire it with stack.recorded and run its flows here", id))
			continue
		}
		grants, excluded := granted(tpl.Resources[id].Properties)
		u := used[id]
		if len(u) == 0 {
			problems = append(problems, fmt.Sprintf("%s: no AWS call recorded; its flows did not run", id))
		}
		for g := range u {
			if !grants[g] {
				problems = append(problems, fmt.Sprintf("%s: uses %s, not granted", id, g))
			}
		}
		for g := range grants {
			if !u[g] {
				problems = append(problems, fmt.Sprintf("%s: grants %s, never used", id, g))
			}
		}
		rows := slices.Sorted(maps.Keys(u))
		verdict := "granted = used"
		if !equalSets(grants, u) {
			verdict = "granted != used"
		}
		report = append(report, fmt.Sprintf("%-22s %s: %s; excluded: %s", id, verdict, strings.Join(rows, ", "), strings.Join(excluded, ", ")))
	}
	sort.Strings(problems)
	return problems, report
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// runEveryFlow drives every function through its real flows, each with its own recorder.
func runEveryFlow(t *testing.T) *stack {
	s := newStack(t, withSessions(), withEnv("ANONYMOUS_AUTHORIZATIONS", "true"),
		withEnv("INVALID_GRANT_CONFIRMATIONS", "2"), withEnv("INVALID_GRANT_CONFIRM_SECONDS", "0"))
	p := s.withEventPipe() // sets EVENT_BUS_NAME; its handler is replaced by a recorded one
	ev, err := eventsfn.New(s.runtime(s.recorded("events", s.aws.Config)))
	if err != nil {
		t.Fatal(err)
	}
	p.handler = ev
	for _, m := range p.mappings {
		m.Handler = ev.Handle
	}
	ok := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: status %d, want %d", what, got, want)
		}
	}

	// Anonymous website flow (landing → authorize → callback), and its log-in step reusing the state.
	state, _ := s.startWebsite("marketplace=US")
	ok("website callback", s.callbackWith(state, s.consent(), stateCookie(state)).StatusCode, http.StatusOK)
	state, _ = s.startWebsite("marketplace=DE")
	q := url.Values{"amazon_callback_uri": {"/apps/authorize/confirm/" + applicationID}, "amazon_state": {"a"}, "selling_partner_id": {sellerID}}
	ok("website login", invoke(t, s.login, event(t, "login", q.Encode(), stateCookie(state))).StatusCode, http.StatusFound)
	ok("website callback after login", s.callbackWith(state, s.consent(), stateCookie(state)).StatusCode, http.StatusOK)

	// Appstore flow: the log-in step issues the state.
	q = url.Values{"amazon_callback_uri": {"https://sellercentral.amazon.co.jp/apps/authorize/confirm/" + applicationID}, "amazon_state": {"a"}, "selling_partner_id": {sellerID}}
	res := invoke(t, s.login, event(t, "login", q.Encode()))
	ok("appstore login", res.StatusCode, http.StatusFound)
	state = cookieValue(t, res)
	remember(state)
	ok("appstore callback", s.callbackWith(state, s.consent(), stateCookie(state)).StatusCode, http.StatusOK)

	// Session flow: connect, a refusal (another end user), the owner's renewal, a code Amazon refuses.
	const seller = "A2PRIVILEGESELLER"
	id, res := s.connectAs(alice, seller)
	ok("session connect", res.StatusCode, http.StatusSeeOther)
	s.clock.Advance(time.Minute)
	_, res = s.connectAs(bob, seller)
	ok("session refusal", res.StatusCode, http.StatusConflict)
	s.clock.Advance(time.Minute)
	_, res = s.connectAs(alice, seller)
	ok("session renewal", res.StatusCode, http.StatusSeeOther)
	_, token := s.createSession(map[string]any{"end_user_id": alice})
	state, _ = s.open(token)
	bad := url.Values{"state": {state}, "selling_partner_id": {seller}, "spapi_oauth_code": {"not-a-code"}}.Encode()
	ok("session code refused", invoke(t, s.callback, event(t, "callback", bad, stateCookie(state))).StatusCode, http.StatusBadRequest)

	// Log-in step of a session retargets it to Amazon's region; an Appstore flow resumed by a session.
	_, token = s.createSession(map[string]any{"end_user_id": alice, "marketplace": "DE"})
	state, _ = s.open(token)
	q = url.Values{"amazon_callback_uri": {"https://sellercentral.amazon.co.jp/apps/authorize/confirm/x"}, "amazon_state": {"a"}}
	ok("session login retarget", invoke(t, s.login, event(t, "login", q.Encode(), stateCookie(state))).StatusCode, http.StatusFound)
	ok("session callback after retarget", s.finish(state, "A3PRIVILEGERETARGET").StatusCode, http.StatusOK)
	_, token = s.createSession(map[string]any{"end_user_id": bob, "amazon_callback_uri": "https://sellercentral.amazon.co.uk/apps/authorize/confirm/x", "amazon_state": "s"})
	state, _ = s.open(token)
	ok("appstore flow resumed by session", s.finish(state, "A4PRIVILEGEAPPSTORE").StatusCode, http.StatusOK)
	p.drain()

	// Backend API: the four routes (POST ran above).
	if got := s.sessionStatus(id); got["status"] != "connected" {
		t.Fatalf("session = %v", got)
	}
	status, _, list := s.backend(backendEvent(t, "GET /connections", "", nil, "end_user_id="+alice))
	if status != http.StatusOK || len(list) == 0 {
		t.Fatalf("connections: %d %v", status, list)
	}

	// Refresh runs: refreshed, then invalid_grant confirmed and marked.
	refresh, err := refreshfn.New(s.runtime(s.recorded("refresh", s.aws.Config)))
	if err != nil {
		t.Fatal(err)
	}
	refresh.Job.Metrics = io.Discard
	s.clock.Advance(time.Hour - dynamo.RefreshLead)
	if sum, err := refresh.Handle(t.Context(), json.RawMessage(`{}`)); err != nil || sum.Refreshed == 0 {
		t.Fatalf("refresh run: %+v, %v", sum, err)
	}
	s.amazon.Revoke(seller)
	revoked := int64(0)
	for range 2 {
		s.clock.Advance(time.Hour)
		sum, err := refresh.Handle(t.Context(), json.RawMessage(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		revoked += sum.Revoked
	}
	if revoked == 0 {
		t.Fatal("no seller marked after two invalid_grant answers")
	}
	p.drain()

	path := map[string]string{"selling_partner_id": "A3PRIVILEGERETARGET", "region": "fe"}
	status, out, _ := s.backend(backendEvent(t, "DELETE /connections/{selling_partner_id}/{region}", "", path, "end_user_id="+alice))
	ok(fmt.Sprintf("disconnect %v", out), status, http.StatusNoContent)
	if len(p.drain()) == 0 || len(p.seen) == 0 {
		t.Fatal("the events function delivered nothing")
	}

	// Rotation notification: the new client secret is checked and stored.
	rotate, err := rotatesecretfn.New(s.runtime(s.recorded("rotate", s.aws.Config)))
	if err != nil {
		t.Fatal(err)
	}
	rotate.Rotation.Metrics = io.Discard
	const newSecret = "amzn1.oa2-cs.v1.privilege-test-0123456789"
	remember(newSecret)
	s.amazon.RotateSecret(newSecret)
	if r, err := rotate.Handle(t.Context(), sqsEvent(t, clientID, newSecret)); err != nil || len(r.BatchItemFailures) != 0 {
		t.Fatalf("rotation: %+v, %v", r, err)
	}
	return s
}

// TestLeastPrivilegeGrantedEqualsUsed: what each function's inline policy grants is exactly what
// its real flows use; and the check itself fails when a grant is removed or one is added.
func TestLeastPrivilegeGrantedEqualsUsed(t *testing.T) {
	s := runEveryFlow(t)
	used := s.used()
	problems, report := privilegeProblems(loadTemplate(t), used)
	for _, line := range report {
		t.Log(line)
	}
	for _, p := range problems {
		t.Error(p)
	}

	// Mutations of the parsed template, in memory: each must be caught.
	statements := func(tpl cfnTemplate, id string) []any {
		doc := tpl.Resources[id].Properties["Policies"].([]any)[0].(map[string]any)
		return doc["Statement"].([]any)
	}
	setStatements := func(tpl cfnTemplate, id string, st []any) {
		tpl.Resources[id].Properties["Policies"].([]any)[0].(map[string]any)["Statement"] = st
	}
	t.Run("removed grant fails", func(t *testing.T) {
		tpl := loadTemplate(t)
		st := statements(tpl, "RefreshFunction")
		st = slices.DeleteFunc(slices.Clone(st), func(x any) bool {
			m := x.(map[string]any)
			return m["Action"] == "dynamodb:UpdateItem" && m["Resource"] == "TokenTable.Arn"
		})
		setStatements(tpl, "RefreshFunction", st)
		problems, _ := privilegeProblems(tpl, used)
		if !slices.Contains(problems, "RefreshFunction: uses dynamodb:UpdateItem on TokenTable, not granted") {
			t.Fatalf("without the refresh function's UpdateItem: %q", problems)
		}
	})
	t.Run("added grant fails", func(t *testing.T) {
		tpl := loadTemplate(t)
		st := append(slices.Clone(statements(tpl, "ConnectApiFunction")),
			map[string]any{"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": "SessionTable.Arn"})
		setStatements(tpl, "ConnectApiFunction", st)
		problems, _ := privilegeProblems(tpl, used)
		if !slices.Contains(problems, "ConnectApiFunction: grants dynamodb:UpdateItem on SessionTable, never used") {
			t.Fatalf("with an unused UpdateItem: %q", problems)
		}
	})
}
