package routing

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes as a Go duration string
// ("12h", "90s") in JSON and YAML. A bare number is refused rather than
// guessed at: AWS counts these durations in seconds and Go in nanoseconds, and
// either reading of "3600" would surprise someone.
//
// It is a distinct type, not custom JSON methods on LOB, so that LOB keeps no
// unmarshaler of its own: sigs.k8s.io/yaml only turns an unquoted YAML number
// such as `accountId: 123456789012` into the string a field wants when it can
// see that field's type.
type Duration time.Duration

// String formats d like time.Duration but without zero trailing units, so
// 12h prints as "12h" rather than "12h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes d as a duration string.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q: want a Go duration such as \"12h\" or \"90s\"", b)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON reads a JSON string holding a Go duration. Anything else
// fails as a *json.UnmarshalTypeError, the one error type encoding/json adds
// the key's path to, so a person learns which setting is wrong.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if v, err := time.ParseDuration(s); err == nil {
			*d = Duration(v)
			return nil
		}
	}
	return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[Duration]()}
}
