package main

import (
	"fmt"
	"strings"
)

// option is one entry of daxio's option table: its long name, its letter
// and whether it takes an argument (getopt's required_argument; daxio has
// no optional ones).
type option struct {
	long   string
	short  byte
	hasArg bool
}

// parsed is one option found by getopt: its letter and its argument.
type parsed struct {
	short byte
	arg   string
}

// getopt walks args as glibc's getopt_long(3) does with the default
// (permuting) ordering: options may follow operands, short options may be
// grouped ("-zo FILE") and take their argument attached or as the next
// word, long options take "=ARG" or the next word and may be shortened to
// any unambiguous prefix, and "--" ends the options. yield receives each
// option in order and stops the walk by returning false. The operands are
// returned (daxio ignores them, as C's does). On an error, msg is what
// getopt prints after "PROG: ".
func getopt(args []string, opts []option, yield func(parsed) bool) (operands []string, msg string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(operands, args[i+1:]...), ""
		case strings.HasPrefix(a, "--"):
			p, next, m := longOption(args, i, opts)
			if m != "" {
				return operands, m
			}
			i = next
			if !yield(p) {
				return operands, ""
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				o, ok := findShort(opts, a[j])
				if !ok {
					return operands, fmt.Sprintf("invalid option -- '%c'", a[j])
				}
				p := parsed{short: o.short}
				if o.hasArg {
					switch {
					case j+1 < len(a):
						p.arg = a[j+1:]
					case i+1 < len(args):
						i++
						p.arg = args[i]
					default:
						return operands, fmt.Sprintf("option requires an argument -- '%c'", o.short)
					}
					j = len(a)
				}
				if !yield(p) {
					return operands, ""
				}
			}
		default:
			operands = append(operands, a)
		}
	}
	return operands, ""
}

func findShort(opts []option, c byte) (option, bool) {
	for _, o := range opts {
		if o.short == c {
			return o, true
		}
	}
	return option{}, false
}

// longOption parses the long option args[i] ("--name" or "--name=arg"),
// taking its argument from args[i+1] when needed; next is the index of the
// last word used.
func longOption(args []string, i int, opts []option) (p parsed, next int, msg string) {
	a := args[i]
	name, arg, hasEq := strings.Cut(a[2:], "=")
	var found []option
	for _, o := range opts {
		if o.long == name {
			found = []option{o}
			break
		}
		if strings.HasPrefix(o.long, name) {
			found = append(found, o)
		}
	}
	switch len(found) {
	case 0:
		return p, i, fmt.Sprintf("unrecognized option '%s'", a)
	case 1:
	default:
		var b strings.Builder
		fmt.Fprintf(&b, "option '%s' is ambiguous; possibilities:", a)
		for _, o := range found {
			fmt.Fprintf(&b, " '--%s'", o.long)
		}
		return p, i, b.String()
	}
	o := found[0]
	p.short = o.short
	switch {
	case !o.hasArg && hasEq:
		return p, i, fmt.Sprintf("option '--%s' doesn't allow an argument", o.long)
	case !o.hasArg:
	case hasEq:
		p.arg = arg
	case i+1 < len(args):
		i++
		p.arg = args[i]
	default:
		return p, i, fmt.Sprintf("option '--%s' requires an argument", o.long)
	}
	return p, i, ""
}
