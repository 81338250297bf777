package identity

import (
	"net/http"
	"testing"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
		reason  string
	}{
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", ""},
		{"lower-case scheme", []string{"bearer abc.def.ghi"}, "abc.def.ghi", ""},
		{"upper-case scheme", []string{"BEARER abc.def-_~+/ghi=="}, "abc.def-_~+/ghi==", ""},
		{"extra spaces", []string{"  Bearer   abc.def.ghi  "}, "abc.def.ghi", ""},
		{"none", nil, "", ReasonMissingToken},
		{"empty", []string{""}, "", ReasonMissingToken},
		{"basic", []string{"Basic YWxhZGRpbjpvcGVuc2VzYW1l"}, "", ReasonMalformed},
		{"scheme only", []string{"Bearer"}, "", ReasonMalformed},
		{"scheme and space", []string{"Bearer "}, "", ReasonMalformed},
		{"no scheme", []string{"abc.def.ghi"}, "", ReasonMalformed},
		{"two tokens", []string{"Bearer abc def"}, "", ReasonMalformed},
		{"only padding", []string{"Bearer ==="}, "", ReasonMalformed},
		{"padding inside", []string{"Bearer ab=c"}, "", ReasonMalformed},
		{"control character", []string{"Bearer abc\x00"}, "", ReasonMalformed},
		{"two headers", []string{"Bearer a.b.c", "Bearer d.e.f"}, "", ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.headers {
				h.Add("Authorization", v)
			}
			got, err := BearerToken(h)
			if ReasonOf(err) != tt.reason || got != tt.want {
				t.Errorf("BearerToken = %q, %v; want %q, reason %q", got, err, tt.want, tt.reason)
			}
		})
	}
}
