package session

import "strings"

// maxReturnTo bounds the path carried through login; longer ones are not
// real pages and would only bloat the login cookie.
const maxReturnTo = 2048

// safeReturnTo returns rd if it is a path on this host, else "/". The login
// round trip must never become an open redirect, so anything a browser could
// read as another origin is refused:
//   - "//host" and "/\host" (browsers treat "\" as "/") are scheme-relative;
//   - "https://host" and "javascript:..." do not start with "/";
//   - control characters are refused because browsers strip tabs and
//     newlines from URLs, turning "/\t/host" into "//host".
func safeReturnTo(rd string) string {
	if rd == "" || len(rd) > maxReturnTo || rd[0] != '/' {
		return "/"
	}
	if strings.HasPrefix(rd, "//") || strings.ContainsRune(rd, '\\') {
		return "/"
	}
	for i := 0; i < len(rd); i++ {
		if rd[i] < 0x20 || rd[i] == 0x7f {
			return "/"
		}
	}
	return rd
}
