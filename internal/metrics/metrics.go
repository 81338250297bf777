// Package metrics is sagegate's Prometheus instrumentation. Every method is
// safe on a nil *Metrics and does nothing then, so packages take a
// *Metrics without caring whether metrics are enabled (Lambda mode, tests).
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds sagegate's collectors on their own registry (no global
// state: two gateways in one test process do not collide).
type Metrics struct {
	reg *prometheus.Registry

	launch       *prometheus.HistogramVec
	awsCall      *prometheus.HistogramVec
	cache        *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	jwks         *prometheus.CounterVec
	breakerOpen  *prometheus.GaugeVec
	httpRequests *prometheus.CounterVec
	inFlight     prometheus.Gauge
}

// Latency buckets from 1 ms to 10 s: a warm launch is a few ms plus the
// presign call; anything past the AWS deadline lands in the last bucket.
var buckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New registers every collector, plus the Go runtime and process ones.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		launch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sagegate_launch_duration_seconds", Help: "Launch decisions by target kind and outcome, from request to answer.", Buckets: buckets,
		}, []string{"kind", "outcome"}),
		awsCall: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sagegate_aws_call_duration_seconds", Help: "AWS API calls including retries, by service, operation and result.", Buckets: buckets,
		}, []string{"service", "operation", "result"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sagegate_cache_requests_total", Help: "Cache lookups by cache (credentials, routing, token) and result (hit, miss, stale).",
		}, []string{"cache", "result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sagegate_rejected_total", Help: "Requests refused to protect the gateway or AWS, by reason (user_rate, account, breaker, overload).",
		}, []string{"reason"}),
		jwks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sagegate_jwks_refresh_total", Help: "Signing-key fetches by provider and result.",
		}, []string{"provider", "result"}),
		breakerOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sagegate_circuit_open", Help: "1 while the circuit breaker of an account is open.",
		}, []string{"account"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sagegate_http_requests_total", Help: "HTTP requests by status code.",
		}, []string{"code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sagegate_http_in_flight_requests", Help: "Requests being served.",
		}),
	}
	m.reg.MustRegister(m.launch, m.awsCall, m.cache, m.rejected, m.jwks, m.breakerOpen, m.httpRequests, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry exposes the registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Launch observes one launch decision.
func (m *Metrics) Launch(kind, outcome string, d time.Duration) {
	if m != nil {
		m.launch.WithLabelValues(kind, outcome).Observe(d.Seconds())
	}
}

// AWSCall observes one AWS operation (all its attempts).
func (m *Metrics) AWSCall(service, operation string, d time.Duration, err error) {
	if m != nil {
		m.awsCall.WithLabelValues(service, operation, result(err)).Observe(d.Seconds())
	}
}

// Cache counts a lookup in the named cache.
func (m *Metrics) Cache(cache, result string) {
	if m != nil {
		m.cache.WithLabelValues(cache, result).Inc()
	}
}

// Rejected counts a request refused for reason.
func (m *Metrics) Rejected(reason string) {
	if m != nil {
		m.rejected.WithLabelValues(reason).Inc()
	}
}

// JWKSRefresh counts a key fetch.
func (m *Metrics) JWKSRefresh(provider string, err error) {
	if m != nil {
		m.jwks.WithLabelValues(provider, result(err)).Inc()
	}
}

// result is the result label of an operation that returned err.
func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// BreakerOpen records an account's breaker state.
func (m *Metrics) BreakerOpen(account string, open bool) {
	if m != nil {
		v := 0.0
		if open {
			v = 1
		}
		m.breakerOpen.WithLabelValues(account).Set(v)
	}
}

// Request counts a served HTTP request.
func (m *Metrics) Request(code int) {
	if m != nil {
		m.httpRequests.WithLabelValues(strconv.Itoa(code)).Inc()
	}
}

// InFlight adds delta to the in-flight gauge.
func (m *Metrics) InFlight(delta float64) {
	if m != nil {
		m.inFlight.Add(delta)
	}
}
