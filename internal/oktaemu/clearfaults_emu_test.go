package oktaemu_test

import (
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestClearFaults: DELETE /_emulator/faults drops the faults not used up
// yet, so that a test can end an outage when it chooses.
func TestClearFaults(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 2})
	id := emuDevicesByStatus(t, s)["ACTIVE"][0]
	s.Fault(t, "GET", "/api/v1/devices/{deviceId}", 503, 100)
	if r := emuCall(t, s, "GET", "/api/v1/devices/"+id, sswsAdmin, ""); r.status != 503 {
		t.Fatalf("faulted read: %d %s; want 503", r.status, r.body)
	}
	s.ClearFaults(t)
	if r := emuCall(t, s, "GET", "/api/v1/devices/"+id, sswsAdmin, ""); r.status != 200 {
		t.Errorf("read after the faults were cleared: %d %s; want 200", r.status, r.body)
	}
}
