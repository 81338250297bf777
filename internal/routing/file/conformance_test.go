package file_test

import (
	"testing"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/conformance"
	"github.com/sagegate/sagegate/internal/routing/file"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, s conformance.Seed) routing.Store {
		c := file.Config{
			LOBs:   map[string]routing.LOB{},
			Users:  map[string]routing.User{},
			Groups: s.Groups,
		}
		for _, l := range s.LOBs {
			c.LOBs[l.Name] = l
		}
		for _, u := range s.Users {
			c.Users[u.Name] = u
		}
		store, err := file.New(c, routing.Defaults{})
		if err != nil {
			t.Fatal(err)
		}
		return store
	})
}
