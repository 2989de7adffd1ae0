// Package fleet tests kmsd's fleet mode (docs/fleet.md) against real
// etcd: members embedded in the test process (go.etcd.io/etcd/server/v3's
// embed, the same server the etcd binary runs), which the tests stop and
// start again to take the cluster's quorum away and give it back, and the
// real kmsd and kmsctl binaries as hosts of the fleet.
//
// It is a module of its own so that the etcd server and its dependencies
// are the tests' alone: kmsd itself links only etcd's client.
package fleet
