// compose-validate loads a Compose file the way `docker compose config` does — with
// compose-go, the library behind it — and fails on anything the Compose specification or
// compose-go's consistency checks reject: schema violations, unknown keys, a depends_on on a
// missing service, a missing env_file, an undefined network or volume.
//
// Usage: compose-validate [-json] FILE...
// Exit 0 and (with -json) the resolved project on stdout, env_file contents merged into each
// service's environment; exit 1 with the loader's message on stderr otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	asJSON := flag.Bool("json", false, "print the resolved project as JSON")
	flag.Parse()
	files := flag.Args()
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-validate [-json] FILE...")
		os.Exit(2)
	}

	// The project directory is the first file's directory, as for `docker compose -f`.
	// Only the variables given here are used for interpolation, never the caller's
	// environment, so the result does not depend on who runs the check.
	dir, err := filepath.Abs(filepath.Dir(files[0]))
	if err != nil {
		fail(err)
	}
	opts, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(dir),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	if *asJSON {
		out, err := project.MarshalJSON()
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(append(out, '\n'))
		return
	}
	fmt.Printf("%s: valid (%d services)\n", files[0], len(project.Services))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compose-validate:", err)
	os.Exit(1)
}
