package daemon

import (
	"runtime"
	"sync"
	"sync/atomic"

	"kmsd/wire"
	"kmsd/wire/api"
)

// job is one request, or one chunk of a batch request, waiting for a worker.
type job struct {
	c  *conn
	id uint64
	op *api.OpSpec
	in api.Message // a single request

	b      *batchJob // a chunk of a batch: items b.items[lo:hi]
	lo, hi int
	units  int // the request's in-flight slots (single requests)
}

// batchJob collects the results of a batch request's chunks; the chunk
// that finishes last sends the response.
type batchJob struct {
	c       *conn
	id      uint64
	op      *api.OpSpec
	items   []api.Message
	results []wire.Result
	left    atomic.Int32 // chunks not yet done
	units   int          // the request's in-flight slots
}

// batchChunk is how many items of a batch one job carries: a large batch
// is shared by every worker, a small one stays whole. Each chunk is one
// audit record (a batch record, see audit.Fold).
const batchChunk = 128

// maxCoalesce is the most jobs a worker takes in one pass.
const maxCoalesce = 64

// pool is a bounded queue and the workers that serve it.
type pool struct {
	q  chan *job
	wg sync.WaitGroup
}

func newPool(workers, size int, run func([]*job)) *pool {
	p := &pool{q: make(chan *job, size)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			batch := make([]*job, 0, maxCoalesce)
			for j := range p.q {
				// Take what is queued now, without waiting for more (one
				// yield lets readers woken with it queue their requests).
				batch = append(batch[:0], j)
				runtime.Gosched()
			drain:
				for len(batch) < maxCoalesce {
					select {
					case j, ok := <-p.q:
						if !ok {
							break drain
						}
						batch = append(batch, j)
					default:
						break drain
					}
				}
				run(batch)
				clear(batch)
			}
		}()
	}
	return p
}

// submit queues j, or reports false at once if the queue is full.
func (p *pool) submit(j *job) bool {
	select {
	case p.q <- j:
		return true
	default:
		return false
	}
}

func (p *pool) depth() int { return len(p.q) }

// stop lets the workers finish what is queued and waits for them. Nothing
// may be submitted after it is called.
func (p *pool) stop() {
	close(p.q)
	p.wg.Wait()
}
