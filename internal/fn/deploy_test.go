package fn_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/fn"
	authorizefn "github.com/sellerauth/sellerauth/internal/fn/authorize"
	callbackfn "github.com/sellerauth/sellerauth/internal/fn/callback"
	connectapifn "github.com/sellerauth/sellerauth/internal/fn/connectapi"
	eventsfn "github.com/sellerauth/sellerauth/internal/fn/events"
	loginfn "github.com/sellerauth/sellerauth/internal/fn/login"
	refreshfn "github.com/sellerauth/sellerauth/internal/fn/refresh"
	rotatesecretfn "github.com/sellerauth/sellerauth/internal/fn/rotatesecret"
	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

// Nobody can run `sam deploy` from here, so these tests hold template.yaml to what a deployment
// needs, on the template the SAM translator makes of it (pip's aws-sam-translator, the library
// `sam deploy` and cfn-lint use): two stacks in one account and region (dev and prod) must not
// share a physical name, and a parameter value CloudFormation accepts must not make a function
// exit at start-up (502s until the next deploy).

// readCFN reads a CloudFormation YAML template as CloudFormation does: the short-form tags
// become their long form (!Ref X is {"Ref": "X"}, !GetAtt A.B is {"Fn::GetAtt": ["A", "B"]}),
// as the SAM translator's own loader has them. (loadTemplate drops the tags.)
func readCFN(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseCFN(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// parseCFN reads a template as CloudFormation does, through the project's one template reader.
func parseCFN(b []byte) (map[string]any, error) {
	tpl, err := samtemplate.Parse(b)
	if err != nil {
		return nil, err
	}
	return tpl.CloudFormation(), nil
}

// translateScript runs the SAM translator offline, as cfn-lint does (cfnlint/template/transforms/
// _sam.py): local CodeUri values become a placeholder S3 URI, and the managed-policy map is empty
// (the template's functions have inline policies only, which TestTemplateLeastPrivilege checks).
// It reads a JSON list of templates and writes a list of {"template": ...} or {"error": ...}.
const translateScript = `
import json, sys
try:
    from samtranslator.translator.translator import Translator
    from samtranslator.parser.parser import Parser
    from samtranslator.model.exceptions import InvalidDocumentException
except ImportError as e:
    sys.stderr.write("cannot import the SAM translator: %s\n" % e)
    sys.exit(3)
out = []
for tpl in json.load(sys.stdin):
    for r in tpl.get("Resources", {}).values():
        if r.get("Type") == "AWS::Serverless::Function" and not str(r.get("Properties", {}).get("CodeUri", "")).startswith("s3://"):
            r.setdefault("Properties", {})["CodeUri"] = "s3://bucket/key"
    try:
        out.append({"template": Translator(managed_policy_map={}, sam_parser=Parser()).translate(sam_template=tpl, parameter_values={})})
    except InvalidDocumentException as e:
        out.append({"error": "; ".join(c.message for c in e.causes)})
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`

const installTranslator = "pip install aws-sam-translator"

// translate runs the SAM translator on each template. A missing python3 or translator fails
// the test: these checks are the only ones between template.yaml and a failed deployment.
func translate(templates ...map[string]any) ([]map[string]any, error) {
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, fmt.Errorf("python3 is not installed, and the SAM translator needs it: install Python 3, then `%s`", installTranslator)
	}
	in, err := json.Marshal(templates)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(python, "-c", translateScript)
	// The translator asks boto3 for the region to build ARNs; nothing here needs credentials or
	// the network.
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true")
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
			return nil, fmt.Errorf("%s: the SAM translator is not installed for %s: run `%s`", strings.TrimSpace(stderr.String()), python, installTranslator)
		}
		return nil, fmt.Errorf("SAM translator (%s): %v\n%s", python, err, stderr.String())
	}
	var results []struct {
		Template map[string]any `json:"template"`
		Error    string         `json:"error"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		return nil, fmt.Errorf("SAM translator output: %v", err)
	}
	out := make([]map[string]any, len(results))
	for i, r := range results {
		if r.Error != "" {
			return nil, fmt.Errorf("template %d does not translate: %s", i, r.Error)
		}
		out[i] = r.Template
	}
	return out, nil
}

// sharedNameFixture is what a careless template does: each resource below would carry the same
// name in a second stack of the account. sharedNames must report exactly these.
const sharedNameFixture = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Prefix:
    Type: String
    Default: app
  QueueNameOfThisStack:
    Type: String
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Tick:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(5 minutes)
        Tock:
          Type: ScheduleV2
          Properties:
            OmitName: true
            ScheduleExpression: rate(5 minutes)
  LiteralQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  ParameterQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Ref QueueNameOfThisStack
  DefaultedQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub ${Prefix}-jobs
  RegionalLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /app/${AWS::Region}
  StackLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /app/${AWS::StackName}
  Unnamed:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      BillingMode: PAY_PER_REQUEST
Outputs:
  Shared:
    Value: !Ref Unnamed
    Export:
      Name: table-name
  PerStack:
    Value: !Ref Unnamed
    Export:
      Name: !Sub ${AWS::StackName}-table-name
`

var sharedNameFixtureWant = []string{
	"DefaultedQueue.QueueName",
	"FnTick.Name",
	"LiteralQueue.QueueName",
	"Outputs.Shared.Export.Name",
	"RegionalLogs.LogGroupName",
}

var (
	translateOnce  sync.Once
	translated     map[string]any // template.yaml
	translatedFix  map[string]any // sharedNameFixture
	translateError error
)

// translatedTemplates translates template.yaml and the fixture in one run of the translator.
func translatedTemplates(t *testing.T) (template, fixture map[string]any) {
	t.Helper()
	translateOnce.Do(func() {
		fixture, err := parseCFN([]byte(sharedNameFixture))
		if err != nil {
			translateError = fmt.Errorf("sharedNameFixture: %w", err)
			return
		}
		b, err := os.ReadFile("../../template.yaml")
		if err != nil {
			translateError = err
			return
		}
		tpl, err := parseCFN(b)
		if err != nil {
			translateError = fmt.Errorf("template.yaml: %w", err)
			return
		}
		out, err := translate(tpl, fixture)
		if err != nil {
			translateError = err
			return
		}
		translated, translatedFix = out[0], out[1]
	})
	if translateError != nil {
		t.Fatal(translateError)
	}
	return translated, translatedFix
}

// accountNames lists, for each resource type, the properties that name it uniquely within an
// account and region: CloudFormation generates a unique name when the property is absent, and
// a fixed value makes a second stack fail to create the resource (or, worse, share it).
var accountNames = map[string][]string{
	"AWS::Lambda::Function":                    {"FunctionName"},
	"AWS::Lambda::LayerVersion":                {"LayerName"},
	"AWS::DynamoDB::Table":                     {"TableName"},
	"AWS::DynamoDB::GlobalTable":               {"TableName"},
	"AWS::SQS::Queue":                          {"QueueName"},
	"AWS::SNS::Topic":                          {"TopicName"},
	"AWS::Logs::LogGroup":                      {"LogGroupName"},
	"AWS::Scheduler::Schedule":                 {"Name"},
	"AWS::Scheduler::ScheduleGroup":            {"Name"},
	"AWS::IAM::Role":                           {"RoleName"},
	"AWS::IAM::ManagedPolicy":                  {"ManagedPolicyName"},
	"AWS::IAM::User":                           {"UserName"},
	"AWS::IAM::Group":                          {"GroupName"},
	"AWS::IAM::InstanceProfile":                {"InstanceProfileName"},
	"AWS::KMS::Alias":                          {"AliasName"},
	"AWS::Events::Rule":                        {"Name"},
	"AWS::Events::EventBus":                    {"Name"},
	"AWS::Events::Connection":                  {"Name"},
	"AWS::Events::ApiDestination":              {"Name"},
	"AWS::Events::Archive":                     {"ArchiveName"},
	"AWS::Pipes::Pipe":                         {"Name"},
	"AWS::CloudWatch::Alarm":                   {"AlarmName"},
	"AWS::CloudWatch::CompositeAlarm":          {"AlarmName"},
	"AWS::CloudWatch::Dashboard":               {"DashboardName"},
	"AWS::SecretsManager::Secret":              {"Name"},
	"AWS::SSM::Parameter":                      {"Name"},
	"AWS::S3::Bucket":                          {"BucketName"},
	"AWS::StepFunctions::StateMachine":         {"StateMachineName"},
	"AWS::ApiGatewayV2::DomainName":            {"DomainName"},
	"AWS::ApiGateway::DomainName":              {"DomainName"},
	"AWS::ApiGateway::RestApi":                 {},
	"AWS::ApiGatewayV2::Api":                   {}, // Name need not be unique (SAM sets the stack name)
	"AWS::ApiGatewayV2::Stage":                 {}, // StageName is per API
	"AWS::ApiGatewayV2::ApiMapping":            {},
	"AWS::ApiGateway::Stage":                   {},
	"AWS::ApiGateway::Deployment":              {},
	"AWS::Lambda::Permission":                  {},
	"AWS::Lambda::EventSourceMapping":          {},
	"AWS::Lambda::EventInvokeConfig":           {},
	"AWS::Lambda::Url":                         {},
	"AWS::Lambda::Version":                     {},
	"AWS::Lambda::Alias":                       {}, // Name is per function
	"AWS::SQS::QueuePolicy":                    {},
	"AWS::SNS::TopicPolicy":                    {},
	"AWS::SNS::Subscription":                   {},
	"AWS::KMS::Key":                            {},
	"AWS::Logs::MetricFilter":                  {}, // FilterName is per log group
	"AWS::Logs::SubscriptionFilter":            {},
	"AWS::IAM::Policy":                         {}, // PolicyName is per role
	"AWS::Events::EventBusPolicy":              {},
	"AWS::SecretsManager::ResourcePolicy":      {},
	"AWS::SecretsManager::RotationSchedule":    {},
	"AWS::CloudFormation::WaitConditionHandle": {},
	"AWS::CloudWatch::AnomalyDetector":         {},
	"AWS::Logs::QueryDefinition":               {}, // Name need not be unique
	"AWS::SNS::TopicInlinePolicy":              {},
	"AWS::SQS::QueueInlinePolicy":              {},
}

// sharedNames lists "<resource>.<property>" (and "Outputs.<output>.Export.Name") for every name a
// second stack of the template in the same account and region would also use, and the resource
// types accountNames does not classify.
func sharedNames(tpl map[string]any) (shared, unclassified []string) {
	params, _ := tpl["Parameters"].(map[string]any)
	resources, _ := tpl["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		typ, _ := res["Type"].(string)
		props, _ := res["Properties"].(map[string]any)
		names, ok := accountNames[typ]
		if !ok {
			unclassified = append(unclassified, id+" ("+typ+")")
			continue
		}
		for _, p := range names {
			if v, ok := props[p]; ok && !stackUnique(v, params, resources) {
				shared = append(shared, id+"."+p)
			}
		}
	}
	outputs, _ := tpl["Outputs"].(map[string]any)
	for id, o := range outputs {
		out, _ := o.(map[string]any)
		export, _ := out["Export"].(map[string]any)
		if v, ok := export["Name"]; ok && !stackUnique(v, params, resources) {
			shared = append(shared, "Outputs."+id+".Export.Name")
		}
	}
	slices.Sort(shared)
	slices.Sort(unclassified)
	return shared, unclassified
}

var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// stackUnique reports whether a name differs between two stacks of the template: it contains
// the stack name, or a resource of the stack (a Ref or GetAtt), or a parameter without a default
// (each stack is given its own). A literal, a pseudo parameter other than AWS::StackName, or a
// parameter with a default is the same in both.
func stackUnique(v any, params, resources map[string]any) bool {
	ref := func(name string) bool {
		name, _, _ = strings.Cut(name, ".")
		switch {
		case name == "AWS::StackName", name == "AWS::StackId", name == "AWS::NoValue":
			return true
		case strings.HasPrefix(name, "AWS::"):
			return false
		case params[name] != nil:
			p, _ := params[name].(map[string]any)
			def, has := p["Default"]
			return !has || fmt.Sprint(def) == ""
		default:
			return resources[name] != nil
		}
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for fn, arg := range m {
		switch fn {
		case "Ref":
			s, _ := arg.(string)
			return ref(s)
		case "Fn::GetAtt":
			return true
		case "Fn::Sub":
			s, _ := arg.(string)
			var vars map[string]any
			if list, ok := arg.([]any); ok && len(list) == 2 {
				s, _ = list[0].(string)
				vars, _ = list[1].(map[string]any)
			}
			for _, match := range subVariable.FindAllStringSubmatch(s, -1) {
				if val, ok := vars[match[1]]; ok {
					if stackUnique(val, params, resources) {
						return true
					}
				} else if ref(match[1]) {
					return true
				}
			}
			return false
		case "Fn::Join":
			list, _ := arg.([]any)
			if len(list) != 2 {
				return false
			}
			parts, ok := list[1].([]any)
			if !ok {
				return stackUnique(list[1], params, resources)
			}
			return slices.ContainsFunc(parts, func(p any) bool { return stackUnique(p, params, resources) })
		case "Fn::If":
			list, _ := arg.([]any)
			return len(list) == 3 && stackUnique(list[1], params, resources) && stackUnique(list[2], params, resources)
		}
	}
	return false
}

// TestDeployNoNameSharedBetweenStacks: dev and prod (samconfig.toml) are two stacks in one account
// and region; a fixed physical name, in template.yaml or in what SAM generates from it (a
// ScheduleV2 is named after its function and event unless OmitName), makes the second fail.
func TestDeployNoNameSharedBetweenStacks(t *testing.T) {
	tpl, fixture := translatedTemplates(t)
	t.Run("checker", func(t *testing.T) {
		shared, unclassified := sharedNames(fixture)
		if !slices.Equal(shared, sharedNameFixtureWant) || len(unclassified) != 0 {
			t.Fatalf("on the fixture: shared %v, unclassified %v; want shared %v", shared, unclassified, sharedNameFixtureWant)
		}
	})
	shared, unclassified := sharedNames(tpl)
	for _, s := range shared {
		t.Errorf("%s: a second stack in the same account would use the same name: leave it out or include ${AWS::StackName}", s)
	}
	for _, u := range unclassified {
		t.Errorf("%s: resource type not in accountNames (deploy_test.go): say which of its properties, if any, names it account-wide", u)
	}
	resources, _ := tpl["Resources"].(map[string]any)
	if len(resources) < 40 {
		t.Fatalf("the translated template has %d resources", len(resources))
	}
}

// cfnParam is one parameter of template.yaml with CloudFormation's checks of a value.
type cfnParam struct {
	Name string
	Def  map[string]any
}

func (p cfnParam) typ() string { s, _ := p.Def["Type"].(string); return s }

func (p cfnParam) number(key string) (float64, bool) {
	switch v := p.Def[key].(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// constrained reports whether CloudFormation checks values of the parameter at all.
func (p cfnParam) constrained(bounded bool) bool {
	if _, ok := p.Def["AllowedValues"]; ok {
		return true
	}
	if p.typ() == "Number" {
		_, lo := p.number("MinValue")
		_, hi := p.number("MaxValue")
		return lo && (hi || !bounded)
	}
	_, ok := p.Def["AllowedPattern"]
	return ok
}

// accepts is CloudFormation's check of a parameter value: AllowedValues, AllowedPattern (the
// whole value must match, as Java's String.matches), MinLength/MaxLength; a Number must parse
// and lie within MinValue/MaxValue.
func (p cfnParam) accepts(v string) (bool, error) {
	if allowed, ok := p.Def["AllowedValues"].([]any); ok {
		if !slices.ContainsFunc(allowed, func(a any) bool { return scalarString(a) == v }) {
			return false, nil
		}
	}
	if p.typ() == "Number" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false, nil
		}
		if lo, ok := p.number("MinValue"); ok && f < lo {
			return false, nil
		}
		if hi, ok := p.number("MaxValue"); ok && f > hi {
			return false, nil
		}
		return true, nil
	}
	if pattern, ok := p.Def["AllowedPattern"].(string); ok {
		re, err := regexp.Compile(`^(?:` + pattern + `)$`)
		if err != nil {
			return false, fmt.Errorf("AllowedPattern %q: %v", pattern, err)
		}
		if !re.MatchString(v) {
			return false, nil
		}
	}
	if n, ok := p.number("MinLength"); ok && float64(len(v)) < n {
		return false, nil
	}
	if n, ok := p.number("MaxLength"); ok && float64(len(v)) > n {
		return false, nil
	}
	return true, nil
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// cfnEval resolves the intrinsic functions of a function's environment for given parameter
// values, enough to build the environment Lambda would start the function with.
type cfnEval struct {
	params     map[string]string
	conditions map[string]any
}

var errNoValue = errors.New("AWS::NoValue")

func (e cfnEval) value(v any) (any, error) {
	switch v := v.(type) {
	case string, []any:
		return v, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, fmt.Errorf("not an intrinsic function: %v", v)
		}
		for fn, arg := range v {
			list, _ := arg.([]any)
			switch fn {
			case "Ref":
				name, _ := arg.(string)
				switch name {
				case "AWS::NoValue":
					return nil, errNoValue
				case "AWS::Region":
					return "us-east-1", nil
				case "AWS::AccountId":
					return "123456789012", nil
				case "AWS::Partition":
					return "aws", nil
				case "AWS::URLSuffix":
					return "amazonaws.com", nil
				case "AWS::StackName":
					return "sellerauth-test", nil
				}
				if p, ok := e.params[name]; ok {
					return p, nil
				}
				return name + "-physical-id", nil // a resource
			case "Fn::GetAtt":
				parts := make([]string, len(list))
				for i, p := range list {
					parts[i] = scalarString(p)
				}
				return "arn:aws:test:us-east-1:123456789012:" + strings.Join(parts, "/"), nil
			case "Fn::Sub":
				s, _ := arg.(string)
				var vars map[string]any
				if len(list) == 2 {
					s, _ = list[0].(string)
					vars, _ = list[1].(map[string]any)
				}
				var err error
				out := subVariable.ReplaceAllStringFunc(s, func(m string) string {
					name := m[2 : len(m)-1]
					var val any
					var verr error
					if x, ok := vars[name]; ok {
						val, verr = e.value(x)
					} else if resource, attr, ok := strings.Cut(name, "."); ok {
						val, verr = e.value(map[string]any{"Fn::GetAtt": []any{resource, attr}})
					} else {
						val, verr = e.value(map[string]any{"Ref": name})
					}
					if verr != nil {
						err = verr
					}
					return scalarString(val)
				})
				return strings.ReplaceAll(out, "${!", "${"), err
			case "Fn::Join":
				if len(list) != 2 {
					return nil, fmt.Errorf("Fn::Join %v", list)
				}
				parts, err := e.value(list[1])
				if err != nil {
					return nil, err
				}
				var strs []string
				for _, p := range asAnyList(parts) {
					s, err := e.value(p)
					if err != nil {
						return nil, err
					}
					strs = append(strs, scalarString(s))
				}
				return strings.Join(strs, scalarString(list[0])), nil
			case "Fn::Split":
				if len(list) != 2 {
					return nil, fmt.Errorf("Fn::Split %v", list)
				}
				s, err := e.value(list[1])
				if err != nil {
					return nil, err
				}
				var out []any
				for _, part := range strings.Split(scalarString(s), scalarString(list[0])) {
					out = append(out, part)
				}
				return out, nil
			case "Fn::Select":
				if len(list) != 2 {
					return nil, fmt.Errorf("Fn::Select %v", list)
				}
				items, err := e.value(list[1])
				if err != nil {
					return nil, err
				}
				i, _ := strconv.Atoi(scalarString(list[0]))
				l := asAnyList(items)
				if i < 0 || i >= len(l) {
					return nil, fmt.Errorf("Fn::Select %d of %v", i, l)
				}
				return e.value(l[i])
			case "Fn::If":
				if len(list) != 3 {
					return nil, fmt.Errorf("Fn::If %v", list)
				}
				ok, err := e.condition(map[string]any{"Condition": list[0]})
				if err != nil {
					return nil, err
				}
				if ok {
					return e.value(list[1])
				}
				return e.value(list[2])
			}
			return nil, fmt.Errorf("%s is not resolved here", fn)
		}
	}
	return scalarString(v), nil
}

func (e cfnEval) condition(v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("not a condition: %v", v)
	}
	for fn, arg := range m {
		list, _ := arg.([]any)
		switch fn {
		case "Condition":
			name, _ := arg.(string)
			c, ok := e.conditions[name]
			if !ok {
				return false, fmt.Errorf("no condition %s", name)
			}
			return e.condition(c)
		case "Fn::Not":
			if len(list) != 1 {
				return false, fmt.Errorf("Fn::Not %v", list)
			}
			ok, err := e.condition(list[0])
			return !ok, err
		case "Fn::And", "Fn::Or":
			all, some := true, false
			for _, c := range list {
				ok, err := e.condition(c)
				if err != nil {
					return false, err
				}
				all, some = all && ok, some || ok
			}
			if fn == "Fn::And" {
				return all, nil
			}
			return some, nil
		case "Fn::Equals":
			if len(list) != 2 {
				return false, fmt.Errorf("Fn::Equals %v", list)
			}
			a, err := e.value(list[0])
			if err != nil {
				return false, err
			}
			b, err := e.value(list[1])
			if err != nil {
				return false, err
			}
			return scalarString(a) == scalarString(b), nil
		}
	}
	return false, fmt.Errorf("not a condition: %v", v)
}

// startUp builds each function as its main does, from an environment, without the network.
var startUp = map[string]func(fn.Runtime) error{
	"AuthorizeFunction":    func(r fn.Runtime) error { _, err := authorizefn.New(r); return err },
	"LoginFunction":        func(r fn.Runtime) error { _, err := loginfn.New(r); return err },
	"ConnectApiFunction":   func(r fn.Runtime) error { _, err := connectapifn.New(r); return err },
	"CallbackFunction":     func(r fn.Runtime) error { _, err := callbackfn.New(r); return err },
	"RefreshFunction":      func(r fn.Runtime) error { _, err := refreshfn.New(r); return err },
	"RotateSecretFunction": func(r fn.Runtime) error { _, err := rotatesecretfn.New(r); return err },
	"EventsFunction":       func(r fn.Runtime) error { _, err := eventsfn.New(r); return err },
}

// parameterSamples give the parameters without a default a value a deployment would give.
var parameterSamples = map[string]string{
	"ApplicationId": applicationID,
}

// parameterMustAccept: values an operator needs, which the constraint must let through.
var parameterMustAccept = map[string][]string{
	"RedirectUri":       {"", "https://auth.example.com/callback", "https://abc123.execute-api.us-east-1.amazonaws.com/callback"},
	"SuccessUrl":        {"", "https://app.example.com/connected", "https://app.example.com/done?from=amazon", "http://127.0.0.1:8080/done"},
	"LwaTokenUrl":       {"https://api.amazon.com/auth/o2/token", "http://127.0.0.1:9000/auth/o2/token", "http://localhost:9000/auth/o2/token"},
	"AppSignInUrl":      {"", "https://app.example.com/amazon/connect"},
	"AllowedReturnUrls": {"", "https://app.example.com/", "https://app.example.com/settings/amazon,https://staging.example.com"},
	"ApplicationId":     {applicationID, "amzn1.sellerapps.app.11111111-2222-3333-4444-555555555555"},
}

// parameterCorpus is tried on every parameter that reaches a function's environment: what an
// operator may type, right and wrong. Fractional numbers are left out: CloudFormation's Number
// type takes 1.5 and no AllowedPattern can refuse it; the functions' whole-number settings
// would then refuse to start.
func parameterCorpus() []string {
	corpus := []string{
		"", " ", "x", "true", "false", "TRUE", "yes",
		"0", "1", "-1", "5", "59", "60", "100", "256", "257", "365", "366", "540", "541", "900",
		"1800", "3600", "3601", "3650", "3651", "86400", "86401",
		"US", "us", "Us", "XX", "GB", "ATVPDKIKX0DER", "atvpdkikx0der", "ATVPDKIKX0DE",
		"https://example.com", "https://example.com/", "https://example.com/callback",
		"https://example.com:8443/cb?x=1&y=2", "https://example.com/cb?", "https://Example.COM/CB",
		"https://example.com/cb#x", "https://example.com/cb#", "https://example.com/a b",
		"https://exa mple.com/", "https://user@example.com/cb", "https://user:pw@example.com/cb",
		"https://example.com/%zz", "https://example.com/%41", "https://%zz/", "https:///cb",
		"https://", "https://:443/", "https://example.com:/cb", "https://example.com:abc/cb",
		"https://example.com/a\\b", "https://example.com\\@evil.com/", "https://example.com\t/cb",
		"https://example.com/\u00e9", "https://[::1]/cb", "https://example.com/../x",
		"https://example.com/./x", "https://example.com/a/%2e%2e/x", "https://example.com/a//b",
		"http://example.com/cb", "http://127.0.0.1:9000/cb", "http://127.0.0.2/cb",
		"http://localhost/x", "http://localhost:9000/auth/o2/token", "http://[::1]:9000/x",
		"http://localhost.evil.com/x", "ftp://example.com/x", "HTTPS://EXAMPLE.COM/CB",
		"example.com/cb", "/done", "//example.com/x", "javascript:alert(1)",
		"https://a.example/x,https://b.example/y", "https://a.example/x, https://b.example/y",
		"https://a.example/x,", ",https://a.example/x", "https://a.example/x?q=1",
		"https://a.example,http://b.example", "https://a.example/x,https://user@b.example",
		applicationID, "amzn1.sp.solution.", "amzn1.sp.solution.abc def", "amzn1.sp.solution.abc\n",
		"amzn1.sellerapps.app.x", clientID, "amzn1.oa2-cs.v1.secret", "AMZN1.APPLICATION-OA2-CLIENT.x",
		"default", "my-bus", "arn:aws:events:us-east-1:123456789012:event-bus/my-bus",
	}
	for _, m := range amazon.Marketplaces() {
		corpus = append(corpus, m.Code, strings.ToLower(m.Code), m.ID)
	}
	return corpus
}

func templateParams(t *testing.T, tpl map[string]any) map[string]cfnParam {
	t.Helper()
	raw, _ := tpl["Parameters"].(map[string]any)
	out := map[string]cfnParam{}
	for name, d := range raw {
		def, _ := d.(map[string]any)
		out[name] = cfnParam{Name: name, Def: def}
	}
	if len(out) < 10 {
		t.Fatalf("template.yaml has %d parameters", len(out))
	}
	return out
}

// functionParams maps each Lambda function of the translated template to the parameters its
// environment reads.
func functionParams(tpl map[string]any, params map[string]cfnParam) map[string][]string {
	out := map[string][]string{}
	resources, _ := tpl["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] != "AWS::Lambda::Function" {
			continue
		}
		var refs []string
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					if s, ok := x.(string); ok && k == "Ref" {
						if _, isParam := params[s]; isParam && !slices.Contains(refs, s) {
							refs = append(refs, s)
						}
					}
					if k == "Fn::Sub" {
						s, _ := x.(string)
						if l, ok := x.([]any); ok && len(l) > 0 {
							s, _ = l[0].(string)
						}
						for _, m := range subVariable.FindAllStringSubmatch(s, -1) {
							if _, isParam := params[m[1]]; isParam && !slices.Contains(refs, m[1]) {
								refs = append(refs, m[1])
							}
						}
					}
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		props, _ := res["Properties"].(map[string]any)
		walk(props["Environment"])
		slices.Sort(refs)
		out[id] = refs
	}
	return out
}

// environment is the function's environment for the given parameter values.
func environment(t *testing.T, tpl map[string]any, function string, values map[string]string) map[string]string {
	t.Helper()
	resources, _ := tpl["Resources"].(map[string]any)
	res, _ := resources[function].(map[string]any)
	props, _ := res["Properties"].(map[string]any)
	envDef, _ := props["Environment"].(map[string]any)
	vars, _ := envDef["Variables"].(map[string]any)
	conditions, _ := tpl["Conditions"].(map[string]any)
	e := cfnEval{params: values, conditions: conditions}
	env := map[string]string{}
	for k, v := range vars {
		val, err := e.value(v)
		if errors.Is(err, errNoValue) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %s: %v", function, k, err)
		}
		env[k] = scalarString(val)
	}
	return env
}

func defaultValues(t *testing.T, params map[string]cfnParam) map[string]string {
	t.Helper()
	values := map[string]string{}
	for name, p := range params {
		if def, ok := p.Def["Default"]; ok {
			values[name] = scalarString(def)
		} else if s, ok := parameterSamples[name]; ok {
			values[name] = s
		} else {
			t.Fatalf("parameter %s has no default: give deploy_test.go's parameterSamples a value a deployment would use", name)
		}
	}
	return values
}

func startsUp(function string, env map[string]string) error {
	return startUp[function](fn.Runtime{
		Getenv: func(k string) string { return env[k] },
		AWS:    aws.Config{Region: "us-east-1"},
		Log:    slog.New(slog.DiscardHandler),
	})
}

// TestDeployParametersAreChecked: a parameter value CloudFormation takes must not make a
// function exit at start-up, which sellers see as 502s until the next deploy. Every parameter
// has a constraint (a pattern or allowed values, a minimum for numbers; minimum and maximum for
// the numbers the functions read), and, for each parameter a function reads, every value of a
// corpus that the constraint accepts starts that function, while the values an operator needs
// pass the constraint.
func TestDeployParametersAreChecked(t *testing.T) {
	tpl, _ := translatedTemplates(t)
	params := templateParams(t, tpl)
	byFunction := functionParams(tpl, params)
	readByFunctions := map[string][]string{}
	for fn, ps := range byFunction {
		for _, p := range ps {
			readByFunctions[p] = append(readByFunctions[p], fn)
		}
	}
	for name, p := range params {
		if !p.constrained(len(readByFunctions[name]) > 0) {
			what := "AllowedPattern or AllowedValues"
			if p.typ() == "Number" {
				what = "MinValue"
				if len(readByFunctions[name]) > 0 {
					what = "MinValue and MaxValue (the functions read it)"
				}
			}
			t.Errorf("parameter %s has no %s: CloudFormation would take any value", name, what)
		}
	}
	defaults := defaultValues(t, params)
	for fn := range byFunction {
		if startUp[fn] == nil {
			t.Logf("%s: no start-up check (add its constructor to deploy_test.go's startUp)", fn)
			continue
		}
		if err := startsUp(fn, environment(t, tpl, fn, defaults)); err != nil {
			t.Errorf("%s does not start with the parameters' defaults: %v", fn, err)
		}
	}
	corpus := parameterCorpus()
	checked := 0
	for name, fns := range readByFunctions {
		p := params[name]
		slices.Sort(fns)
		for _, v := range parameterMustAccept[name] {
			if ok, err := p.accepts(v); err != nil || !ok {
				t.Errorf("parameter %s refuses %q, a value an operator needs (%v)", name, v, err)
			}
		}
		values := append(slices.Clone(corpus), parameterMustAccept[name]...)
		values = append(values, defaults[name])
		for _, v := range values {
			ok, err := p.accepts(v)
			if err != nil {
				t.Fatalf("parameter %s: %v", name, err)
			}
			if !ok {
				continue
			}
			for _, fn := range fns {
				if startUp[fn] == nil {
					continue
				}
				vals := cloneValues(defaults)
				vals[name] = v
				checked++
				if err := startsUp(fn, environment(t, tpl, fn, vals)); err != nil {
					t.Errorf("CloudFormation accepts %s=%q, and then %s exits at start-up: %v", name, v, fn, err)
				}
			}
		}
	}
	if _, ok := readByFunctions["DefaultMarketplace"]; ok {
		for _, m := range amazon.Marketplaces() {
			for _, v := range []string{m.Code, m.ID} {
				if ok, _ := params["DefaultMarketplace"].accepts(v); !ok {
					t.Errorf("DefaultMarketplace refuses %q, a marketplace of internal/amazon/marketplace.go: add it to the pattern", v)
				}
			}
		}
	}
	if checked < 200 {
		t.Fatalf("only %d start-ups checked; the corpus or the template's environments went missing", checked)
	}
}

func cloneValues(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestDeployFreshAccount: what makes a first deployment fail on a new account, or leaves
// resources behind when it rolls back.
func TestDeployFreshAccount(t *testing.T) {
	tpl, _ := translatedTemplates(t)
	params := templateParams(t, tpl)
	defaults := defaultValues(t, params)
	conditions, _ := tpl["Conditions"].(map[string]any)
	e := cfnEval{params: defaults, conditions: conditions}
	resources, _ := tpl["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		// Retain would keep the key and the table of every failed first deploy (each one then
		// also blocks nothing, but costs and confuses); RetainExceptOnCreate keeps them only once
		// the stack has existed.
		if res["DeletionPolicy"] == "Retain" {
			t.Errorf("%s: DeletionPolicy Retain keeps it when the first create rolls back; use RetainExceptOnCreate", id)
		}
		if res["DeletionPolicy"] == "RetainExceptOnCreate" && res["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("%s: kept on deletion but not on replacement: set UpdateReplacePolicy Retain", id)
		}
		if res["Type"] != "AWS::Lambda::Function" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		rc, ok := props["ReservedConcurrentExecutions"]
		if !ok {
			continue
		}
		// Lambda refuses a reservation that leaves an account fewer than 100 unreserved
		// executions; new accounts have a quota of 10.
		if v, err := e.value(rc); !errors.Is(err, errNoValue) {
			t.Errorf("%s reserves concurrency (%v, %v) with the default parameters: a new account cannot deploy it", id, v, err)
		}
		// The parameter that turns it on must work too.
		on := cloneValues(defaults)
		on["RefreshReservedConcurrency"] = "1"
		if v, err := (cfnEval{params: on, conditions: conditions}).value(rc); err != nil || scalarString(v) != "1" {
			t.Errorf("%s: RefreshReservedConcurrency=1 gives ReservedConcurrentExecutions %v (%v)", id, v, err)
		}
	}
	// With DomainName (and its certificate) the outputs a seller and Amazon see name the domain.
	outputs, _ := tpl["Outputs"].(map[string]any)
	withDomain := cloneValues(defaults)
	withDomain["DomainName"] = "auth.example.com"
	withDomain["CertificateArn"] = "arn:aws:acm:us-east-1:123456789012:certificate/0000"
	for _, tc := range []struct {
		values map[string]string
		host   string
	}{
		{defaults, "HttpApi-physical-id.execute-api.us-east-1.amazonaws.com"},
		{withDomain, "auth.example.com"},
	} {
		e := cfnEval{params: tc.values, conditions: conditions}
		for out, path := range map[string]string{"ApiUrl": "/", "LoginUri": "/login", "RedirectUriToRegister": "/callback"} {
			o, _ := outputs[out].(map[string]any)
			v, err := e.value(o["Value"])
			if want := "https://" + tc.host + path; err != nil || v != want {
				t.Errorf("output %s with DomainName=%q: %v (%v), want %s", out, tc.values["DomainName"], v, err, want)
			}
		}
	}
	for _, id := range []string{"ApiDomain", "ApiDomainMapping"} {
		res, _ := resources[id].(map[string]any)
		if res == nil || res["Condition"] != "HasDomain" {
			t.Errorf("%s: want a resource with Condition HasDomain, got %v", id, res)
		}
	}
	if ok, err := e.condition(map[string]any{"Condition": "HasDomain"}); err != nil || ok {
		t.Errorf("HasDomain is %v (%v) with the default parameters", ok, err)
	}
}

// TestDeploySamconfig: each environment of samconfig.toml is its own stack, its parameter
// overrides pass the template's constraints, and an environment that lacks a parameter without a
// default (ApplicationId) says how its first deploy gets it (--guided).
func TestDeploySamconfig(t *testing.T) {
	b, err := os.ReadFile("../../samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	params := templateParams(t, readCFN(t, "../../template.yaml"))
	section := regexp.MustCompile(`^\[([A-Za-z0-9_-]+)\.([a-z_]+)\.parameters\]$`)
	stackName := regexp.MustCompile(`^stack_name\s*=\s*"([^"]+)"`)
	override := regexp.MustCompile(`^\s*"([A-Za-z0-9]+)=([^"]*)",?$`)
	stacks := map[string]string{}
	overrides := map[string]map[string]string{}
	env, kind, inOverrides := "", "", false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if m := section.FindStringSubmatch(line); m != nil {
			env, kind, inOverrides = m[1], m[2], false
			continue
		}
		if m := stackName.FindStringSubmatch(line); m != nil {
			stacks[env] = m[1]
		}
		if kind == "deploy" && strings.HasPrefix(line, "parameter_overrides") {
			inOverrides = strings.HasSuffix(line, "[")
			if overrides[env] == nil {
				overrides[env] = map[string]string{}
			}
			if !inOverrides {
				t.Fatalf("%s: write parameter_overrides as a list, one \"Name=value\" a line: %s", env, line)
			}
			continue
		}
		if inOverrides {
			if line == "]" {
				inOverrides = false
				continue
			}
			m := override.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s: parameter_overrides line %q is not \"Name=value\"", env, line)
			}
			overrides[env][m[1]] = m[2]
		}
	}
	if len(stacks) < 2 {
		t.Fatalf("samconfig.toml has stacks %v, want staging and prod", stacks)
	}
	seen := map[string]string{}
	for env, name := range stacks {
		if other, ok := seen[name]; ok {
			t.Errorf("environments %s and %s deploy the same stack %s", env, other, name)
		}
		seen[name] = env
	}
	for env, values := range overrides {
		for name, v := range values {
			p, ok := params[name]
			if !ok {
				t.Errorf("%s: parameter_overrides names %s, which template.yaml does not have", env, name)
				continue
			}
			if ok, err := p.accepts(v); err != nil || !ok {
				t.Errorf("%s: CloudFormation refuses %s=%q (%v)", env, name, v, err)
			}
		}
		for name, p := range params {
			if _, hasDefault := p.Def["Default"]; hasDefault || values[name] != "" {
				continue
			}
			guided := "sam deploy --guided"
			if env != "default" {
				guided += " --config-env " + env
			}
			if !strings.Contains(string(b), guided) {
				t.Errorf("%s: %s has no default and no value here, and samconfig.toml does not say to run `%s` first", env, name, guided)
			}
		}
	}
}
