package pipeline_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/daemon/pipeline"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// seen is an observer that keeps what the pipeline records.
type seen struct {
	mu  sync.Mutex
	evs []audit.Event
}

func (s *seen) Observe(evs []*audit.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range evs {
		s.evs = append(s.evs, *ev)
	}
}

func (s *seen) Took(string, time.Time, int) {}

func (s *seen) events() []audit.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]audit.Event(nil), s.evs...)
}

// reply is a front end's reply to one single request.
type reply struct {
	rid      string
	out      api.Message
	werr     *api.Error
	prepared bool
	done     chan *api.Error // what it was answered with: nil, or the error
}

func (r *reply) RequestID() string { return r.rid }
func (r *reply) Prepare(out api.Message, werr *api.Error) {
	r.out, r.werr, r.prepared = out, werr, true
}
func (r *reply) Commit(failed *api.Error) {
	if failed == nil {
		failed = r.werr
	}
	r.done <- failed
}
func (r *reply) Reject(werr *api.Error) { r.done <- werr }

func caller() *pipeline.Caller {
	c := pipeline.NewCaller(context.Background(), &policy.Principal{UID: 1000, GID: 1000, PID: 42, Source: "socket"})
	return &c
}

// A single request is executed, recorded (with its request id and the
// key the service reported) and answered after its record, through its
// reply; one past the server's budget is answered ThrottlingException and
// recorded so, never executed.
func TestSingleRequests(t *testing.T) {
	obs := &seen{}
	executed := 0
	p := pipeline.New(pipeline.Config{Observer: obs, Workers: 1,
		Exec: func(_ context.Context, op *api.OpSpec, in api.Message) (api.Message, kms.Report, *api.Error) {
			executed++
			return &api.GenerateRandomOutput{Plaintext: make([]byte, 8)}, kms.Report{KeyID: "k1"}, nil
		}})
	defer p.Stop()
	op := api.Lookup(api.OpGenerateRandom)
	c := caller()
	for _, tc := range []struct {
		name   string
		over   bool
		inline bool
		want   string // the answer's exception; "" for a result
	}{
		{"queued", false, false, ""},
		{"inline", false, true, ""},
		{"over the budget", true, false, api.CodeThrottling},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, n := executed, len(obs.events())
			r := &reply{rid: "rid-" + tc.name, done: make(chan *api.Error, 1)}
			p.Serve(&pipeline.Request{Op: op, Caller: c, Reply: r, In: &api.GenerateRandomInput{}}, tc.over, tc.inline)
			code := ""
			if got := <-r.done; got != nil {
				code = got.Code
			}
			if code != tc.want {
				t.Fatalf("answered %q, want %q", code, tc.want)
			}
			evs := obs.events()[n:]
			if len(evs) != 1 || evs[0].RequestID != r.rid || evs[0].Name != api.OpGenerateRandom || evs[0].Error != tc.want {
				t.Fatalf("records %+v", evs)
			}
			if worked := executed != before; worked != (tc.want == "") || r.prepared != worked {
				t.Fatalf("executed %v, prepared %v", worked, r.prepared)
			}
			if tc.want == "" && (evs[0].KeyID != "k1" || evs[0].OutBytes != 8) {
				t.Fatalf("the record lacks the report or the sizes: %+v", evs[0])
			}
		})
	}
	if req, _, thr := p.Stats(); req != 3 || thr != 1 {
		t.Fatalf("stats: %d requests, %d throttled", req, thr)
	}
}

// batch is a front end's batch: each chunk's answers, and the answer.
type batch struct {
	mu       sync.Mutex
	items    map[int]string // item -> "ok" or its exception
	answered chan *api.Error
}

func (b *batch) RequestID() string        { return "batch-1" }
func (b *batch) Answer(failed *api.Error) { b.answered <- failed }

type chunk struct {
	b      *batch
	lo, hi int
}

func (k *chunk) Sink() kms.Sink { return k }
func (k *chunk) Answer(i int, _ *kms.Report, _ api.Message, _ kms.Fill) error {
	k.b.mu.Lock()
	defer k.b.mu.Unlock()
	k.b.items[k.lo+i] = "ok"
	return nil
}
func (k *chunk) Fail(i int, _ *kms.Report, err error) {
	k.b.mu.Lock()
	defer k.b.mu.Unlock()
	k.b.items[k.lo+i] = pipeline.WireError(err).Code
}
func (k *chunk) Reject(werr *api.Error) {
	for i := k.lo; i < k.hi; i++ {
		k.Fail(i-k.lo, nil, werr)
	}
}

// A batch's chunks are requests whose replies write into the front end's
// buffers; one refused (past the budget) fails its items alone, and once
// every chunk is done the batch is recorded, one record per group of
// items alike with its count and failed indexes, and answered once.
func TestBatchChunks(t *testing.T) {
	obs := &seen{}
	p := pipeline.New(pipeline.Config{Observer: obs, Workers: 2,
		ExecBatch: func(_ context.Context, op *api.OpSpec, inputs any, lo, hi int, sink kms.Sink) {
			in := inputs.([]api.EncryptInput)
			rep := &kms.Report{KeyID: "k1"}
			for i := range in[lo:hi] {
				if (lo+i)%100 == 7 {
					sink.Fail(i, rep, &api.Error{Code: api.CodeNotFound, Message: "no"})
					continue
				}
				sink.Answer(i, rep, &api.EncryptOutput{}, kms.Fill{})
			}
		}})
	defer p.Stop()
	op := api.Lookup(api.OpEncrypt)
	const n = 600
	inputs := make([]api.EncryptInput, n)
	for i := range inputs {
		inputs[i].Plaintext = make([]byte, 10)
	}
	size, chunks := p.Chunks(n)
	if chunks < 2 {
		t.Fatalf("%d items make %d chunk(s) of %d", n, chunks, size)
	}
	fe := &batch{items: map[int]string{}, answered: make(chan *api.Error, 2)}
	b := new(pipeline.Batch)
	c := caller()
	p.StartBatch(b, op, c, inputs, n, chunks, fe, time.Time{})
	reqs := make([]pipeline.Request, chunks)
	for k := range chunks {
		lo, hi := k*size, min(n, (k+1)*size)
		reqs[k] = pipeline.Request{Op: op, Caller: c, Reply: &chunk{b: fe, lo: lo, hi: hi}, Batch: b, Lo: lo, Hi: hi}
		p.Serve(&reqs[k], k == chunks-1, false) // the last chunk is over the budget
	}
	if failed := <-fe.answered; failed != nil {
		t.Fatal(failed)
	}
	select {
	case <-fe.answered:
		t.Fatal("answered twice")
	case <-time.After(50 * time.Millisecond):
	}
	lastLo := (chunks - 1) * size
	want := map[string]int{}
	for i := range n {
		w := "ok"
		switch {
		case i >= lastLo:
			w = api.CodeThrottling
		case i%100 == 7:
			w = api.CodeNotFound
		}
		want[w]++
		if fe.items[i] != w {
			t.Fatalf("item %d: %q, want %q", i, fe.items[i], w)
		}
	}
	got := map[string]int{}
	for _, ev := range obs.events() {
		if ev.RequestID != "batch-1" {
			t.Fatalf("record of %q", ev.RequestID)
		}
		code := ev.Error
		if code == "" {
			code = "ok"
		}
		got[code] += ev.Count
		if code != "ok" && len(ev.Failed) != ev.Count {
			t.Fatalf("%s: %d items, %d failed indexes", code, ev.Count, len(ev.Failed))
		}
		if code == "ok" && ev.InBytes != 10*ev.Count {
			t.Fatalf("%d items of 10 bytes recorded as %d", ev.Count, ev.InBytes)
		}
	}
	for code, k := range want {
		if got[code] != k {
			t.Fatalf("records count %d items %s, want %d (all: %v)", got[code], code, k, got)
		}
	}
}

// TestCallAfterStop: a front end that still calls once the pipeline has
// stopped (the FUSE view's kernel may hand it requests while kmsd stops)
// is told kmsd is stopping; nothing is queued on a closed queue.
func TestCallAfterStop(t *testing.T) {
	p := pipeline.New(pipeline.Config{Workers: 1,
		Exec: func(context.Context, *api.OpSpec, api.Message) (api.Message, kms.Report, *api.Error) {
			return &api.KeyMetadataOutput{}, kms.Report{}, nil
		}})
	pr := &policy.Principal{UID: 1000, Source: "fuse"}
	if _, err := p.Call(context.Background(), pr, "uid:1000", "r1", api.OpDescribeKey, &api.DescribeKeyInput{KeyId: "k"}, false, true); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	_, err := p.Call(context.Background(), pr, "uid:1000", "r2", api.OpDescribeKey, &api.DescribeKeyInput{KeyId: "k"}, false, false)
	if api.CodeOf(err) != api.CodeInternal {
		t.Fatalf("a call after Stop: %v", err)
	}
}
