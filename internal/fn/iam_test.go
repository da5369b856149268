package fn_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	callbackfn "github.com/sellerauth/sellerauth/internal/fn/callback"
	refreshfn "github.com/sellerauth/sellerauth/internal/fn/refresh"
	rotatesecretfn "github.com/sellerauth/sellerauth/internal/fn/rotatesecret"
)

// Least privilege, enforced: each function that uses Secrets Manager (callback, refresh, rotate)
// runs its real flow under the credentials of an IAM user holding exactly that function's inline
// policy from template.yaml, against a moto_server of its own that enforces IAM; and the same flow
// under a user lacking any one action the function's code calls fails with moto refusing that very
// action, so a grant missing from the template fails here as AccessDenied would in AWS. moto 5.2
// checks the action (for Secrets Manager and DynamoDB alike) but not the resource: see
// policyWithout; privilege_test.go checks the resources.
func TestFunctionsUnderTheirOwnIAMPolicies(t *testing.T) {
	env := awstest.StartOwn(t)
	tpl := loadTemplate(t)
	user := 0
	for _, fn := range []string{"CallbackFunction", "RefreshFunction", "RotateSecretFunction"} {
		r, ok := tpl.Resources[fn]
		if !ok {
			t.Fatalf("template.yaml has no %s", fn)
		}
		stmts := policyStatements(r.Properties)
		var actions []string
		for _, st := range stmts {
			if !performedForTheFunction(st) {
				actions = append(actions, asList(st["Action"])...)
			}
		}
		// moto cannot tell two statements of one action on different tables apart (see policyWithout).
		slices.Sort(actions)
		actions = slices.Compact(actions)
		if !slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "secretsmanager:") }) {
			t.Fatalf("%s: no Secrets Manager grant in template.yaml", fn)
		}
		// "" is the exact policy; every other entry is the policy without that one action.
		for _, without := range append([]string{""}, actions...) {
			name := fn + "/exact policy"
			if without != "" {
				name = fn + "/without " + without
			}
			t.Run(name, func(t *testing.T) {
				s := newStackOn(t, env)
				user++
				cfg, denied := s.userConfig(fmt.Sprintf("%s-%d", fn, user), policyWithout(stmts, without))
				err := runUnderIAM(t, s, fn, cfg)
				if without == "" && (err != nil || len(denied.actions()) != 0) {
					t.Fatalf("%s under its template policy (%s) against IAM-enforcing moto: %v; denied %v", fn, strings.Join(actions, ", "), err, denied.actions())
				}
				if without != "" && err == nil {
					t.Fatalf("%s succeeded without %s: moto did not enforce IAM, or the function no longer needs the grant", fn, without)
				}
				// The failure must be moto refusing the removed action, not anything else.
				if without != "" && !slices.Equal(denied.actions(), []string{without}) {
					t.Fatalf("%s without %s failed (%v) but moto denied %v", fn, without, err, denied.actions())
				}
			})
		}
	}
}

// runUnderIAM prepares fn's flow with the default credentials, then runs the function itself with
// cfg while moto enforces IAM; it returns the function's failure, nil when the flow succeeded.
func runUnderIAM(t *testing.T, s *stack, fn string, cfg aws.Config) error {
	t.Helper()
	switch fn {
	case "CallbackFunction":
		state, _ := s.startWebsite("")
		code := s.consent()
		s.aws.EnforceIAM(t, true)
		defer s.aws.EnforceIAM(t, false)
		h, err := callbackfn.New(s.runtime(cfg))
		if err != nil {
			return fmt.Errorf("NewCallback: %w", err)
		}
		res := invoke(t, h, event(t, "callback", callbackQuery(state, code), stateCookie(state)))
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("callback answered %d", res.StatusCode)
		}
		return nil
	case "RefreshFunction":
		state, _ := s.startWebsite("marketplace=US")
		if res := s.callbackWith(state, s.consent(), stateCookie(state)); res.StatusCode != http.StatusOK {
			t.Fatalf("callback (default credentials): %d", res.StatusCode)
		}
		s.clock.Advance(time.Hour - dynamo.RefreshLead - time.Minute)
		payload, err := os.ReadFile("testdata/scheduler-refresh.json")
		if err != nil {
			t.Fatal(err)
		}
		s.aws.EnforceIAM(t, true)
		defer s.aws.EnforceIAM(t, false)
		h, err := refreshfn.New(s.runtime(cfg))
		if err != nil {
			return fmt.Errorf("NewRefresh: %w", err)
		}
		h.Job.Metrics = io.Discard
		res, err := h.Handle(t.Context(), json.RawMessage(payload))
		if err != nil {
			return err
		}
		if res.Due != 1 || res.Refreshed != 1 {
			return fmt.Errorf("refresh run %+v, want the one due token refreshed", res)
		}
		return nil
	case "RotateSecretFunction":
		const newSecret = "amzn1.oa2-cs.v1.rotated-under-iam-0123456789"
		remember(newSecret)
		s.amazon.RotateSecret(newSecret)
		ev := sqsEvent(t, clientID, newSecret)
		ev.Records = ev.Records[:1]
		err := func() error {
			s.aws.EnforceIAM(t, true)
			defer s.aws.EnforceIAM(t, false)
			h, err := rotatesecretfn.New(s.runtime(cfg))
			if err != nil {
				return fmt.Errorf("NewRotate: %w", err)
			}
			h.Rotation.Metrics = io.Discard
			res, err := h.Handle(t.Context(), ev)
			if err != nil {
				return err
			}
			if len(res.BatchItemFailures) != 0 {
				return fmt.Errorf("batch item failures %+v", res.BatchItemFailures)
			}
			return nil
		}()
		stored, _ := currentSecret(t, s.aws, s.secretID)
		if err == nil && stored["client_secret"] != newSecret {
			return fmt.Errorf("rotation reported success but the secret holds the old value")
		}
		if err != nil && stored["client_secret"] != clientSecret {
			t.Errorf("a failed rotation changed the current secret")
		}
		return err
	}
	t.Fatalf("no flow for %s", fn)
	return nil
}

// performedForTheFunction tells the statements whose actions AWS performs with the function's role
// rather than the function's code: KMS used by DynamoDB for the table's key (kms:ViaService), and
// the Lambda service sending a failed invocation to the function's dead-letter queue. Neither
// happens in moto, so removing them cannot fail a flow; they stay in the user's policy.
func performedForTheFunction(st map[string]any) bool {
	if cond, ok := st["Condition"].(map[string]any); ok {
		for _, kv := range cond {
			if m, ok := kv.(map[string]any); ok {
				if _, via := m["kms:ViaService"]; via {
					return true
				}
			}
		}
	}
	for _, r := range asList(st["Resource"]) {
		if strings.Contains(r, "DeadLetterQueue") && slices.Equal(asList(st["Action"]), []string{"sqs:SendMessage"}) {
			return true
		}
	}
	return false
}

// policyStatements returns the statements of a function's inline policies in template.yaml.
func policyStatements(props map[string]any) []map[string]any {
	var out []map[string]any
	policies, _ := props["Policies"].([]any)
	for _, p := range policies {
		doc, _ := p.(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			if st, ok := s.(map[string]any); ok {
				out = append(out, st)
			}
		}
	}
	return out
}

// policyWithout is the IAM policy document of stmts without the action without ("" for none). It
// returns "" when no action is left. Every Resource becomes "*": moto 5 authorizes Secrets Manager
// and DynamoDB requests against the resource "*" only, so a statement scoped to an ARN, as the
// template's are, is refused whatever the action. The actions are what moto checks here; the
// resources are checked against the calls each function makes in privilege_test.go.
func policyWithout(stmts []map[string]any, without string) string {
	var out []map[string]any
	for _, st := range stmts {
		var actions []string
		for _, a := range asList(st["Action"]) {
			if a != without {
				actions = append(actions, a)
			}
		}
		if len(actions) == 0 {
			continue
		}
		c := map[string]any{"Effect": st["Effect"], "Action": actions, "Resource": "*"}
		if cond, ok := st["Condition"]; ok {
			c["Condition"] = cond
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return ""
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": out})
	return string(b)
}

// denials records the IAM actions moto refused (HTTP 403) to the clients of one configuration.
type denials struct {
	mu  sync.Mutex
	ops []string
}

func (d *denials) actions() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := slices.Clone(d.ops)
	slices.Sort(out)
	return slices.Compact(out)
}

func (d *denials) record(cfg *aws.Config) {
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("iamtest.denials", func(
			ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler,
		) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.StatusCode == http.StatusForbidden {
				prefix := iamPrefix[strings.ReplaceAll(awsmiddleware.GetServiceID(ctx), " ", "")]
				d.mu.Lock()
				d.ops = append(d.ops, prefix+":"+awsmiddleware.GetOperationName(ctx))
				d.mu.Unlock()
			}
			return out, md, err
		}), middleware.Before)
	})
}

// userConfig creates an IAM user in moto holding policy (none if ""), and returns env's
// configuration signed with a new access key of that user, with a record of what moto refused it.
func (s *stack) userConfig(name, policy string) (aws.Config, *denials) {
	s.t.Helper()
	s.iam("CreateUser", url.Values{"UserName": {name}}, nil)
	if policy != "" {
		s.iam("PutUserPolicy", url.Values{"UserName": {name}, "PolicyName": {"function"}, "PolicyDocument": {policy}}, nil)
	}
	var key struct {
		AccessKeyID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		SecretAccessKey string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	s.iam("CreateAccessKey", url.Values{"UserName": {name}}, &key)
	if key.AccessKeyID == "" || key.SecretAccessKey == "" {
		s.t.Fatalf("CreateAccessKey for %s returned no key", name)
	}
	cfg := s.aws.Config.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, "")
	d := &denials{}
	d.record(&cfg)
	return cfg, d
}

// iam calls moto's IAM query API (the SDK's IAM client is not a dependency of this module), signed
// with the default credentials; it runs while IAM is not enforced.
func (s *stack) iam(action string, params url.Values, out any) {
	s.t.Helper()
	params.Set("Action", action)
	params.Set("Version", "2010-05-08")
	body := params.Encode()
	req, err := http.NewRequestWithContext(s.t.Context(), http.MethodPost, s.aws.Endpoint+"/", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds, err := s.aws.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iam", awstest.Region, time.Now()); err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("IAM %s: %v", action, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("IAM %s: %s %s", action, resp.Status, b)
	}
	if out != nil {
		if err := xml.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
			s.t.Fatalf("IAM %s: %v in %s", action, err, b)
		}
	}
}
