// Command ferretdb runs an embedded FerretDB 1.24 for the stack tests, on its PostgreSQL backend
// (-postgresql-url) or, without that flag, on its SQLite backend (-dir).
//
// The stock `go install` of FerretDB's CLI panics for want of a generated version file, so this
// launcher imports the embeddable package instead. Flags: -listen (default 127.0.0.1:27017),
// -postgresql-url (e.g. postgres://postgres@127.0.0.1:5433/ferretdb) and -dir (SQLite data
// directory, created if missing; used only without -postgresql-url).
//
// The test bench runs the PostgreSQL backend: FerretDB pushes filters down to PostgreSQL there,
// while the SQLite backend pushes down only `{_id: <value>}` and decodes the whole collection for
// every other query and conditional update (bench/README.md), so checkout slowed as orders grew.
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
	pgURL := flag.String("postgresql-url", "", "PostgreSQL backend URL (empty: SQLite in -dir)")
	dir := flag.String("dir", "./ferretdb-data", "SQLite data directory")
	flag.Parse()

	config := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}}
	where := ""
	if *pgURL != "" {
		config.Handler = "postgresql"
		config.PostgreSQLURL = *pgURL
		where = "postgresql"
	} else {
		abs, err := filepath.Abs(*dir)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			log.Fatal(err)
		}
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + abs + "/?_pragma=synchronous(NORMAL)"
		where = "sqlite in " + abs
	}

	f, err := ferretdb.New(config)
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("ferretdb listening on %s (%s)", f.MongoDBURI(), where)
	f.Run(ctx)
}
