/*
 * objtx: the transaction workload of obj/objtest (Transactions) seen from
 * C libpmemobj. Its root is objtest.TxRoot: eight accounts whose balances
 * sum to 8000, a linked list with a length field, a 40 KiB blob whose
 * bytes are all equal, and a generation counter.
 *
 * usage:
 *   objtx layout
 *	prints the sizes and offsets of the structures below, which the Go
 *	test compares with objtest's.
 *   objtx check POOL [TYPE]
 *	opens POOL (C's recovery), checks the invariants (the sum of the
 *	balances, the list walk against its length field, the blob, and the
 *	objects of pmemobj_first/next: exactly the accounts, the blob and the
 *	list nodes, with their type numbers, and any number of objects of
 *	type TYPE if given: the test's log buffers), prints
 *	"state <state> objs=<off>:<type>,..." and closes it; then
 *	pmemobj_check(POOL) must return 1. Exit status 1 on a violation.
 *   objtx loop POOL SEED
 *	opens POOL, checks it as above, prints "start <state>", then runs
 *	transactions chosen by SEED (transfers, list pushes and pops through
 *	pmemobj_tx_zalloc/pmemobj_tx_free, aborted transactions, transactions
 *	snapshotting the whole blob, more than the lane's undo log holds,
 *	reallocations of the blob, nested transactions), each holding the
 *	mutex that follows the workload's root (struct looproot), until it
 *	is killed: before each one it prints
 *	"next <name> <state>", its name and the state it leaves if it
 *	commits (the current one for an abort), and "ok" once it has ended
 *	and the pool was read back as that state. Lines go out with write(2), unbuffered:
 *	a line the reader got was printed before the process went on.
 *
 * <state> is "gen=G blob=B bal=b0,...,b7 list=v0,v1,..." (head first).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpmemobj.h>

#define NACC 8
#define TOTAL 8000
#define BLOB_SIZE (40 << 10)
#define MAX_LIST 16
#define MAX_OBJS 4096

enum { TYPE_ACCOUNT = 1, TYPE_NODE = 2, TYPE_BLOB = 3 };

struct account {
	int64_t balance;
	uint64_t id;
};

struct node {
	PMEMoid next;
	uint64_t value;
};

struct txroot {
	PMEMoid accounts[NACC];
	PMEMoid head;
	uint64_t len;
	PMEMoid blob;
	uint64_t gen;
};

/* The loop's root: the workload's, then a lock its transactions take
 * (TX_PARAM_MUTEX) and Go's take too. */
struct looproot {
	struct txroot t;
	PMEMmutex lock;
};

struct state {
	int64_t bal[NACC];
	uint64_t list[MAX_OBJS];
	size_t n;
	unsigned blob;
	uint64_t gen;
};

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "objtx: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* out writes a line to stdout at once; a failed write ends the program. */
static void out(const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(1, s, n);
		if (w <= 0)
			_exit(5);
		s += w;
		n -= (size_t)w;
	}
}

static char *format_state(char *buf, size_t size, const struct state *s)
{
	size_t k = (size_t)snprintf(buf, size, "gen=%llu blob=%u bal=", (unsigned long long)s->gen, s->blob);
	for (int i = 0; i < NACC && k < size; i++)
		k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? "," : "", (long long)s->bal[i]);
	k += (size_t)snprintf(buf + k, size > k ? size - k : 0, " list=");
	for (size_t i = 0; i < s->n && k < size; i++)
		k += (size_t)snprintf(buf + k, size - k, "%s%llu", i ? "," : "", (unsigned long long)s->list[i]);
	if (k >= size)
		die("state line too long");
	return buf;
}

struct obj {
	uint64_t off, type;
	int named;
};

static struct obj objs[MAX_OBJS];
static size_t nobjs;
static uint64_t unnamed_type; /* objects of this type need no name (0: none) */

/* find returns the object at oid, which must have type type, hold size
 * bytes and carry the pool's uuid_lo; it marks it named (once). */
static struct obj *find(PMEMoid oid, uint64_t uuid_lo, uint64_t type, size_t size, const char *what)
{
	if (OID_IS_NULL(oid))
		die("%s is null", what);
	if (oid.pool_uuid_lo != uuid_lo)
		die("%s carries uuid_lo %#llx, the pool's is %#llx", what,
			(unsigned long long)oid.pool_uuid_lo, (unsigned long long)uuid_lo);
	for (size_t i = 0; i < nobjs; i++) {
		if (objs[i].off != oid.off)
			continue;
		if (objs[i].type != type)
			die("%s at %#llx has type %llu, want %llu", what, (unsigned long long)oid.off,
				(unsigned long long)objs[i].type, (unsigned long long)type);
		if (objs[i].named)
			die("%s at %#llx is named twice", what, (unsigned long long)oid.off);
		if (pmemobj_alloc_usable_size(oid) < size)
			die("%s at %#llx has %zu usable bytes, want %zu", what, (unsigned long long)oid.off,
				pmemobj_alloc_usable_size(oid), size);
		objs[i].named = 1;
		return &objs[i];
	}
	die("%s at %#llx is not an object of the pool", what, (unsigned long long)oid.off);
	return NULL;
}

/* read_state reads and checks the workload's state: every OID it follows
 * names an object pmemobj_first/next found, of the right type, and every
 * object is named once. */
static void read_state(PMEMobjpool *pop, struct txroot *r, struct state *s)
{
	nobjs = 0;
	PMEMoid o;
	POBJ_FOREACH(pop, o) {
		if (nobjs == MAX_OBJS)
			die("more than %d objects", MAX_OBJS);
		objs[nobjs].off = o.off;
		objs[nobjs].type = pmemobj_type_num(o);
		objs[nobjs].named = unnamed_type != 0 && objs[nobjs].type == unnamed_type;
		nobjs++;
	}
	uint64_t uuid_lo = pmemobj_oid(r).pool_uuid_lo;
	int64_t sum = 0;
	for (int i = 0; i < NACC; i++) {
		char what[32];
		snprintf(what, sizeof(what), "account %d", i);
		find(r->accounts[i], uuid_lo, TYPE_ACCOUNT, sizeof(struct account), what);
		struct account *a = pmemobj_direct(r->accounts[i]);
		s->bal[i] = a->balance;
		sum += a->balance;
	}
	if (sum != TOTAL)
		die("the balances sum to %lld, not %d", (long long)sum, TOTAL);
	s->n = 0;
	for (PMEMoid n = r->head; !OID_IS_NULL(n);) {
		if (s->n == MAX_OBJS)
			die("the list loops");
		find(n, uuid_lo, TYPE_NODE, sizeof(struct node), "list node");
		struct node *np = pmemobj_direct(n);
		s->list[s->n++] = np->value;
		n = np->next;
	}
	if (s->n != r->len)
		die("a list of %zu nodes, length field %llu", s->n, (unsigned long long)r->len);
	find(r->blob, uuid_lo, TYPE_BLOB, BLOB_SIZE, "blob");
	const unsigned char *b = pmemobj_direct(r->blob);
	for (size_t i = 1; i < BLOB_SIZE; i++)
		if (b[i] != b[0])
			die("the blob is torn at byte %zu: %u after %u", i, b[i], b[0]);
	s->blob = b[0];
	s->gen = r->gen;
	for (size_t i = 0; i < nobjs; i++)
		if (!objs[i].named)
			die("object %#llx of type %llu is named by nothing (a leak)",
				(unsigned long long)objs[i].off, (unsigned long long)objs[i].type);
}

static PMEMobjpool *open_pool(const char *path, struct txroot **r, size_t root_size)
{
	PMEMobjpool *pop = pmemobj_open(path, NULL);
	if (pop == NULL)
		die("pmemobj_open %s: %s", path, pmemobj_errormsg());
	if (pmemobj_root_size(pop) < root_size)
		die("root of %zu bytes, want %zu", pmemobj_root_size(pop), root_size);
	PMEMoid root = pmemobj_root(pop, root_size);
	if (OID_IS_NULL(root))
		die("pmemobj_root: %s", pmemobj_errormsg());
	*r = pmemobj_direct(root);
	return pop;
}

static int check(const char *path)
{
	static struct state s;
	static char line[1 << 16];
	struct txroot *r;
	PMEMobjpool *pop = open_pool(path, &r, sizeof(struct txroot));
	read_state(pop, r, &s);
	format_state(line, sizeof(line), &s);
	size_t k = strlen(line);
	k += (size_t)snprintf(line + k, sizeof(line) - k, " objs=");
	for (size_t i = 0; i < nobjs && k < sizeof(line); i++)
		k += (size_t)snprintf(line + k, sizeof(line) - k, "%s%llu:%llu", i ? "," : "",
			(unsigned long long)objs[i].off, (unsigned long long)objs[i].type);
	if (k >= sizeof(line))
		die("state line too long");
	pmemobj_close(pop);
	int ret = pmemobj_check(path, NULL);
	if (ret != 1)
		die("pmemobj_check after recovery: %d (%s)", ret, pmemobj_errormsg());
	printf("state %s\n", line);
	return 0;
}

/* The loop's random numbers: xorshift64*, seeded from the command line. */
static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (rng * 0x2545F4914F6CDD1DULL) % n;
}

static struct account *account(struct txroot *r, int i)
{
	return pmemobj_direct(r->accounts[i]);
}

/* bump snapshots the generation and increments it: every committed
 * transaction of the loop does. */
static void bump(struct txroot *r)
{
	pmemobj_tx_add_range_direct(&r->gen, sizeof(r->gen));
	r->gen++;
}

static void move(struct txroot *r, int from, int to, int64_t amount)
{
	struct account *a = account(r, from), *b = account(r, to);
	pmemobj_tx_add_range(r->accounts[from], 0, sizeof(*a));
	a->balance -= amount;
	pmemobj_tx_add_range_direct(&b->balance, sizeof(b->balance));
	b->balance += amount;
}

/* head_and_len snapshots the root's head and len fields, adjacent. */
static void head_and_len(struct txroot *r)
{
	pmemobj_tx_add_range_direct(&r->head, sizeof(r->head) + sizeof(r->len));
}

static void push(struct txroot *r, uint64_t v)
{
	PMEMoid n = pmemobj_tx_zalloc(sizeof(struct node), TYPE_NODE);
	struct node *np = pmemobj_direct(n);
	np->value = v;
	np->next = r->head;
	head_and_len(r);
	r->head = n;
	r->len++;
}

static void pop_head(struct txroot *r)
{
	PMEMoid head = r->head;
	struct node *np = pmemobj_direct(head);
	head_and_len(r);
	r->head = np->next;
	r->len--;
	pmemobj_tx_free(head);
}

enum op { TRANSFER, PUSH, POP, BIG, REALLOC, NESTED, ABORT, ABORT_BIG };

static const char *const op_names[] = { "transfer", "push", "pop", "big", "realloc", "nested", "abort", "abort-big" };

/* The sizes the blob is reallocated to: run and huge allocations. */
static const size_t blob_sizes[] = { BLOB_SIZE, 90 << 10, 300 << 10 };

/* choose picks the next transaction: transfers most often, list pushes
 * and pops (a push on a full list pops, a pop on an empty one pushes),
 * blob rewrites and reallocations, nested transactions and aborted ones. */
static enum op choose(const struct state *s)
{
	uint64_t x = rnd(100);
	enum op op = x < 42 ? TRANSFER : x < 54 ? PUSH : x < 66 ? POP : x < 73 ? BIG : x < 76 ? REALLOC :
		x < 88 ? NESTED : x < 94 ? ABORT : ABORT_BIG;
	if (op == PUSH && s->n >= MAX_LIST)
		op = POP;
	else if (op == POP && s->n == 0)
		op = PUSH;
	return op;
}

static void list_push(struct state *s, uint64_t v)
{
	memmove(s->list + 1, s->list, s->n * sizeof(s->list[0]));
	s->list[0] = v;
	s->n++;
}

static void list_pop(struct state *s)
{
	memmove(s->list, s->list + 1, (s->n - 1) * sizeof(s->list[0]));
	s->n--;
}

_Noreturn static void loop(const char *path, uint64_t seed)
{
	static struct state s, next, got;
	static char line[1 << 16], want[1 << 16];
	struct txroot *r;
	/* Never outlive a test that lost track of this process, nor wait for
	 * a lock forever: the test sees SIGALRM instead of its SIGKILL. */
	alarm(60);
	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	PMEMobjpool *pop = open_pool(path, &r, sizeof(struct looproot));
	PMEMmutex *lock = &((struct looproot *)r)->lock;
	read_state(pop, r, &s);
	out("start ");
	out(format_state(line, sizeof(line), &s));
	out("\n");
	for (;;) {
		enum op op = choose(&s);
		int from = (int)rnd(NACC), to = (int)((uint64_t)from + 1 + rnd(NACC - 1)) % NACC;
		int64_t amount = (int64_t)rnd(500) - 100;
		int nested_pop = op == NESTED && s.n >= MAX_LIST;
		next = s;
		switch (op) {
		case TRANSFER:
			next.bal[from] -= amount;
			next.bal[to] += amount;
			break;
		case PUSH:
			list_push(&next, s.gen + 1);
			break;
		case POP:
			list_pop(&next);
			break;
		case BIG:
			next.blob = (s.blob + 1) % 251;
			next.bal[2] -= 7;
			next.bal[3] += 7;
			break;
		case NESTED:
			if (nested_pop)
				list_pop(&next);
			else
				list_push(&next, s.gen + 1);
			next.bal[5] -= 11;
			next.bal[6] += 11;
			break;
		case REALLOC:
		case ABORT:
		case ABORT_BIG:
			break;
		}
		size_t blob_size = blob_sizes[rnd(3)];
		int want_abort = op == ABORT || op == ABORT_BIG;
		if (!want_abort)
			next.gen++;
		out("next ");
		out(op_names[op]);
		out(" ");
		out(format_state(line, sizeof(line), &next));
		out("\n");

		volatile int aborted = 0;
		TX_BEGIN_PARAM(pop, TX_PARAM_MUTEX, lock, TX_PARAM_NONE) {
			switch (op) {
			case TRANSFER:
				move(r, from, to, amount);
				break;
			case PUSH:
				push(r, s.gen + 1);
				break;
			case POP:
				pop_head(r);
				break;
			case BIG:
				/* 40 KiB of snapshots: more than the lane's undo
				 * log and its first extension hold */
				pmemobj_tx_add_range(r->blob, 0, BLOB_SIZE);
				memset(pmemobj_direct(r->blob), (int)next.blob, BLOB_SIZE);
				move(r, 2, 3, 7);
				break;
			case REALLOC:
				/* a new object, the blob's bytes copied, the old one freed */
				pmemobj_tx_add_range_direct(&r->blob, sizeof(r->blob));
				r->blob = pmemobj_tx_realloc(r->blob, blob_size, TYPE_BLOB);
				break;
			case NESTED:
				if (nested_pop)
					pop_head(r);
				else
					push(r, s.gen + 1);
				TX_BEGIN_PARAM(pop, TX_PARAM_MUTEX, lock, TX_PARAM_NONE) {
					move(r, 5, 6, 11);
				} TX_END
				break;
			case ABORT:
			case ABORT_BIG:
				/* change everything, then abort */
				move(r, from, to, 12345);
				if (s.n > 0)
					pop_head(r);
				push(r, 77777);
				r->len = 99;
				if (op == ABORT_BIG) {
					pmemobj_tx_add_range(r->blob, 0, BLOB_SIZE);
					memset(pmemobj_direct(r->blob), 0xee, BLOB_SIZE);
				}
				bump(r);
				pmemobj_tx_abort(ECANCELED);
				break;
			}
			bump(r);
		} TX_ONABORT {
			aborted = 1;
		} TX_END
		if (aborted != want_abort)
			die("%s: aborted %d, want %d (%s)", op_names[op], aborted, want_abort, pmemobj_errormsg());
		read_state(pop, r, &got);
		format_state(line, sizeof(line), &got);
		format_state(want, sizeof(want), &next);
		if (strcmp(line, want) != 0)
			die("after %s the pool holds %s, want %s", op_names[op], line, want);
		s = next;
		out("ok\n");
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "layout") == 0) {
		printf("root %zu accounts %zu head %zu len %zu blob %zu gen %zu account %zu balance %zu id %zu node %zu next %zu value %zu looproot %zu lock %zu\n",
			sizeof(struct txroot), offsetof(struct txroot, accounts), offsetof(struct txroot, head),
			offsetof(struct txroot, len), offsetof(struct txroot, blob), offsetof(struct txroot, gen),
			sizeof(struct account), offsetof(struct account, balance), offsetof(struct account, id),
			sizeof(struct node), offsetof(struct node, next), offsetof(struct node, value),
			sizeof(struct looproot), offsetof(struct looproot, lock));
		return 0;
	}
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "check") == 0) {
		if (argc == 4)
			unnamed_type = strtoull(argv[3], NULL, 10);
		return check(argv[2]);
	}
	if (argc == 4 && strcmp(argv[1], "loop") == 0)
		loop(argv[2], strtoull(argv[3], NULL, 10));
	fprintf(stderr, "usage: %s layout | check POOL [TYPE] | loop POOL SEED\n", argv[0]);
	return 2;
}
