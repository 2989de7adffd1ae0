package daemon

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kmsd/daemon/audit"
)

// metrics are kmsd's Prometheus metrics, served on --metrics-listen.
// Counts of requests come from the records kmsd makes (one per group of
// items alike, with its count), so the hot path pays a counter update per
// group, not per item; everything else is read at scrape time.
type metrics struct {
	reg      *prometheus.Registry     // with connections by uid: the Unix listener's (mode 0660)
	shared   *prometheus.Registry     // with connections in total only: TCP's, which any local user can read
	items    *prometheus.CounterVec   // by operation and result
	duration *prometheus.HistogramVec // by kind: single or batch
	batch    prometheus.Histogram     // items per batch request
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kmsd_requests_total",
			Help: "Requests (batch items counted one by one) by operation and result (success or the exception)."}, []string{"operation", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kmsd_request_duration_seconds",
			Help:    "From a request read to its answer handed to the socket, by kind (single or batch).",
			Buckets: prometheus.ExponentialBuckets(5e-6, 2.5, 14)}, []string{"kind"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kmsd_batch_items",
			Help: "Items per batch request.", Buckets: prometheus.ExponentialBuckets(1, 4, 7)}),
	}
	m.shared = prometheus.NewRegistry()
	for _, r := range []struct {
		reg    *prometheus.Registry
		perUID bool
	}{{m.reg, true}, {m.shared, false}} {
		r.reg.MustRegister(m.items, m.duration, m.batch, serverCollector{s, r.perUID},
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	}
	return m
}

// Observe counts the requests a group of records stands for.
func (m *metrics) Observe(evs []*audit.Event) {
	if m == nil {
		return
	}
	for _, ev := range evs {
		if ev.Type != audit.TypeCall {
			continue
		}
		result := ev.Error
		if result == "" {
			result = "success"
		}
		m.items.WithLabelValues(ev.Name, result).Add(float64(ev.Items()))
	}
}

// Took records how long a request took (kind single or batch) and, for a
// batch, its items.
func (m *metrics) Took(kind string, since time.Time, items int) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(kind).Observe(time.Since(since).Seconds())
	if kind == "batch" {
		m.batch.Observe(float64(items))
	}
}

// serverCollector reads the server's state at scrape time: connections by
// uid (perUID), or in total only.
type serverCollector struct {
	s      *Server
	perUID bool
}

var (
	descQueue       = prometheus.NewDesc("kmsd_queue_depth", "Jobs waiting for a crypto worker.", nil, nil)
	descHeld        = prometheus.NewDesc("kmsd_inflight_units", "Units of 16 KiB of requests read and not yet answered.", nil, nil)
	descThrottled   = prometheus.NewDesc("kmsd_throttled_total", "Requests answered ThrottlingException.", nil, nil)
	descConns       = prometheus.NewDesc("kmsd_connections", "Open connections, by uid (on the Unix listener only).", []string{"uid"}, nil)
	descConnsTotal  = prometheus.NewDesc("kmsd_connections_open", "Open connections, on every listener.", nil, nil)
	descAuditWrites = prometheus.NewDesc("kmsd_audit_writes_total", "Groups of records written to the audit trail.", nil, nil)
	descAuditWriteS = prometheus.NewDesc("kmsd_audit_write_seconds_total", "Time spent writing to the audit trail.", nil, nil)
	descAuditBytes  = prometheus.NewDesc("kmsd_audit_bytes_total", "Bytes written to the audit trail.", nil, nil)
	descAuditFlush  = prometheus.NewDesc("kmsd_audit_flushes_total", "Flushes (fdatasync) of the audit trail.", nil, nil)
	descAuditFlushS = prometheus.NewDesc("kmsd_audit_flush_seconds_total", "Time spent flushing the audit trail.", nil, nil)
	descAuditMax    = prometheus.NewDesc("kmsd_audit_flush_longest_seconds", "The longest flush of the audit trail.", nil, nil)
	descAuditUp     = prometheus.NewDesc("kmsd_audit_up", "1 while the audit trail can be written; 0 while kmsd refuses requests for it.", nil, nil)
	descFree        = prometheus.NewDesc("kmsd_disk_free_bytes", "Room left on the state and audit directories' file systems.", []string{"dir"}, nil)
	descFleetStale  = prometheus.NewDesc("kmsd_fleet_staleness_seconds", "Fleet hosts: how long ago etcd last confirmed this host's copy of the keys current.", nil, nil)
	descFleetRev    = prometheus.NewDesc("kmsd_fleet_revision", "Fleet hosts: the etcd revision this host's copy reflects.", nil, nil)
	descFleetLeader = prometheus.NewDesc("kmsd_fleet_leader", "Fleet hosts: 1 on the host that runs the fleet's scheduled work.", nil, nil)
	descFleetUp     = prometheus.NewDesc("kmsd_fleet_store_up", "Fleet hosts: 1 while etcd answers; 0 while changes are refused.", nil, nil)
)

func (c serverCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConnsTotal
	if c.perUID {
		ch <- descConns
	}
	for _, d := range []*prometheus.Desc{descQueue, descHeld, descThrottled, descAuditWrites, descAuditWriteS,
		descAuditBytes, descAuditFlush, descAuditFlushS, descAuditMax, descAuditUp, descFree,
		descFleetStale, descFleetRev, descFleetLeader, descFleetUp} {
		ch <- d
	}
}

func (c serverCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	held, _ := s.p.Held()
	_, _, throttled := s.p.Stats()
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.p.QueueDepth()))
	ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(held))
	ch <- prometheus.MustNewConstMetric(descThrottled, prometheus.CounterValue, float64(throttled))
	total, perUID := s.admit.Count()
	ch <- prometheus.MustNewConstMetric(descConnsTotal, prometheus.GaugeValue, float64(total))
	for uid, n := range perUID {
		if c.perUID {
			ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(n), strconv.FormatUint(uint64(uid), 10))
		}
	}
	if a := s.cfg.Audit; a != nil {
		n, total, _, bytes := a.WriteStats()
		ch <- prometheus.MustNewConstMetric(descAuditWrites, prometheus.CounterValue, float64(n))
		ch <- prometheus.MustNewConstMetric(descAuditWriteS, prometheus.CounterValue, total.Seconds())
		ch <- prometheus.MustNewConstMetric(descAuditBytes, prometheus.CounterValue, float64(bytes))
		fn, ftotal, flongest := a.FlushStats()
		ch <- prometheus.MustNewConstMetric(descAuditFlush, prometheus.CounterValue, float64(fn))
		ch <- prometheus.MustNewConstMetric(descAuditFlushS, prometheus.CounterValue, ftotal.Seconds())
		ch <- prometheus.MustNewConstMetric(descAuditMax, prometheus.GaugeValue, flongest.Seconds())
		up := 0.0
		if a.Healthy() {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descAuditUp, prometheus.GaugeValue, up)
	}
	state, aud, _ := s.disk()
	ch <- prometheus.MustNewConstMetric(descFree, prometheus.GaugeValue, float64(state), "state")
	ch <- prometheus.MustNewConstMetric(descFree, prometheus.GaugeValue, float64(aud), "audit")
	if f, ok := s.cfg.Service.FleetStatus(); ok {
		ch <- prometheus.MustNewConstMetric(descFleetStale, prometheus.GaugeValue, f.Staleness.Seconds())
		ch <- prometheus.MustNewConstMetric(descFleetRev, prometheus.GaugeValue, float64(f.Revision))
		ch <- prometheus.MustNewConstMetric(descFleetLeader, prometheus.GaugeValue, b2f(f.Leading))
		ch <- prometheus.MustNewConstMetric(descFleetUp, prometheus.GaugeValue, b2f(f.Error == ""))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ServeMetrics serves the metrics on l (GET /metrics) until it is closed:
// on a Unix socket (mode 0660) with connections by uid, on TCP, which
// every local user can reach, without them.
// Its connections are admitted as kmsd's others are, in an allowance of
// their own (auxlisten.go), and an idle one is closed.
func (s *Server) ServeMetrics(l net.Listener) error {
	reg := s.metrics.shared
	if l.Addr().Network() == "unix" {
		reg = s.metrics.reg
	}
	srv := &http.Server{Handler: metricsHandler(reg), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: metricsIdle, MaxHeaderBytes: 16 << 10}
	err := srv.Serve(&admittedListener{Listener: l, name: "metrics", admit: s.admit, most: metricsConns, perPeer: metricsConnsPerPeer})
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func metricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
