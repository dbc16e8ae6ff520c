package edge_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/modelcheck"
	"github.com/sluice-dev/sluice/internal/fault"
)

func queryRequest(op, form string) edge.Request {
	r := httptest.NewRequest(http.MethodPost, "/?Action="+op, strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return edge.Request{HTTP: r, Op: op, Body: []byte(form)}
}

// TestQueryHelpers: the query edges' shared body bound, parameters and model check.
func TestQueryHelpers(t *testing.T) {
	bound := edge.MaxBody(8)
	if _, err := bound(nil, []byte("12345678")); err != nil {
		t.Errorf("8 bytes within a bound of 8: %v", err)
	}
	if _, err := bound(nil, []byte("123456789")); err == nil || !strings.Contains(err.Error(), "RequestEntityTooLarge") {
		t.Errorf("9 bytes over a bound of 8: %v", err)
	}

	if got := queryRequest("Echo", "Name=a&Name=b").Query(); got.Get("Action") != "Echo" || len(got["Name"]) != 2 {
		t.Errorf("Query: %v, want the URL's Action and the form's two Names", got)
	}
	if got := queryRequest("Echo", "%zz").Query(); len(got) != 0 {
		t.Errorf("Query of a malformed form: %v, want none", got)
	}

	model := modelcheck.Build(map[string]modelcheck.ShapeDef{
		"EchoInput": {Kind: modelcheck.Structure, Members: []modelcheck.MemberDef{{Name: "Name", Shape: "Name", Required: true}}},
		"Name":      {Kind: modelcheck.String, Min: 1, HasMin: true, Max: 3, HasMax: true},
	})
	check := edge.CheckQueryModel(model, map[string]string{"Echo": "EchoInput"}, "ValidationError")
	for _, tc := range []struct{ op, form, want string }{
		{"Echo", "Name=abc", ""},
		{"Echo", "", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"},
		{"Echo", "Name=abcd", "1 validation error detected: Value 'abcd' at 'name' failed to satisfy constraint: Member must have length less than or equal to 3"},
		{"Other", "", ""}, // not in the model: nothing to check
	} {
		err := check(queryRequest(tc.op, tc.form))
		f, _ := fault.As(err)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %q: %v", tc.op, tc.form, err)
		case tc.want != "" && (f == nil || f.Code != "ValidationError" || f.Message != tc.want):
			t.Errorf("%s %q:\n got %v\nwant %s", tc.op, tc.form, err, tc.want)
		}
	}
}
