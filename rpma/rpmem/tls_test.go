package rpmem_test

import (
	"path/filepath"
	"testing"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/rpma/internal/testcert"
	"github.com/gopmdk/pmdk/rpma/rpmem"
	"github.com/gopmdk/pmdk/rpma/rpmem/rpmemtest"
)

// A remote replica over certificates: rpmemd's from TLSConfig, the
// client's from the environment.
func TestCertificates(t *testing.T) {
	certs := t.TempDir()
	testcert.New(t).WritePEM(t, certs)
	f := func(n string) string { return filepath.Join(certs, n) }
	scfg, err := rpmem.TLSConfig(f("server.pem"), f("server.key"), f("ca.pem"), true)
	if err != nil {
		t.Fatal(err)
	}
	rdir := pmemtest.Dir(t)
	pmemtest.Poolset(t, rdir, "rep.set", "8M {dir}/rep.part")
	s, err := rpmem.NewServer(rpmem.ServerConfig{Dir: rdir, TLS: scfg})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t.Setenv(rpmem.EnvCert, f("client.pem"))
	t.Setenv(rpmem.EnvKey, f("client.key"))
	t.Setenv(rpmem.EnvCA, f("ca.pem"))
	dir := pmemtest.Dir(t)
	set := pmemtest.Poolset(t, dir, "l.set", "8M {dir}/p0", "REPLICA user@"+addr.String()+" rep.set")
	p, err := pool.Create(set, 0, 0o600, pool.Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Map()
	copy(m.Bytes()[pool.HeaderSize:], "over certificates")
	m.Persist(m.Bytes()[pool.HeaderSize : pool.HeaderSize+17])
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	rpmemtest.SameData(t, filepath.Join(dir, "p0"), filepath.Join(rdir, "rep.part"))

	// A client without a certificate gets nothing.
	t.Setenv(rpmem.EnvCert, "")
	if p, err := pool.Open(set, pool.Log, nil); err == nil {
		p.Close()
		t.Fatal("open without credentials succeeded")
	}
}
