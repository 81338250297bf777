package testenv

import (
	"fmt"
	"strconv"
	"testing"
)

// Dynalite starts dynalite, an in-memory DynamoDB, for the duration of t and
// returns its endpoint, http://127.0.0.1:<port>, for the SDK's BaseEndpoint.
// Tables become ACTIVE at once (--createTableMs 0), so tests need no waiter.
// dynalite wants a SigV4-shaped Authorization header but checks no
// signature: any static credentials work.
func Dynalite(t testing.TB) string {
	t.Helper()
	return Start(t, dynaliteServer(NodeBin(t, "dynalite"))).URL()
}

func dynaliteServer(bin string) Server {
	return Server{
		Name: "dynalite",
		Path: bin,
		// Without --path dynalite keeps its tables in memory. Every state
		// delay is zeroed so table changes are visible at once.
		Args: func(port int) []string {
			return []string{
				"--host", "127.0.0.1",
				"--port", strconv.Itoa(port),
				"--createTableMs", "0",
				"--deleteTableMs", "0",
				"--updateTableMs", "0",
			}
		},
		ListeningLine: func(port int) string {
			return fmt.Sprintf("Dynalite listening at: http://127.0.0.1:%d", port)
		},
		// dynalite answers any GET with a health string.
		ReadyPath: "/",
	}
}
