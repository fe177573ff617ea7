package pmempool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ConvertVersion is the pmdk-convert version RunConvert reports.
const ConvertVersion = "1.12"

// Exit codes of pmdk-convert, as C's.
const (
	convNotEnoughArgs   = 1
	convUnknownFlag     = 2
	convUnknownArg      = 3
	convFromExclusive   = 4
	convToExclusive     = 5
	convFromInvalid     = 6
	convToInvalid       = 7
	convFromLayoutBad   = 8
	convToLayoutBad     = 9
	convNoPool          = 10
	convPoolDetection   = 11
	convUnsupportedFrom = 12
	convUnsupportedTo   = 13
	convBackward        = 14
	convFailed          = 15
	convOpenFailed      = 20
	convRemote          = 23
	convStdinEOF        = 25
)

// Questions a conversion asks, answered yes by -X.
const (
	questFailSafety  = 1 << 0
	question12Mutex  = 1 << 1
	convertUsageLine = "Usage: pmdk-convert [--version] [--help] [--no-warning] --from=<version> --to=<version> <pool>\n"
)

// RunConvert runs pmdk-convert (and pmempool convert, which C's pmempool
// hands to pmdk-convert) with args, reading answers from in: C's options
// (-f/--from and -t/--to a PMDK release, -F/--from-layout and
// -T/--to-layout a layout, -X/--force-yes fail-safety|1.2-pmemmutex, -V,
// -h), messages and exit codes. The layout is read from the pool header
// (C tries opening the pool with each old libpmemobj); every step is
// [ConvertObjStep]. Poolsets are refused.
func RunConvert(args []string, in io.Reader, out, errw io.Writer) int {
	if len(args) < 1 {
		fmt.Fprint(out, convertUsageLine)
		return convNotEnoughArgs
	}
	args = append([]string(nil), args...) // clustered options are split in place
	var from, to, fromLayout, toLayout int
	var force uint
	var operands []string
	long := map[string]byte{"version": 'V', "help": 'h', "from": 'f', "to": 't',
		"from-layout": 'F', "to-layout": 'T', "force-yes": 'X'}
	for i := 0; i < len(args); i++ {
		a := args[i]
		var opt byte
		var val string
		hasVal := false
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
			continue
		case strings.HasPrefix(a, "--"):
			name, v, eq := strings.Cut(a[2:], "=")
			var matches []byte
			for n, o := range long {
				if n == name {
					matches = []byte{o}
					break
				}
				if strings.HasPrefix(n, name) {
					matches = append(matches, o)
				}
			}
			if len(matches) != 1 {
				if len(matches) == 0 {
					fmt.Fprintf(errw, "pmdk-convert: unrecognized option '%s'\n", a)
				} else {
					fmt.Fprintf(errw, "pmdk-convert: option '%s' is ambiguous\n", a)
				}
				fmt.Fprint(out, convertUsageLine)
				return convUnknownArg
			}
			opt, val, hasVal = matches[0], v, eq
			if (opt == 'V' || opt == 'h') && eq {
				fmt.Fprintf(errw, "pmdk-convert: option '--%s' doesn't allow an argument\n", longName(long, opt))
				fmt.Fprint(out, convertUsageLine)
				return convUnknownArg
			}
		case len(a) > 1 && a[0] == '-':
			opt = a[1]
			if len(a) > 2 {
				val, hasVal = a[2:], true
			}
			if !strings.ContainsRune("VhfFtTX", rune(opt)) {
				fmt.Fprintf(errw, "pmdk-convert: invalid option -- '%c'\n", opt)
				fmt.Fprint(out, convertUsageLine)
				return convUnknownArg
			}
			if (opt == 'V' || opt == 'h') && hasVal {
				// Clustered short options: only -V and -h take none.
				args = append(args[:i+1], append([]string{"-" + val}, args[i+1:]...)...)
				hasVal = false
			}
		default:
			operands = append(operands, a)
			continue
		}
		if opt != 'V' && opt != 'h' && !hasVal {
			if i+1 >= len(args) {
				if strings.HasPrefix(a, "--") {
					fmt.Fprintf(errw, "pmdk-convert: option '%s' requires an argument\n", a)
				} else {
					fmt.Fprintf(errw, "pmdk-convert: option requires an argument -- '%c'\n", opt)
				}
				fmt.Fprint(out, convertUsageLine)
				return convUnknownArg
			}
			i++
			val = args[i]
		}
		switch opt {
		case 'V':
			fmt.Fprintf(out, "pmdk-convert %s\n", ConvertVersion)
			return 0
		case 'h':
			convertHelp(out)
			return 0
		case 'f':
			from = releaseNumber(val)
		case 't':
			to = releaseNumber(val)
		case 'F':
			fromLayout = layoutNumber(val)
		case 'T':
			toLayout = layoutNumber(val)
		case 'X':
			switch val {
			case "fail-safety":
				force |= questFailSafety
			case "1.2-pmemmutex":
				force |= question12Mutex
			default:
				fmt.Fprintf(errw, "unknown parameter %s\n", val)
				return convUnknownFlag
			}
		}
	}
	bad := func(msg string, code int) int {
		fmt.Fprint(errw, msg)
		fmt.Fprint(out, convertUsageLine)
		return code
	}
	switch {
	case from != 0 && fromLayout != 0:
		return bad("\"from\" and \"from-layout\" parameters are exclusive.\n", convFromExclusive)
	case to != 0 && toLayout != 0:
		return bad("\"to\" and \"to-layout\" parameters are exclusive.\n", convToExclusive)
	case from < 0:
		return bad("Invalid \"from\" version format [major.minor].\n", convFromInvalid)
	case to < 0:
		return bad("Invalid \"to\" version format [major.minor].\n", convToInvalid)
	case fromLayout < 0:
		return bad("Invalid \"from-layout\" version.\n", convFromLayoutBad)
	case toLayout < 0:
		return bad("Invalid \"to-layout\" version.\n", convToLayoutBad)
	case len(operands) == 0:
		fmt.Fprint(errw, "Missing pool argument.\n")
		return convNoPool
	}
	path := operands[0]
	if code, done := convertPoolset(path, errw); done {
		return code
	}
	if from == 0 && fromLayout == 0 {
		l, err := DetectObjLayout(path)
		if err != nil {
			fmt.Fprint(errw, "Cannot detect pool version.\n")
			return convPoolDetection
		}
		fromLayout = l
	} else if fromLayout = resolveLayout(from, fromLayout); fromLayout < 0 {
		fmt.Fprintf(errw, "Unsupported pool '%s' version\n", map[bool]string{true: "from", false: "from-layout"}[from != 0])
		return convUnsupportedFrom
	}
	if to == 0 && toLayout == 0 {
		toLayout = ObjLayoutCurrent
	} else if toLayout = resolveLayout(to, toLayout); toLayout < 0 {
		fmt.Fprintf(errw, "Unsupported pool '%s' version\n", map[bool]string{true: "to", false: "to-layout"}[to != 0])
		return convUnsupportedTo
	}
	if toLayout == fromLayout {
		fmt.Fprint(out, "The pool is in the requested layout verison, conversion is not needed")
		return 0
	}
	if fromLayout > toLayout {
		return bad("Backward conversion is not implemented.\n", convBackward)
	}
	fmt.Fprint(out, "This tool will update the pool to the specified layout version.\n"+
		"This process is NOT fail-safe.\n"+
		"Proceed only if the pool has been backed up or\n"+
		"the risks are fully understood and acceptable.\n")
	r := bufio.NewReader(in)
	if force&questFailSafety == 0 {
		fmt.Fprint(out, "Hit Ctrl-C now if you want to stop or Enter to continue.\n")
		if _, err := r.ReadByte(); err != nil {
			fmt.Fprint(errw, "EOF, aborting\n")
			return convStdinEOF
		}
	}
	fmt.Fprintf(out, "Starting conversion from %s to %s\n", layoutString(fromLayout), layoutString(toLayout))
	for l := fromLayout; l < toLayout; l++ {
		fmt.Fprintf(out, "Converting from %s to %s... ", layoutString(l), layoutString(l+1))
		var err error
		if l == 2 {
			err = confirm12Mutex(out, r, force&question12Mutex != 0)
		}
		if err == nil {
			err = ConvertObjStep(path, l)
		}
		if err != nil {
			fmt.Fprintf(errw, "failed: %s (%s)\n", err, errnoText(err))
			return convFailed
		}
		fmt.Fprint(out, "Done\n")
	}
	return 0
}

// resolveLayout returns the layout a release (rel, from -f or -t) or a
// layout number (l, from -F or -T) names, -1 if none.
func resolveLayout(rel, l int) int {
	if rel != 0 {
		if lr, ok := ObjLayoutOfRelease(rel); ok {
			return lr
		}
		return -1
	}
	if len(ObjLayoutReleases(l)) == 0 {
		return -1
	}
	return l
}

// errCanceled is the refusal of the 1.2-pmemmutex question.
var errCanceled = errors.New("Operation canceled by user")

// confirm12Mutex asks pmdk-convert's question of the step from layout 2
// (PMDK 1.1) to 3 (1.2), whose locks are laid out differently.
func confirm12Mutex(out io.Writer, r *bufio.Reader, forced bool) error {
	fmt.Fprint(out, "\nThe conversion to 1.2 can only be made automatically if the PMEMmutex,\n"+
		"PMEMrwlock and PMEMcond types are not used in the pool or all of the variables\n"+
		"of those three types are aligned to 8 bytes. Proceed only if you are sure that\n"+
		"the above is true for this pool.\n")
	if forced {
		fmt.Fprint(out, "Operation forced by user.\n")
		return nil
	}
	for {
		fmt.Fprint(out, "convert the pool? [y/N] ")
		c, err := r.ReadByte()
		ans := byte('\n')
		if err == nil {
			ans = c | 0x20
			if c != '\n' {
				r.ReadByte() // the rest of the answer's line, as C
			}
		}
		if ans == '\n' || ans == 'y' || ans == 'n' {
			if ans == '\n' {
				ans = 'n'
			}
			fmt.Fprintf(out, "%c\n", ans)
			if ans != 'y' {
				return errCanceled
			}
			return nil
		}
	}
}

// errnoText is what C's strerror(errno) says after a failed step.
func errnoText(err error) string {
	t := errnoName(err)
	return strings.ToUpper(t[:1]) + t[1:]
}

func errnoName(err error) string {
	var en syscall.Errno
	switch {
	case errors.As(err, &en):
		return en.Error()
	case errors.Is(err, errCanceled):
		return syscall.ECANCELED.Error()
	case errors.Is(err, ErrConvertPending):
		return syscall.EBUSY.Error()
	case errors.Is(err, os.ErrNotExist):
		return syscall.ENOENT.Error()
	}
	return syscall.EINVAL.Error()
}

// releaseNumber parses "major.minor" as C's conv_version: one digit, a
// dot, one or two digits; -1 if malformed.
func releaseNumber(s string) int {
	if len(s) < 3 || len(s) > 4 || s[1] != '.' {
		return -1
	}
	for _, i := range []int{0, 2, len(s) - 1} {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
	}
	v := int(s[0]-'0')*100 + int(s[2]-'0')
	if len(s) == 4 {
		v = int(s[0]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	}
	return v
}

// layoutNumber parses a layout number as C's conv_layout_version: a
// decimal up to INT_MAX; -1 if malformed.
func layoutNumber(s string) int {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > 1<<31-1 {
		return -1
	}
	return int(v)
}

// layoutString names a layout and its releases: "v4 (PMDK 1.3, PMDK 1.4)".
func layoutString(l int) string {
	rs := ObjLayoutReleases(l)
	for i, r := range rs {
		rs[i] = "PMDK " + r
	}
	return fmt.Sprintf("v%d (%s)", l, strings.Join(rs, ", "))
}

func longName(long map[string]byte, opt byte) string {
	for n, o := range long {
		if o == opt {
			return n
		}
	}
	return ""
}

func convertHelp(out io.Writer) {
	fmt.Fprint(out, convertUsageLine)
	fmt.Fprintf(out, "pmdk-convert %s\n\n", ConvertVersion)
	fmt.Fprint(out, "Options:\n"+
		"  -V, --version              display version\n"+
		"  -h, --help                 display this help and exit\n"+
		"  -f, --from=version         convert from specified PMDK version\n"+
		"  -t, --to=version           convert to specified PMDK version\n"+
		"  -F, --from-layout=version  convert from specified layout version\n"+
		"  -T, --to-layout=version    convert to specified layout version\n"+
		"  -X, --force-yes=[question] reply positively to specified question\n"+
		"                             possible questions:\n"+
		"                             - fail-safety\n"+
		"                             - 1.2-pmemmutex\n\n")
	fmt.Fprint(out, "Supported pools layouts (corresponding PMDK versions)\n")
	for l := ObjLayoutFirst; l <= ObjLayoutCurrent; l++ {
		fmt.Fprintf(out, "    %s\n", layoutString(l))
	}
}

// convertPoolset refuses a poolset file, which this converter does not
// handle (C converts local poolsets and refuses remote replicas).
func convertPoolset(path string, errw io.Writer) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(errw, "open failed: %s\n", errnoText(err))
		return convOpenFailed, true
	}
	defer f.Close()
	b := make([]byte, 12)
	n, _ := io.ReadFull(f, b)
	if string(b[:n]) == "PMEMPOOLSET\n" {
		fmt.Fprint(errw, "Poolsets are not supported by this pmdk-convert; convert a single-file pool.\n")
		return convRemote, true
	}
	return 0, false
}
