package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ReportInitError tells the Lambda Runtime API at api (host:port) that the
// function could not start, with err's text (a configuration problem, say),
// so it shows in the invocation's error and the function's log instead of
// a bare "Runtime exited". aws-lambda-go does not do this: the loop it
// runs only starts once the handler exists.
func ReportInitError(ctx context.Context, api string, errorType string, err error) error {
	body, _ := json.Marshal(map[string]any{"errorMessage": err.Error(), "errorType": errorType, "stackTrace": []string{}})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if rerr != nil {
		return rerr
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	resp, rerr := http.DefaultClient.Do(req)
	if rerr != nil {
		return fmt.Errorf("reporting the init error: %w", rerr)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("reporting the init error: the Runtime API answered %s", resp.Status)
	}
	return nil
}
