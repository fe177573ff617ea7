// Package core maps persistent memory and makes stores to it persistent: the
// Go counterpart of libpmem2 and libpmem. It also holds what every pool type
// shares (the pool header, the shutdown state, poolsets) in subpackages, and
// the crash simulator (package crashsim) that proves crash consistency.
//
// core imports only hal from gopmdk.
package core
