package routing

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: `"12h"`, want: 12 * time.Hour},
		{in: `"5s"`, want: 5 * time.Second},
		{in: `"1h30m"`, want: 90 * time.Minute},
		{in: `null`, want: 0},
		{in: `3600`, wantErr: "cannot unmarshal 3600 into Go value of type routing.Duration"},
		{in: `"12"`, wantErr: `cannot unmarshal "12" into`},
		{in: `"soon"`, wantErr: `cannot unmarshal "soon" into`},
		{in: `true`, wantErr: `cannot unmarshal true into`},
	}
	for _, tc := range tests {
		var d Duration
		err := json.Unmarshal([]byte(tc.in), &d)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Unmarshal(%s) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || time.Duration(d) != tc.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", tc.in, time.Duration(d), err, tc.want)
		}
	}
}

func TestDurationErrorHasPath(t *testing.T) {
	var v struct {
		LOBs map[string]LOB `json:"lobs"`
	}
	err := json.Unmarshal([]byte(`{"lobs":{"lob-a":{"urlLifetime":5}}}`), &v)
	// encoding/json leaves map keys out of the path.
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "lobs.urlLifetime" {
		t.Fatalf("error = %v, want an *json.UnmarshalTypeError at lobs.urlLifetime", err)
	}
}

func TestDurationUnmarshalText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("90s")); err != nil || time.Duration(d) != 90*time.Second {
		t.Errorf("UnmarshalText(90s) = %v, %v", time.Duration(d), err)
	}
	if err := d.UnmarshalText([]byte("90")); err == nil || !strings.Contains(err.Error(), `such as "12h"`) {
		t.Errorf("UnmarshalText(90) error = %v, want a hint", err)
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		12 * time.Hour:                  "12h",
		90 * time.Minute:                "1h30m",
		time.Hour + time.Second:         "1h0m1s",
		5 * time.Second:                 "5s",
		10 * time.Minute:                "10m",
		0:                               "0s",
		1500 * time.Millisecond:         "1.5s",
		-30 * time.Minute:               "-30m",
		time.Hour + 30*time.Millisecond: "1h0m0.03s",
	} {
		if got := Duration(d).String(); got != want {
			t.Errorf("Duration(%v).String() = %q, want %q", d, got, want)
		}
		var back Duration
		if err := back.UnmarshalText([]byte(Duration(d).String())); err != nil || time.Duration(back) != d {
			t.Errorf("round trip of %v = %v, %v", d, time.Duration(back), err)
		}
	}
}

func TestLOBJSONRoundTrip(t *testing.T) {
	l := validLOB()
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"sessionDuration":"12h"`) || !strings.Contains(string(b), `"urlLifetime":"5s"`) {
		t.Errorf("Marshal = %s, want durations as strings", b)
	}
	var back LOB
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, l) {
		t.Errorf("round trip = %+v, want %+v", back, l)
	}
	b, _ = json.Marshal(LOB{Name: "x"})
	if strings.Contains(string(b), "sessionDuration") {
		t.Errorf("zero durations are not omitted: %s", b)
	}
}
