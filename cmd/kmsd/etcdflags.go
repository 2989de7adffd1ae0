package main

import (
	"errors"

	"kmsd/daemon"
	"kmsd/keystore/etcdstore"
)

// etcdFlags say where a fleet's records are (docs/fleet.md): serving,
// restoring and rotating the root key take them alike.
type etcdFlags struct {
	Store         string `help:"Where the keys are kept: badger (STATE_DIR/db, this host's alone) or etcd (shared by a fleet of hosts, each serving crypto from its own copy; docs/fleet.md)." default:"badger" enum:"badger,etcd" env:"KMSD_STORE"`
	EtcdEndpoints string `name:"etcd-endpoints" help:"With --store etcd: the etcd members' client URLs, comma-separated." env:"KMSD_ETCD_ENDPOINTS"`
	EtcdPrefix    string `name:"etcd-prefix" help:"With --store etcd: the key prefix the fleet's records live under." default:"/kmsd/" env:"KMSD_ETCD_PREFIX"`
	EtcdCACert    string `name:"etcd-cacert" help:"With --store etcd: the CA certificate (PEM) that signed the members' certificates." env:"KMSD_ETCD_CACERT"`
	EtcdCert      string `name:"etcd-cert" help:"With --store etcd: this host's client certificate (PEM)." env:"KMSD_ETCD_CERT"`
	EtcdKey       string `name:"etcd-key" help:"With --store etcd: this host's client key (PEM)." env:"KMSD_ETCD_KEY"`
}

// fleet reports whether the flags name etcd.
func (f *etcdFlags) fleet() bool { return f.Store == "etcd" }

// endpoints are the members' URLs; none is an error.
func (f *etcdFlags) endpoints() ([]string, error) {
	eps := daemon.ParseEndpoints(f.EtcdEndpoints)
	if len(eps) == 0 {
		return nil, errors.New("--store etcd needs --etcd-endpoints")
	}
	return eps, nil
}

// open connects to the fleet's etcd.
func (f *etcdFlags) open() (*etcdstore.Store, error) {
	eps, err := f.endpoints()
	if err != nil {
		return nil, err
	}
	return etcdstore.Open(etcdstore.Options{Endpoints: eps, Prefix: f.EtcdPrefix, CACert: f.EtcdCACert, Cert: f.EtcdCert, Key: f.EtcdKey})
}
