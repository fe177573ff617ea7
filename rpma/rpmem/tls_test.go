package rpmem_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopmdk/pmdk/core/pmemtest"
	"github.com/gopmdk/pmdk/core/pool"
	"github.com/gopmdk/pmdk/rpma/rpmem"
	"github.com/gopmdk/pmdk/rpma/rpmem/rpmemtest"
)

// writeCerts writes a CA and a server and a client certificate it signed,
// PEM, into dir: ca.pem, server.pem/server.key, client.pem/client.key.
func writeCerts(t *testing.T, dir string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rpmem test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	for i, who := range []string{"server", "client"} {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		usage := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}[i]
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: who},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
			KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(k)
		write(who+".pem", "CERTIFICATE", der)
		write(who+".key", "EC PRIVATE KEY", kder)
	}
}

// A remote replica over certificates: rpmemd's from TLSConfig, the
// client's from the environment.
func TestCertificates(t *testing.T) {
	certs := t.TempDir()
	writeCerts(t, certs)
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
