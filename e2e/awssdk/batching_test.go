package awssdk

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
)

// TestQueuedWithTheSocket: the endpoint's requests join the workers'
// queue, as the socket's do: with a queue of one and one worker, 64
// concurrent calls are either answered or refused ThrottlingException
// (never hung, never failed otherwise), and the refusals are recorded.
func TestQueuedWithTheSocket(t *testing.T) {
	e := start(t, "--queue-size", "1", "--workers", "1")
	c := kms.New(e.client(t).Options(), func(o *kms.Options) { o.Retryer = aws.NopRetryer{} })
	id := must(c.CreateKey(ctx, &kms.CreateKeyInput{}))(t).KeyMetadata.KeyId
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, throttled int
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
			mu.Lock()
			defer mu.Unlock()
			var api smithy.APIError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &api) && api.ErrorCode() == "ThrottlingException":
				throttled++
			default:
				t.Errorf("Encrypt: %v", err)
			}
		}()
	}
	wg.Wait()
	// Served on the HTTP goroutines, as before, none would be throttled.
	if ok == 0 || throttled == 0 || ok+throttled != 64 {
		t.Errorf("%d answered, %d throttled, of 64", ok, throttled)
	}
	t.Logf("%d answered, %d throttled", ok, throttled)
	if trail := e.d.OK(t, "audit", "query", "--result", "error"); !strings.Contains(trail, "ThrottlingException") {
		t.Errorf("throttled calls are not in the trail:\n%s", trail)
	}
}
