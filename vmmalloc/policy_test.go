package vmmalloc

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/gopmdk/pmdk/vmem"
)

var update = flag.Bool("update", false, "rewrite shim/policy.h from vmem.AllocatorPolicy")

// The shim's constants and tables are vmem's: the committed header is what
// vmem's policy renders to.
func TestPolicyHeader(t *testing.T) {
	want := policyHeader(vmem.AllocatorPolicy())
	if *update {
		if err := os.WriteFile("shim/policy.h", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("shim/policy.h")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("shim/policy.h differs from vmem.AllocatorPolicy: run go test -run TestPolicyHeader -update")
	}
}
