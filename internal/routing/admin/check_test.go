package admin

import "testing"

func TestReportOK(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    Report
		ok   bool
	}{
		{"empty", Report{}, true},
		{"clean LOBs", Report{LOBs: []LOBReport{{LOB: "a"}, {LOB: "b"}}}, true},
		{"routes problem", Report{Problems: []string{"user x names LOB y"}}, false},
		{"LOB problem", Report{LOBs: []LOBReport{{LOB: "a"}, {LOB: "b", Problems: []string{"domain d is Failed"}}}}, false},
	} {
		if got := tt.r.OK(); got != tt.ok {
			t.Errorf("%s: OK() = %v, want %v", tt.name, got, tt.ok)
		}
	}
}
