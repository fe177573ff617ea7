package pmreorder

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// ParseMarkers reads pmreorder's marker-to-engine mapping (its -x): if s
// names a file, a JSON object of marker names and engine names
// ({"NAME": "ReorderFull"}); else NAME=Engine pairs separated by commas.
func ParseMarkers(s string) (map[string]Engine, error) {
	if st, err := os.Stat(s); err == nil && st.Mode().IsRegular() {
		b, err := os.ReadFile(s)
		if err != nil {
			return nil, fmt.Errorf("pmreorder: markers: %w", err)
		}
		return parseMarkerJSON(b)
	}
	m := map[string]Engine{}
	for pair := range strings.SplitSeq(s, ",") {
		name, engine, ok := strings.Cut(pair, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("pmreorder: markers %q: no such file, and not NAME=Engine pairs separated by commas", s)
		}
		e, err := ParseEngine(engine)
		if err != nil {
			return nil, fmt.Errorf("marker %s: %w", name, err)
		}
		m[name] = e
	}
	return m, nil
}

// parseMarkerJSON decodes a JSON object of marker names and engine names.
func parseMarkerJSON(b []byte) (map[string]Engine, error) {
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf(`pmreorder: markers file: want {"NAME": "Engine", ...}: %w`, err)
	}
	m := make(map[string]Engine, len(raw))
	for name, engine := range raw {
		e, err := ParseEngine(engine)
		if err != nil {
			return nil, fmt.Errorf("marker %s: %w", name, err)
		}
		m[name] = e
	}
	return m, nil
}
