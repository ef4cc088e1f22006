// Command prometheus runs flows with mageflow's OpenTelemetry middleware
// and serves their metrics for Prometheus to scrape, at /metrics:
//
//	go run ./examples/prometheus -addr 127.0.0.1:9464
//
// With -once it runs the flows, prints one scrape and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	otelmageflow "github.com/mageflow-go/mageflow/otel"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

var (
	double = task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	charge = task.New("charge", func(ctx context.Context, n int) (int, error) {
		if n%3 == 0 {
			return 0, task.NonRetryable(errors.New("card declined"))
		}
		return n, nil
	})
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9464", "where to serve /metrics")
	once := flag.Bool("once", false, "run the flows, print one scrape and exit")
	flag.Parse()
	if err := run(context.Background(), *addr, *once, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string, once bool, out io.Writer) error {
	// the OpenTelemetry SDK's meters, read by a Prometheus registry
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer mp.Shutdown(ctx)

	c, err := mageflow.New(membackend.New(), memstore.New(), mageflow.WithMiddleware(otelmageflow.New(otelmageflow.WithMeterProvider(mp))))
	if err != nil {
		return err
	}
	if err := c.Register(double, charge); err != nil {
		return err
	}
	stop, err := c.StartWorker(ctx)
	if err != nil {
		return err
	}
	defer stop(ctx)
	for i := 1; i <= 6; i++ {
		r, err := flow.Start(ctx, c, flow.Named("checkout", flow.Then(double, charge)), i)
		if err != nil {
			return err
		}
		_, _ = r.Wait(ctx) // some fail: their card is declined
	}

	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if once {
		rec := httptest.NewRecorder()
		metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		_, err := io.Copy(out, rec.Body)
		return err
	}
	http.Handle("/metrics", metrics)
	fmt.Fprintf(out, "metrics at http://%s/metrics\n", addr)
	return http.ListenAndServe(addr, nil)
}
