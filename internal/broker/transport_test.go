package broker

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestPooledClientReusesConnectionsAcrossBursts sends rounds of concurrent
// requests to one host, as launches of many people do to SageMaker's
// regional endpoint: once the first round has opened its connections, the
// later rounds must not dial again. The SDK's default pool (10 idle per
// host) re-dials 22 of 32 every round.
func TestPooledClientReusesConnectionsAcrossBursts(t *testing.T) {
	const concurrent, rounds = 32, 5
	var dials atomic.Int64
	var arrived sync.WaitGroup
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived.Done()
		<-release // every request of the round is in flight at once
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	client := pooledHTTPClient(nil, concurrent)
	for range rounds {
		arrived.Add(concurrent)
		var done sync.WaitGroup
		for range concurrent {
			done.Go(func() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			})
		}
		arrived.Wait()
		for range concurrent {
			release <- struct{}{}
		}
		done.Wait()
	}
	if n := dials.Load(); n > concurrent {
		t.Errorf("%d rounds of %d concurrent requests opened %d connections, want at most %d", rounds, concurrent, n, concurrent)
	}
}

func TestPooledClientKeepsACallersOwnClient(t *testing.T) {
	own := &http.Client{}
	if got := pooledHTTPClient(own, 64); got != own {
		t.Errorf("a client the caller built was replaced by %T", got)
	}
	bc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.MaxIdleConnsPerHost = 500 })
	got, ok := pooledHTTPClient(bc, 64).(*awshttp.BuildableClient)
	if !ok || got.GetTransport().MaxIdleConnsPerHost != 500 {
		t.Errorf("a larger pool the caller asked for was shrunk: %+v", got)
	}
}
