// Package pipeline is the one path every request of every front end
// takes (the msgpack socket, the FUSE view, the AWS endpoint), in its
// stages:
//
//  1. admit: connections are bounded in total and per uid, the AWS
//     endpoint's by access key once signed for ([Admission]);
//  2. budget: a request takes its units of the in-flight budget from its
//     size, before its body is read ([Pipeline.TakeUnits],
//     [Pipeline.Hold]): from its uid's share, waiting while that is
//     spent, and from the server's, past which it is throttled;
//  3. queue: it joins the crypto or the management workers' bounded
//     queue ([Pipeline.Serve]); a full queue is ThrottlingException at
//     once, never a growing queue. A worker takes a request and
//     everything queued behind it (no timer) as one pass;
//  4. execute: the operation's access rule and handler ([Config.Exec]);
//     a batch's chunks, the service's batch method ([Config.ExecBatch]);
//  5. record: one audit record per request ([Event], [Finish]), or per
//     group of alike items of a batch, a pass's records written as one
//     group; failures are charged to their uid's failure budget
//     (trailcost.go) first;
//  6. reply: once the records are written, the front end answers, through
//     the [Replier] its request carries.
//
// A [Request] is one of two kinds, told apart by its reply: a single
// request ([Single]), or a chunk of a batch ([Items], whose answers go
// into the front end's buffer for the chunk; the chunk done last has the
// [Batch] recorded and answered through its [BatchReply]). A front end
// only decodes and encodes: its speed-ups (a lone request served on the
// reader, answers written in place, one writev per batch) live in its
// repliers and in the inline flag it passes to Serve.
//
// Requests that cannot be recorded are not answered with a result: while
// the audit trail cannot be written every request is answered
// KMSInternalException ([AuditDown]).
package pipeline
