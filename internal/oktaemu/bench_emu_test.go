package oktaemu_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// benchOrg returns an org with 1000 devices and the id of one of them.
func benchOrg(b *testing.B) (*oktaemu.Org, string) {
	b.Helper()
	org := oktaemu.New(oktaemu.Config{Devices: 1000})
	req := httptest.NewRequest("GET", "/api/v1/devices?limit=1", nil)
	req.Header.Set("Authorization", sswsAdmin)
	rec := httptest.NewRecorder()
	org.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != 200 || len(body) < 30 {
		b.Fatalf("list: %d %s", rec.Code, body)
	}
	return org, body[8:28]
}

// nopWriter is a ResponseWriter that discards the body, so the benchmark
// measures the handler.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

func benchServe(b *testing.B, org *oktaemu.Org, target string) {
	check := httptest.NewRequest("GET", target, nil)
	check.Header.Set("Authorization", sswsAdmin)
	rec := httptest.NewRecorder()
	org.ServeHTTP(rec, check)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("Authorization", sswsAdmin)
		for pb.Next() {
			w := &nopWriter{h: http.Header{}}
			org.ServeHTTP(w, req)
		}
	})
}

func BenchmarkGetDevice(b *testing.B) {
	org, id := benchOrg(b)
	benchServe(b, org, "/api/v1/devices/"+id)
}

func BenchmarkListPage(b *testing.B) {
	org, _ := benchOrg(b)
	b.Run("limit=20", func(b *testing.B) { benchServe(b, org, "/api/v1/devices?limit=20") })
	b.Run("limit=200", func(b *testing.B) { benchServe(b, org, "/api/v1/devices?limit=200") })
}
