package e2e

import (
	"context"
	"kmsd/internal/ci"
	"os/exec"
	"strings"
	"testing"
	"time"

	"kmsd/internal/testkit"
	"kmsd/wire/api"
)

// TestWatchdog runs kmsd as a unit with WatchdogSec= would (WATCHDOG_USEC
// set): it pings WATCHDOG=1 while it serves; when its audit trail's disk
// hangs (an ext4 file system frozen with fsfreeze, so a request's record
// cannot be written) it withholds the ping, so that systemd would restart
// it, and says why; once the disk moves again the request is answered
// and the pings resume.
func TestWatchdog(t *testing.T) {
	if _, err := exec.LookPath("fsfreeze"); err != nil {
		ci.Skip(t, "no fsfreeze (util-linux)")
	}
	auditDir := smallDisk(t, "ext4", "64m")
	d := testkit.Start(t, testkit.Config{Env: []string{"WATCHDOG_USEC=300000"}, Args: []string{"--audit-dir", auditDir}})
	pings := func() int { return strings.Count(d.Notes(), "WATCHDOG=1") }
	testkit.Eventually(t, "three pings", func() bool { return pings() >= 3 })

	ctx := context.Background()
	c := d.Dial(t)
	key := createKey(t, d)

	if out, err := exec.Command("fsfreeze", "--freeze", auditDir).CombinedOutput(); err != nil {
		ci.Skipf(t, "fsfreeze: %v %s", err, out)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			if out, err := exec.Command("fsfreeze", "--unfreeze", auditDir).CombinedOutput(); err != nil {
				t.Errorf("fsfreeze --unfreeze: %v %s", err, out)
			}
		}
	}
	t.Cleanup(thaw)
	answered := make(chan error, 1)
	go func() {
		_, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: key, Plaintext: []byte("held")})
		answered <- err
	}()
	testkit.Eventually(t, "kmsd says it withholds the ping", func() bool {
		return strings.Contains(d.Log.String(), "withholding the ping") && strings.Contains(d.Log.String(), "audit trail")
	})
	held := pings()
	time.Sleep(time.Second) // ten ticks of the watchdog
	if n := pings(); n != held {
		t.Fatalf("kmsd pinged the watchdog %d times while its audit disk was frozen\n%s", n-held, d.Log.String())
	}
	select {
	case err := <-answered:
		t.Fatalf("a request was answered while its record could not be written: %v", err)
	default:
	}

	thaw()
	if err := <-answered; err != nil {
		t.Errorf("the request held by the frozen disk: %v", err)
	}
	testkit.Eventually(t, "the pings resume", func() bool { return pings() > held+2 })
	if !strings.Contains(d.Log.String(), "pinging again") {
		t.Errorf("kmsd did not say the probes came back\n%s", d.Log.String())
	}
}
