// Command pmreorder replays the store log of a program on persistent memory
// (recorded by gopmdk's crash simulator, see
// github.com/gopmdk/pmdk/core/crashsim) in the orders the x86 persistence
// model allows between fences, runs a checker program on every image, and
// reports the first inconsistent one with the reordering that made it. Its
// options are those of PMDK 1.12.1's pmreorder(1) that apply; it is built
// on the package github.com/gopmdk/pmdk/tools/pmreorder. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/gopmdk/pmdk/core/crashsim"
	"github.com/gopmdk/pmdk/tools/pmreorder"
	"github.com/spf13/pflag"
)

const version = "1.12.1 (gopmdk)"

// Exit statuses: pmreorder's 1 for an inconsistent image, 2 for bad usage
// or a failure to replay.
const (
	exitConsistent   = 0
	exitInconsistent = 1
	exitError        = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

var levels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warning": slog.LevelWarn,
	"error": slog.LevelError, "critical": slog.LevelError + 4,
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("pmreorder", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		logfile, checker, path, name, output, level, macros, engine, image, saveImage string
		seed                                                                          uint64
		maxSeq                                                                        int
		help, showVersion                                                             bool
	)
	fs.StringVarP(&logfile, "logfile", "l", "", "the store log to replay (required)")
	fs.StringVarP(&checker, "checker", "c", "prog", "checker type: prog (lib: use the Go package's Checker)")
	fs.StringVarP(&path, "path", "p", "", "the checker program; its arguments follow the options, the image file is appended")
	fs.StringVarP(&name, "name", "n", "", "lib checker function (not supported)")
	fs.StringVarP(&output, "output", "o", "", "write the log to this file (default: standard error)")
	fs.StringVarP(&level, "output-level", "e", "warning", "log level: debug, info, warning, error or critical")
	fs.StringVarP(&engine, "default-engine", "r", pmreorder.NoReorderNoCheck.String(), "engine outside marked regions: "+engineList())
	fs.StringVarP(&macros, "extended-macros", "x", "", "MARKER=Engine,... or a JSON file {\"MARKER\": \"Engine\"}")
	fs.Uint64VarP(&seed, "seed", "s", 0, "seed of ReorderPartial's draws")
	fs.StringVar(&image, "image", "", "the file the checker gets (default: in a temporary directory)")
	fs.StringVar(&saveImage, "save-image", "", "write the first inconsistent image to this file")
	fs.IntVar(&maxSeq, "max-sequences", pmreorder.DefaultMaxSequences, "most images an engine may check at one fence")
	fs.BoolVarP(&showVersion, "version", "v", false, "print the version")
	fs.BoolVarP(&help, "help", "h", false, "print this help")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pmreorder -l <store_log> [-r <engine>] [-x <markers>] [-o <file>] [-e <level>] [-p <checker> [<args>...]]\n\n")
		fmt.Fprintf(stderr, "Replay a store log recorded by gopmdk's crash simulator, reordering the stores\n")
		fmt.Fprintf(stderr, "between fences, and check every image with a program (exit status 0: consistent).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitConsistent
		}
		fmt.Fprintln(stderr, "pmreorder:", err)
		return exitError
	}
	switch {
	case help:
		fs.SetOutput(stdout)
		fs.Usage()
		return exitConsistent
	case showVersion:
		fmt.Fprintln(stdout, "pmreorder", version)
		return exitConsistent
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "pmreorder: "+format+"\n", a...)
		return exitError
	}
	if logfile == "" {
		return fail("a store log is required (-l)")
	}
	if checker != "prog" {
		return fail("checker type %q: only prog is supported (a Go checker function goes through the package API)", checker)
	}
	if name != "" {
		return fail("-n names a lib checker function: not supported")
	}
	cfg := pmreorder.Config{Seed: seed, MaxSequences: maxSeq}
	var err error
	if cfg.Default, err = pmreorder.ParseEngine(engine); err != nil {
		return fail("%v", err)
	}
	if macros != "" {
		if cfg.Markers, err = pmreorder.ParseMarkers(macros); err != nil {
			return fail("%v", err)
		}
	}
	lv, ok := levels[level]
	if !ok {
		return fail("output level %q: want debug, info, warning, error or critical", level)
	}
	logOut := stderr
	if output != "" {
		f, err := os.Create(output)
		if err != nil {
			return fail("%v", err)
		}
		defer f.Close()
		logOut = f
	}
	cfg.Logger = slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: lv}))

	f, err := os.Open(logfile)
	if err != nil {
		return fail("%v", err)
	}
	l, err := crashsim.ReadStoreLog(f)
	f.Close()
	if err != nil {
		return fail("%s: %v", logfile, err)
	}

	if path == "" && fs.NArg() > 0 {
		return fail("checker arguments %q without a checker (-p)", fs.Args())
	}
	if path != "" {
		if image == "" {
			dir, err := os.MkdirTemp("", "pmreorder-")
			if err != nil {
				return fail("%v", err)
			}
			defer os.RemoveAll(dir)
			image = filepath.Join(dir, "image")
		}
		cargs := strings.Fields(path)
		cfg.Check = pmreorder.ProgramChecker(image, cargs[0], append(cargs[1:], fs.Args()...)...)
	}

	res, err := pmreorder.Replay(ctx, l, cfg)
	if err != nil {
		return fail("%v", err)
	}
	if x := res.Inconsistent; x != nil {
		fmt.Fprint(stdout, x)
		if saveImage != "" {
			if err := os.WriteFile(saveImage, x.Image, 0o600); err != nil {
				return fail("%v", err)
			}
		}
		return exitInconsistent
	}
	fmt.Fprintf(stdout, "consistent: %d images checked (%d stores, %d fences)\n", res.Images, res.Stores, res.Fences)
	return exitConsistent
}

func engineList() string {
	var names []string
	for _, e := range pmreorder.Engines {
		names = append(names, e.String())
	}
	return strings.Join(names, ", ")
}
