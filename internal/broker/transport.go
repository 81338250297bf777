package broker

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// pooledHTTPClient keeps as many idle connections per AWS host as the
// broker lets calls be in flight for one account. The SDK's default keeps
// 10, and every account of a region shares SageMaker's regional host (and
// STS's): past 10 launches in flight, each finished call closed its
// connection and the next dialled a new one, a TLS handshake each against
// AWS. A client the caller built itself is left as it is.
func pooledHTTPClient(c aws.HTTPClient, perHost int) aws.HTTPClient {
	var bc *awshttp.BuildableClient
	switch t := c.(type) {
	case nil:
		bc = awshttp.NewBuildableClient()
	case *awshttp.BuildableClient:
		bc = t
	default:
		return c
	}
	return bc.WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, perHost)
		t.MaxIdleConns = max(t.MaxIdleConns, 4*perHost)
	})
}
