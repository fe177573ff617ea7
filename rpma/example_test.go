package rpma_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gopmdk/pmdk/rpma"
)

// A server offers a region; a client writes to it, flushes and reads it
// back, over loopback TCP with a pre-shared key.
func Example() {
	key := []byte("a pre-shared key of 32 bytes....")
	ctx := context.Background()

	server, _ := rpma.NewPeer(&rpma.PeerOptions{PSK: key})
	mem := make([]byte, 4096)
	smr, _ := server.RegisterMemory(mem, rpma.UsageWriteDst|rpma.UsageReadSrc|rpma.UsageFlushVisibility)
	ep, _ := server.Listen("127.0.0.1:0")
	defer ep.Shutdown()
	go func() {
		req, _ := ep.NextConnReq(ctx, nil)
		conn, _ := req.Connect(ctx, smr.Descriptor())
		defer conn.Close()
		conn.NextEvent(ctx) // established
		conn.NextEvent(ctx) // closed
	}()

	client, _ := rpma.NewPeer(&rpma.PeerOptions{PSK: key})
	req, _ := client.NewConnReq(ep.Addr().String(), &rpma.ConnConfig{Timeout: 10 * time.Second})
	conn, err := req.Connect(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	dst, _ := rpma.RemoteFromDescriptor(conn.PrivateData())
	buf := make([]byte, 32)
	copy(buf, "hello")
	lmr, _ := client.RegisterMemory(buf, rpma.UsageWriteSrc|rpma.UsageReadDst)
	conn.Write(dst, 100, lmr, 0, 5, rpma.CompletionOnError, nil)
	conn.Flush(dst, 100, 5, rpma.FlushVisibility, rpma.CompletionOnError, nil)
	conn.Read(lmr, 16, dst, 100, 5, rpma.CompletionAlways, "read back")
	wc, _ := conn.CQ().Next(ctx)
	fmt.Println(wc.Op, wc.Status, wc.Context, string(buf[16:21]))
	conn.Disconnect()
	// Output: read success read back hello
}
