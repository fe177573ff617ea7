// Command rpma-example is the two-process example of package rpma: a
// server that offers a mapped file to one client, and a client that
// writes a message into it, flushes it to persistence and reads it back.
//
//	RPMA_PSK=$(head -c 32 /dev/urandom | base64) ; export RPMA_PSK
//	rpma-example -server -listen 127.0.0.1:7204 -file /dev/shm/rpma-example &
//	rpma-example -connect 127.0.0.1:7204 -msg 'hello, persistent world'
//
// Both sides authenticate with the pre-shared key in $RPMA_PSK (TLS 1.3
// keyed by it). Built with -tags verbs, -rdma IP on both sides uses the
// verbs transport on the RDMA interface with that address instead (no
// key; over verbs the server's CPU takes no part, so the file is
// persistent only where it is DAX on pmem the NIC writes through to; the
// verbs path has not been run: the machine it was written on has no RDMA
// device). The server prints its address once listening, and what
// the client left at offset 0 of the file once the client disconnects.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gopmdk/pmdk/core"
	"github.com/gopmdk/pmdk/rpma"
)

const regionSize = 1 << 20

func main() {
	server := flag.Bool("server", false, "run the server")
	listen := flag.String("listen", "127.0.0.1:7204", "server: address to listen on")
	file := flag.String("file", "", "server: file to map and offer (created, 1 MiB)")
	connect := flag.String("connect", "", "client: server address")
	msg := flag.String("msg", "hello, persistent world", "client: message to write")
	rdma := flag.String("rdma", "", "use verbs on the RDMA interface with this IP address (-tags verbs builds)")
	flag.Parse()
	opts := &rpma.PeerOptions{PSK: []byte(os.Getenv("RPMA_PSK"))}
	if *rdma != "" {
		opts = &rpma.PeerOptions{RDMAAddr: *rdma}
	}
	var err error
	if *server {
		err = runServer(*listen, *file, opts)
	} else {
		err = runClient(*connect, *msg, opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rpma-example:", err)
		os.Exit(1)
	}
}

func runServer(addr, file string, opts *rpma.PeerOptions) error {
	if file == "" {
		return errors.New("-server needs -file")
	}
	m, err := core.MapFile(file, regionSize, core.FileCreate, 0o600)
	if err != nil {
		return err
	}
	defer m.Close()
	peer, err := rpma.NewPeer(opts)
	if err != nil {
		return err
	}
	mr, err := peer.RegisterMap(m, 0, regionSize, rpma.UsageWriteDst|rpma.UsageReadSrc|rpma.UsageFlushPersistent)
	if err != nil {
		return err
	}
	defer mr.Deregister()
	ep, err := peer.Listen(addr)
	if err != nil {
		return err
	}
	defer ep.Shutdown()
	fmt.Println("listening on", ep.Addr())
	ctx := context.Background()
	req, err := ep.NextConnReq(ctx, nil)
	if err != nil {
		return err
	}
	// The region's descriptor and this peer's configuration go to the
	// client as private data, inside TLS.
	cfg := rpma.PeerConfig{DirectWriteToPmem: true}
	conn, err := req.Connect(ctx, append(mr.Descriptor(), cfg.Descriptor()...))
	if err != nil {
		return err
	}
	defer conn.Close()
	for {
		ev, err := conn.NextEvent(ctx)
		if err != nil {
			return err
		}
		if ev == rpma.EventLost {
			return fmt.Errorf("connection lost: %w", conn.Err())
		}
		if ev == rpma.EventClosed {
			break
		}
	}
	conn.Disconnect()
	b := m.Bytes()
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	fmt.Printf("client wrote %q\n", b[:n])
	return nil
}

func runClient(addr, msg string, opts *rpma.PeerOptions) error {
	peer, err := rpma.NewPeer(opts)
	if err != nil {
		return err
	}
	req, err := peer.NewConnReq(addr, &rpma.ConnConfig{Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	ctx := context.Background()
	conn, err := req.Connect(ctx, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	pd := conn.PrivateData()
	if len(pd) < rpma.MRDescriptorSize {
		return errors.New("no region descriptor from the server")
	}
	dst, err := rpma.RemoteFromDescriptor(pd[:rpma.MRDescriptorSize])
	if err != nil {
		return err
	}
	pcfg, err := rpma.PeerConfigFromDescriptor(pd[rpma.MRDescriptorSize:])
	if err != nil {
		return err
	}
	if err := conn.ApplyRemotePeerConfig(pcfg); err != nil {
		return err
	}
	n := len(msg) + 1                   // with a NUL, so the server sees where it ends
	buf, err := rpma.AllocMemory(2 * n) // outside the Go heap, as verbs needs
	if err != nil {
		return err
	}
	defer rpma.FreeMemory(buf)
	copy(buf, msg)
	src, err := peer.RegisterMemory(buf, rpma.UsageWriteSrc|rpma.UsageReadDst)
	if err != nil {
		return err
	}
	defer src.Deregister()
	if err := conn.Write(dst, 0, src, 0, n, rpma.CompletionOnError, nil); err != nil {
		return err
	}
	if err := conn.Flush(dst, 0, n, rpma.FlushPersistent, rpma.CompletionAlways, "flush"); err != nil {
		return err
	}
	if err := conn.Read(src, n, dst, 0, n, rpma.CompletionAlways, "read"); err != nil {
		return err
	}
	for range 2 {
		wc, err := conn.CQ().Next(ctx)
		if err != nil {
			return err
		}
		if wc.Status != rpma.StatusSuccess {
			return fmt.Errorf("%v: %v", wc.Op, wc.Status)
		}
	}
	fmt.Printf("wrote, persisted and read back %q\n", buf[n:2*n-1])
	if err := conn.Disconnect(); err != nil {
		return err
	}
	_, err = conn.NextEvent(ctx) // established
	if err == nil {
		_, err = conn.NextEvent(ctx) // closed
	}
	return err
}
