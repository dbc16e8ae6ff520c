package cli

import "testing"

func TestSanitizeStackName(t *testing.T) {
	cases := map[string]string{"orders": "orders", "my_app": "my-app", "2fast": "fast", "_": "stack", "Orders-API": "Orders-API"}
	for in, want := range cases {
		if got := sanitizeStackName(in); got != want {
			t.Errorf("sanitizeStackName(%q) = %q, want %q", in, got, want)
		}
	}
}
