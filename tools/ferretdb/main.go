// Command ferretdb runs an embedded FerretDB 1.24 (SQLite backend) for the stack tests.
//
// The stock `go install` of FerretDB's CLI panics for want of a generated version file, so this
// launcher imports the embeddable package instead. Flags: -listen (default 127.0.0.1:27017)
// and -dir (SQLite data directory, created if missing).
//
// SQLite runs with synchronous=NORMAL (WAL is FerretDB's default): a commit is written to the
// WAL but not fsynced, as MongoDB's own default (journal flushed every 100 ms) does. With
// FULL, every write waited for the disk: checkouts on this box were I/O bound at about five
// orders per second with the CPU half idle (bench/README.md). A crash of FerretDB still loses
// nothing; only a power loss could take the last commits, which a test bench can afford.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "./ferretdb-data", "SQLite data directory")
	flag.Parse()

	abs, err := filepath.Abs(*dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		log.Fatal(err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(NORMAL)",
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("ferretdb listening on %s (sqlite in %s)", f.MongoDBURI(), abs)
	f.Run(ctx)
}
