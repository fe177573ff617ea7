//go:build cpeer && cgo

package cobj

/*
#include <stdint.h>
#include <string.h>
#include <libpmemobj.h>

// The layout of a containers.VectorHead: the elements' object, the
// length, the capacity.
struct gopmdk_vec {
	PMEMoid data;
	uint64_t n;
	uint64_t cap;
};

// n push_backs of uint64 into the vector at head, each in its own
// transaction, as libpmemobj-cpp's vector::push_back makes them: a full
// vector is reallocated (the next power of two, at least 8) inside the
// transaction, the new slot registered without a snapshot, the length
// snapshotted. Every round pushes free the elements (a transaction).
static int gopmdk_vec_push_n(PMEMobjpool *pop, PMEMoid head, long n, long round) {
	struct gopmdk_vec *v = pmemobj_direct(head);
	int failed = 0;
	for (long i = 0; i < n && !failed; i++) {
		TX_BEGIN(pop) {
			if (i % round == round - 1) {
				pmemobj_tx_add_range_direct(v, sizeof(*v));
				pmemobj_tx_free(v->data);
				v->data = OID_NULL;
				v->n = v->cap = 0;
			} else {
				if (v->n == v->cap) {
					uint64_t c = v->cap < 8 ? 8 : v->cap * 2;
					PMEMoid o = pmemobj_tx_alloc(c * sizeof(uint64_t), 0x706300000001ULL);
					if (v->n)
						memcpy(pmemobj_direct(o), pmemobj_direct(v->data), v->n * sizeof(uint64_t));
					if (!OID_IS_NULL(v->data))
						pmemobj_tx_free(v->data);
					pmemobj_tx_add_range_direct(v, sizeof(*v));
					v->data = o;
					v->cap = c;
				}
				uint64_t *slot = (uint64_t *)pmemobj_direct(v->data) + v->n;
				pmemobj_tx_xadd_range_direct(slot, sizeof(*slot), POBJ_XADD_NO_SNAPSHOT);
				*slot = (uint64_t)i;
				pmemobj_tx_add_range_direct(&v->n, sizeof(v->n));
				v->n++;
			}
		} TX_ONABORT {
			failed = 1;
		} TX_END
	}
	return failed ? -1 : 0;
}

// n reads of elements (at(i): bounds checked, i from 0 up, wrapping)
// of the vector at head; returns their sum.
static uint64_t gopmdk_vec_get_n(PMEMobjpool *pop, PMEMoid head, long n) {
	struct gopmdk_vec *v = pmemobj_direct(head);
	uint64_t sum = 0, i = 0;
	for (long k = 0; k < n; k++) {
		if (i >= v->n)
			i = 0;
		sum += ((uint64_t *)pmemobj_direct(v->data))[i++];
	}
	return sum;
}
*/
import "C"

// VectorPushN makes n push_backs of uint64 into the vector whose
// containers.VectorHead is the object head, in a C loop: one transaction
// each, as libpmemobj-cpp's vector (see the C above); every round-th
// transaction frees the elements instead.
func (p *Pool) VectorPushN(head OID, n, round int) error {
	if r, err := C.gopmdk_vec_push_n(p.p, head.c(), C.long(n), C.long(round)); r != 0 {
		return lastError("vector push", err)
	}
	return nil
}

// VectorGetN reads n elements of the vector at head in a C loop (0 up,
// wrapping at the length) and returns their sum.
func (p *Pool) VectorGetN(head OID, n int) uint64 {
	return uint64(C.gopmdk_vec_get_n(p.p, head.c(), C.long(n)))
}
