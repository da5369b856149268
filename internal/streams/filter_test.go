package streams

import "testing"

func TestFilterLikeLambda(t *testing.T) {
	lifecycle := `{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"lifecycle": {"S": [{"exists": true}]}}}}`
	refused := `{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["failed"]}, "error": {"S": ["connected_to_another_user"]}}}}`
	for _, tc := range []struct {
		name, pattern, record string
		want                  bool
	}{
		{"lifecycle change", lifecycle, `{"eventName":"MODIFY","dynamodb":{"NewImage":{"lifecycle":{"S":"authorized"},"version":{"N":"2"}}}}`, true},
		{"plain refresh", lifecycle, `{"eventName":"MODIFY","dynamodb":{"NewImage":{"version":{"N":"3"}},"OldImage":{"lifecycle":{"S":"authorized"}}}}`, false},
		{"insert is not a modify", lifecycle, `{"eventName":"INSERT","dynamodb":{"NewImage":{"lifecycle":{"S":"authorized"}}}}`, false},
		{"refusal", refused, `{"eventName":"MODIFY","dynamodb":{"NewImage":{"status":{"S":"failed"},"error":{"S":"connected_to_another_user"}}}}`, true},
		{"other failure", refused, `{"eventName":"MODIFY","dynamodb":{"NewImage":{"status":{"S":"failed"},"error":{"S":"code_rejected"}}}}`, false},
		{"connected", refused, `{"eventName":"MODIFY","dynamodb":{"NewImage":{"status":{"S":"connected"}}}}`, false},
		{"absent must not exist", `{"a": [{"exists": false}]}`, `{"b": 1}`, true},
		{"present must not exist", `{"a": [{"exists": false}]}`, `{"a": 1}`, false},
		{"number as DynamoDB string", `{"n": [7]}`, `{"n": "7"}`, true},
	} {
		f, err := ParseFilter(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.Match([]byte(tc.record)); err != nil || got != tc.want {
			t.Errorf("%s: Match = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	for _, bad := range []string{`{"a": [{"prefix": "x"}]}`, `{"a": "x"}`, `[1]`} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%s) accepted an unsupported pattern", bad)
		}
	}
}
