// Command rpmemd serves remote replicas of gopmdk pools (librpmem's
// daemon, C's rpmemd): clients whose poolsets have a line
//
//	REPLICA [user@]host[:port] descriptor
//
// connect to it over rpma (TCP with TLS) and open the pool described by
// the poolset file named descriptor, relative to the poolset directory.
// Each pool's part files are created when a client creates the pool (or
// `pmempool sync` rebuilds it), locked while a client uses them, and
// written and persisted (msync, or a CPU flush on DAX) as the client's
// persists require. See package rpma/rpmem for the poolset files it
// accepts.
//
// Usage:
//
//	rpmemd [-listen addr] [-poolset-dir dir] (-psk-file file | -cert file -key file -ca file) [-timeout d]
//
// The security is mandatory: a pre-shared key (the file's bytes, the same
// the clients read through $RPMEM_PSK_FILE), or a certificate pair and
// the authority that signed the clients' certificates. It logs to stderr
// and stops on SIGINT or SIGTERM.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gopmdk/pmdk/rpma/rpmem"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("rpmemd", flag.ContinueOnError)
	home, _ := os.UserHomeDir()
	listen := fs.String("listen", ":"+rpmem.DefaultPort, "address to listen on")
	dir := fs.String("poolset-dir", home, "directory of the poolset files clients name")
	pskFile := fs.String("psk-file", "", "file holding the pre-shared key")
	cert := fs.String("cert", "", "PEM certificate of rpmemd (instead of -psk-file)")
	key := fs.String("key", "", "PEM private key of the certificate")
	ca := fs.String("ca", "", "PEM authority of the clients' certificates")
	timeout := fs.Duration("timeout", 10*time.Second, "bound of each connection's handshake")
	verbose := fs.Bool("v", false, "log every connection (default: refusals and failures)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := rpmem.ServerConfig{Dir: *dir, Timeout: *timeout, Logger: log}
	var err error
	switch {
	case *pskFile != "":
		cfg.PSK, err = rpmem.ReadPSK(*pskFile)
	case *cert != "":
		var t *tls.Config
		t, err = rpmem.TLSConfig(*cert, *key, *ca, true)
		cfg.TLS = t
	default:
		err = fmt.Errorf("rpmemd: -psk-file or -cert, -key and -ca are required")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := rpmem.NewServer(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	addr, err := s.Listen(*listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rpmemd:", err)
		return 1
	}
	log.Warn("rpmemd: listening", "addr", addr.String(), "poolset-dir", *dir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "rpmemd:", err)
		return 1
	}
	return 0
}
