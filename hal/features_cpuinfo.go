package hal

import "strings"

// cpuinfoFlushFlags finds the flush flags in the first "flags" line of a
// /proc/cpuinfo text.
func cpuinfoFlushFlags(text string) (clflush, clflushopt, clwb bool) {
	for line := range strings.Lines(text) {
		key, val, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(key) != "flags" {
			continue
		}
		for _, fl := range strings.Fields(val) {
			switch fl {
			case "clflush":
				clflush = true
			case "clflushopt":
				clflushopt = true
			case "clwb":
				clwb = true
			}
		}
		break
	}
	return clflush, clflushopt, clwb
}
