// Command modset manages gopmdk's module set: the modules of go.work, which
// require each other at one shared version while at v0 and are tagged
// together (<dir>/vX.Y.Z), bottom-up. It is a development tool, in its own
// module outside go.work so that golang.org/x/mod enters no published
// go.mod, and is never tagged. scripts/check-modules and scripts/release
// run it:
//
//	modset [-root DIR] check          the set is consistent (see check)
//	modset [-root DIR] version        the set's version: what siblings require
//	modset [-root DIR] next           the next minor version (v0.1.3 -> v0.2.0)
//	modset [-root DIR] list           tagged modules in release order: DIR PATH
//	modset [-root DIR] bump [-n] V    require V of every sibling, in every go.mod and go.work
//	                                  (V may be the set's version: nothing to do)
//	modset [-root DIR] proxy OUT      a file module proxy (GOPROXY=file://OUT) of the tagged
//	                                  modules, at the set's version, from the working tree
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

// untagged are the modules of go.work that are never tagged nor published.
var untagged = map[string]bool{"conformance": true}

// mod is one module of go.work.
type mod struct {
	dir    string // relative to the root, as go.work names it without "./"
	path   string // module path
	gomod  string // go.mod file
	file   *modfile.File
	tagged bool
}

// set is the workspace: its modules and go.work.
type set struct {
	root   string
	work   *modfile.WorkFile
	mods   []*mod
	byPath map[string]*mod
}

func main() {
	root := flag.String("root", ".", "repository root (holding go.work)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: modset [-root DIR] check | version | next | list | bump [-n] VERSION | proxy DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*root, flag.Args(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "modset:", err)
		os.Exit(1)
	}
}

func run(root string, args []string, out io.Writer) error {
	if len(args) == 0 {
		flag.Usage()
		return errors.New("no command")
	}
	s, err := load(root)
	if err != nil {
		return err
	}
	switch cmd, args := args[0], args[1:]; {
	case cmd == "check" && len(args) == 0:
		if err := s.check(); err != nil {
			return err
		}
		v, _ := s.version()
		fmt.Fprintf(out, "module set %s: consistent, every module zip valid\n", v)
		return nil
	case cmd == "version" && len(args) == 0:
		v, err := s.version()
		if err != nil {
			return err
		}
		fmt.Fprintln(out, v)
		return nil
	case cmd == "next" && len(args) == 0:
		v, err := s.version()
		if err != nil {
			return err
		}
		var major, minor int
		if _, err := fmt.Sscanf(semver.MajorMinor(v), "v%d.%d", &major, &minor); err != nil {
			return fmt.Errorf("version %s: %w", v, err)
		}
		fmt.Fprintf(out, "v%d.%d.0\n", major, minor+1)
		return nil
	case cmd == "list" && len(args) == 0:
		order, err := s.releaseOrder()
		if err != nil {
			return err
		}
		for _, m := range order {
			fmt.Fprintln(out, m.dir, m.path)
		}
		return nil
	case cmd == "bump" && (len(args) == 1 || len(args) == 2 && args[0] == "-n"):
		return s.bump(args[len(args)-1], len(args) == 2, out)
	case cmd == "proxy" && len(args) == 1:
		if err := s.check(); err != nil {
			return err
		}
		return s.proxy(args[0], out)
	}
	flag.Usage()
	return fmt.Errorf("bad command %q", strings.Join(args, " "))
}

func load(root string) (*set, error) {
	s := &set{root: root, byPath: map[string]*mod{}}
	name := filepath.Join(root, "go.work")
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if s.work, err = modfile.ParseWork(name, b, nil); err != nil {
		return nil, err
	}
	for _, u := range s.work.Use {
		dir := strings.TrimPrefix(path.Clean(u.Path), "./")
		if strings.Contains(dir, "/") || dir == "." || dir == ".." {
			return nil, fmt.Errorf("go.work: use %s: modules are top-level directories", u.Path)
		}
		m := &mod{dir: dir, gomod: filepath.Join(root, dir, "go.mod"), tagged: !untagged[dir]}
		b, err := os.ReadFile(m.gomod)
		if err != nil {
			return nil, err
		}
		if m.file, err = modfile.Parse(m.gomod, b, nil); err != nil {
			return nil, err
		}
		m.path = m.file.Module.Mod.Path
		s.mods = append(s.mods, m)
		s.byPath[m.path] = m
	}
	if len(s.mods) == 0 {
		return nil, errors.New("go.work uses no module")
	}
	return s, nil
}

// siblings returns the requirements of m on modules of the set.
func (s *set) siblings(m *mod) []*modfile.Require {
	var rs []*modfile.Require
	for _, r := range m.file.Require {
		if s.byPath[r.Mod.Path] != nil {
			rs = append(rs, r)
		}
	}
	return rs
}

// version returns the one version that every sibling requirement names.
func (s *set) version() (string, error) {
	var v string
	for _, m := range s.mods {
		for _, r := range s.siblings(m) {
			switch {
			case v == "":
				v = r.Mod.Version
			case r.Mod.Version != v:
				return "", fmt.Errorf("%s requires %s %s, others %s: one version for the set", m.dir, r.Mod.Path, r.Mod.Version, v)
			}
		}
	}
	if v == "" {
		return "", errors.New("no module requires a sibling: no set version")
	}
	return v, nil
}

// check reports every inconsistency: module paths not root/<dir>, go.mod
// replace directives, sibling requirements on another version than the
// set's, tagged modules requiring untagged ones, go.work not replacing
// exactly the tagged modules at the set's version by their directories,
// and files that a module zip would refuse.
func (s *set) check() error {
	var errs []error
	v, err := s.version()
	if err != nil {
		return err
	}
	if !semver.IsValid(v) || semver.Canonical(v) != v {
		errs = append(errs, fmt.Errorf("set version %s is not a canonical semantic version", v))
	}
	prefix := path.Dir(s.mods[0].path)
	for _, m := range s.mods {
		if m.path != prefix+"/"+m.dir {
			errs = append(errs, fmt.Errorf("%s: module path %s, want %s/%s", m.gomod, m.path, prefix, m.dir))
		}
		for _, r := range m.file.Replace {
			errs = append(errs, fmt.Errorf("%s: replace %s: go.mod files carry no replace (go.work does)", m.gomod, r.Old.Path))
		}
		for _, r := range s.siblings(m) {
			if dep := s.byPath[r.Mod.Path]; m.tagged && !dep.tagged {
				errs = append(errs, fmt.Errorf("%s requires %s, which is never tagged", m.dir, dep.dir))
			}
		}
		cf, err := zip.CheckDir(filepath.Join(s.root, m.dir))
		if err == nil {
			err = cf.Err()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: files a module zip refuses: %w", m.dir, err))
		}
	}
	want := map[string]bool{}
	for _, m := range s.mods {
		if m.tagged {
			want[m.path] = true
		}
	}
	for _, r := range s.work.Replace {
		m := s.byPath[r.Old.Path]
		switch {
		case m == nil:
			errs = append(errs, fmt.Errorf("go.work: replace %s: not a module of the set", r.Old.Path))
		case r.Old.Version != v || path.Clean(r.New.Path) != m.dir || r.New.Version != "":
			errs = append(errs, fmt.Errorf("go.work: replace %s %s => %s, want %s %s => ./%s", r.Old.Path, r.Old.Version, r.New.Path, r.Old.Path, v, m.dir))
		case !m.tagged:
			errs = append(errs, fmt.Errorf("go.work: replace %s: never tagged, never required", r.Old.Path))
		}
		delete(want, r.Old.Path)
	}
	for p := range want {
		errs = append(errs, fmt.Errorf("go.work: no replace %s %s => ./%s", p, v, s.byPath[p].dir))
	}
	if _, err := s.releaseOrder(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// releaseOrder returns the tagged modules, each after the siblings it
// requires (ties by name): the order of their tags, so that each tag's
// requirements are tagged already.
func (s *set) releaseOrder() ([]*mod, error) {
	done := map[*mod]bool{}
	var order []*mod
	for len(order) < len(s.mods) {
		var ready []*mod
		for _, m := range s.mods {
			if done[m] {
				continue
			}
			ok := true
			for _, r := range s.siblings(m) {
				if !done[s.byPath[r.Mod.Path]] {
					ok = false
				}
			}
			if ok {
				ready = append(ready, m)
			}
		}
		if len(ready) == 0 {
			return nil, errors.New("the modules require each other in a cycle")
		}
		slices.SortFunc(ready, func(a, b *mod) int { return strings.Compare(a.dir, b.dir) })
		for _, m := range ready {
			done[m] = true
			order = append(order, m)
		}
	}
	return slices.DeleteFunc(order, func(m *mod) bool { return !m.tagged }), nil
}

// bump makes every sibling requirement and go.work replacement name
// version nv. With dryRun it only prints what it would change.
func (s *set) bump(nv string, dryRun bool, out io.Writer) error {
	if !semver.IsValid(nv) || semver.Canonical(nv) != nv {
		return fmt.Errorf("%q is not a canonical semantic version (vX.Y.Z)", nv)
	}
	old, err := s.version()
	if err != nil {
		return err
	}
	switch semver.Compare(nv, old) {
	case 0:
		fmt.Fprintf(out, "the set is at %s already\n", nv)
		return nil
	case -1:
		return fmt.Errorf("%s is below the set's version %s", nv, old)
	}
	if semver.Major(nv) != semver.Major(old) && semver.Compare(semver.Major(nv), "v1") > 0 {
		return fmt.Errorf("%s changes the major version: module paths would need a /vN suffix", nv)
	}
	for _, m := range s.mods {
		for _, r := range s.siblings(m) {
			fmt.Fprintf(out, "%s: require %s %s -> %s\n", m.gomod, r.Mod.Path, r.Mod.Version, nv)
			if err := m.file.AddRequire(r.Mod.Path, nv); err != nil {
				return err
			}
		}
		if err := write(m.gomod, m.file.Format, dryRun); err != nil {
			return err
		}
	}
	for _, r := range s.work.Replace {
		for i, tok := range r.Syntax.Token {
			if tok == r.Old.Version && i > 0 && r.Syntax.Token[i-1] == r.Old.Path {
				r.Syntax.Token[i] = nv
			}
		}
		fmt.Fprintf(out, "go.work: replace %s %s -> %s\n", r.Old.Path, r.Old.Version, nv)
		r.Old.Version = nv
	}
	work := filepath.Join(s.root, "go.work")
	return write(work, func() ([]byte, error) { return modfile.Format(s.work.Syntax), nil }, dryRun)
}

// write stores what format gives in name, unless dryRun.
func write(name string, format func() ([]byte, error), dryRun bool) error {
	b, err := format()
	if err != nil || dryRun {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

// proxy writes a file module proxy holding each tagged module at the
// set's version, made from its directory as it is now (tracked or not).
func (s *set) proxy(out string, w io.Writer) error {
	v, err := s.version()
	if err != nil {
		return err
	}
	info, err := json.Marshal(struct{ Version, Time string }{v, time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	for _, m := range s.mods {
		if !m.tagged {
			continue
		}
		esc, err := module.EscapePath(m.path)
		if err != nil {
			return err
		}
		dir := filepath.Join(out, filepath.FromSlash(esc), "@v")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		gomod, err := os.ReadFile(m.gomod)
		if err != nil {
			return err
		}
		var z bytes.Buffer
		if err := zip.CreateFromDir(&z, module.Version{Path: m.path, Version: v}, filepath.Join(s.root, m.dir)); err != nil {
			return fmt.Errorf("%s: %w", m.dir, err)
		}
		for name, data := range map[string][]byte{"list": []byte(v + "\n"), v + ".info": info, v + ".mod": gomod, v + ".zip": z.Bytes()} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "proxy: %s@%s (%d KiB zip)\n", m.path, v, z.Len()>>10)
	}
	return nil
}
