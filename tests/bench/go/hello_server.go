// The W12 peer: Go's net/http answering "hello" on /, as the weft servers
// (examples/http_server, examples/c/http_server.c) do. Standard library
// only; built by tests/bench/http/w12.py with the Debian golang-go toolchain.
//
//	go run hello_server.go --port 0 --host 127.0.0.1
//
// Prints "http server listening on HOST:PORT" once it listens (port 0: the
// kernel chooses), like the weft servers; SIGINT/SIGTERM shut it down
// gracefully (exit 0).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8080, "port (0: the kernel chooses)")
	flag.Parse()

	listener, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello_server:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("hello"))
	})
	server := &http.Server{Handler: mux}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		<-signals
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx)
		close(done)
	}()

	fmt.Printf("http server listening on %s\n", listener.Addr())
	if err := server.Serve(listener); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "hello_server:", err)
		os.Exit(1)
	}
	<-done
}
