package samtemplate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// repositoryTemplate is the repository's template.yaml, found from this package's directory (where
// go test runs), so that these tests check the template that is deployed.
func repositoryTemplate(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestFindIsTheRepositoryTemplate(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if path != want {
		t.Fatalf("Find() = %s, want %s", path, want)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestCloudFormationLongForm(t *testing.T) {
	tpl, err := Parse([]byte(`
Conditions:
  HasName: !Not [!Equals [!Ref Name, ""]]
  Both: !And [!Condition HasName, !Equals [a, a]]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !If [HasName, !Sub "${AWS::StackName}-${Name}", !Ref AWS::NoValue]
      VisibilityTimeout: 30
      FifoQueue: true
      Literal: "!Ref not a tag"
      Arn: !GetAtt Other.Arn
      Listed: !GetAtt [Other, Arn]
      Numeric: !Ref 5
      Aliased: &a {x: 1}
      Again: *a
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Conditions": map[string]any{
			"HasName": map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Name"}, ""}}}},
			"Both":    map[string]any{"Fn::And": []any{map[string]any{"Condition": "HasName"}, map[string]any{"Fn::Equals": []any{"a", "a"}}}},
		},
		"Resources": map[string]any{"Q": map[string]any{
			"Type": "AWS::SQS::Queue",
			"Properties": map[string]any{
				"QueueName":         map[string]any{"Fn::If": []any{"HasName", map[string]any{"Fn::Sub": "${AWS::StackName}-${Name}"}, map[string]any{"Ref": "AWS::NoValue"}}},
				"VisibilityTimeout": 30,
				"FifoQueue":         true,
				"Literal":           "!Ref not a tag",
				"Arn":               map[string]any{"Fn::GetAtt": []any{"Other", "Arn"}},
				"Listed":            map[string]any{"Fn::GetAtt": []any{"Other", "Arn"}},
				"Numeric":           map[string]any{"Ref": "5"},
				"Aliased":           map[string]any{"x": 1},
				"Again":             map[string]any{"x": 1},
			},
		}},
	}
	got := tpl.CloudFormation()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("CloudFormation() =\n%#v\nwant\n%#v", got, want)
	}
	// Each call builds new values: changing one result must not change the next.
	got["Resources"].(map[string]any)["Q"].(map[string]any)["Type"] = "changed"
	if !reflect.DeepEqual(tpl.CloudFormation(), want) {
		t.Fatal("CloudFormation shares values between calls")
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, doc, wantErr string }{
		{"not YAML", "Resources: [", "parse template"},
		{"a list", "- a\n- b\n", "not a YAML mapping"},
		{"empty", "", "not a YAML mapping"},
		{"no Resources", "Parameters: {}\n", "no Resources mapping"},
		{"Resources not a mapping", "Resources: [a]\n", "no Resources mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestTheRepositoryTemplateInLongForm(t *testing.T) {
	doc := repositoryTemplate(t).CloudFormation()
	resources, _ := doc["Resources"].(map[string]any)
	callback, _ := resources["CallbackFunction"].(map[string]any)
	props, _ := callback["Properties"].(map[string]any)
	env, _ := props["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	if want := map[string]any{"Ref": "LwaCredentialsSecret"}; !reflect.DeepEqual(vars["LWA_CREDENTIALS_SECRET_ID"], want) {
		t.Errorf("CallbackFunction's LWA_CREDENTIALS_SECRET_ID = %#v, want %#v", vars["LWA_CREDENTIALS_SECRET_ID"], want)
	}
	if props["Timeout"] != 20 {
		t.Errorf("CallbackFunction's Timeout = %#v, want the number 20", props["Timeout"])
	}
}
