package opencmd

import "testing"

func TestAPIErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		e    APIError
		want string
	}{
		{APIError{Status: 404, Code: "target_not_found", Detail: "No such target.", RequestID: "r-1"}, "No such target. (target_not_found, request id r-1)"},
		{APIError{Status: 403, Code: "forbidden", Detail: "Not yours."}, "Not yours. (forbidden)"},
		{APIError{Status: 502}, "Bad Gateway"},
		{APIError{Status: 503, RequestID: "r-2"}, "Service Unavailable"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}
