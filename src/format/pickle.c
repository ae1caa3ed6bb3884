#include "pickle.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "model-reader.h"
#include "wrapper.h"
#include "banned.h"

#define MAX_STACK (1u << 20)

static const struct storage_type {
	const char *name, *dtype;
} storage_types[] = {
	{ "DoubleStorage", "F64" },
	{ "FloatStorage", "F32" },
	{ "HalfStorage", "F16" },
	{ "BFloat16Storage", "BF16" },
	{ "LongStorage", "I64" },
	{ "IntStorage", "I32" },
	{ "ShortStorage", "I16" },
	{ "CharStorage", "I8" },
	{ "ByteStorage", "U8" },
	{ "BoolStorage", "BOOL" },
	{ "Float8_e4m3fnStorage", "F8_E4M3" },
	{ "Float8_e5m2Storage", "F8_E5M2" },
};

struct unpickler {
	struct pickle *p;
	struct strbuf *err;
	const unsigned char *buf;
	size_t len, pos;
	struct pickle_value **stack;
	size_t sp, stack_alloc;
	size_t *marks;
	size_t nr_marks, marks_alloc;
	struct pickle_value **memo;
	size_t memo_alloc, memo_count; /* slots, and those set */
};

static int fail(struct unpickler *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct unpickler *u, const char *fmt, ...)
{
	va_list ap;

	if (u->err->len) /* the first reason wins */
		return -1;
	strbuf_addstr(u->err, "pickle: ");
	va_start(ap, fmt);
	strbuf_vaddf(u->err, fmt, ap);
	va_end(ap);
	strbuf_addf(u->err, " (at byte %zu)", u->pos);
	return -1;
}

static struct pickle_value *new_value(struct unpickler *u,
				      enum pickle_type type)
{
	struct pickle_value *v;

	if (u->p->nr >= PICKLE_MAX_VALUES) {
		fail(u, "more than %u values", PICKLE_MAX_VALUES);
		return NULL;
	}
	v = xcalloc(1, sizeof(*v));
	v->type = type;
	ALLOC_GROW(u->p->all, u->p->nr + 1, u->p->alloc);
	u->p->all[u->p->nr++] = v;
	return v;
}

static int push(struct unpickler *u, struct pickle_value *v)
{
	if (!v)
		return -1;
	if (u->sp >= MAX_STACK)
		return fail(u, "stack deeper than %u", MAX_STACK);
	ALLOC_GROW(u->stack, u->sp + 1, u->stack_alloc);
	u->stack[u->sp++] = v;
	return 0;
}

/* The lowest stack index above the last mark: items from there are its. */
static size_t stack_floor(struct unpickler *u)
{
	return u->nr_marks ? u->marks[u->nr_marks - 1] : 0;
}

static struct pickle_value *pop(struct unpickler *u)
{
	if (u->sp <= stack_floor(u)) {
		fail(u, "stack underflow");
		return NULL;
	}
	return u->stack[--u->sp];
}

static struct pickle_value *top(struct unpickler *u)
{
	if (u->sp <= stack_floor(u)) {
		fail(u, "stack underflow");
		return NULL;
	}
	return u->stack[u->sp - 1];
}

/* Pop the last mark; `*from` is where its items start on the stack. */
static int pop_mark(struct unpickler *u, size_t *from)
{
	if (!u->nr_marks)
		return fail(u, "no mark on the stack");
	*from = u->marks[--u->nr_marks];
	return 0;
}

static void append_item(struct pickle_value *seq, struct pickle_value *v)
{
	ALLOC_GROW(seq->items, seq->nr + 1, seq->alloc);
	seq->items[seq->nr++] = v;
}

static const unsigned char *take(struct unpickler *u, size_t n)
{
	const unsigned char *p;

	if (n > u->len - u->pos) {
		fail(u, "truncated: %zu bytes wanted, %zu left", n,
		     u->len - u->pos);
		return NULL;
	}
	p = u->buf + u->pos;
	u->pos += n;
	return p;
}

static int take_le(struct unpickler *u, unsigned n, uint64_t *v)
{
	const unsigned char *p = take(u, n);

	*v = 0;
	if (!p)
		return -1;
	while (n--)
		*v = *v << 8 | p[n];
	return 0;
}

static int push_int(struct unpickler *u, int64_t i)
{
	struct pickle_value *v = new_value(u, PICKLE_INT);

	if (v)
		v->i = i;
	return push(u, v);
}

static int push_string(struct unpickler *u, enum pickle_type type,
		       unsigned len_bytes)
{
	uint64_t n;
	const unsigned char *s;
	struct pickle_value *v;

	if (take_le(u, len_bytes, &n))
		return -1;
	if (n > u->len - u->pos)
		return fail(u, "a string of %llu bytes, %zu left",
			    (unsigned long long)n, u->len - u->pos);
	s = take(u, n);
	v = new_value(u, type);
	if (!s || !v)
		return -1;
	v->str = xmalloc(n + 1);
	memcpy(v->str, s, n); /* NULs inside are kept, up to len */
	v->str[n] = '\0';
	v->len = n;
	return push(u, v);
}

static int memo_put(struct unpickler *u, uint64_t idx)
{
	struct pickle_value *v = top(u);

	if (!v)
		return -1;
	if (idx >= PICKLE_MAX_MEMO)
		return fail(u, "memo index %llu over the limit of %u",
			    (unsigned long long)idx, PICKLE_MAX_MEMO);
	if (idx >= u->memo_alloc) {
		size_t n = idx + 1 < 64 ? 64 : (idx + 1) * 2;

		if (n > PICKLE_MAX_MEMO)
			n = PICKLE_MAX_MEMO;
		u->memo = xrealloc(u->memo, n * sizeof(*u->memo));
		memset(u->memo + u->memo_alloc, 0,
		       (n - u->memo_alloc) * sizeof(*u->memo));
		u->memo_alloc = n;
	}
	if (!u->memo[idx])
		u->memo_count++;
	u->memo[idx] = v;
	return 0;
}

static int memo_get(struct unpickler *u, uint64_t idx)
{
	if (idx >= u->memo_alloc || !u->memo[idx])
		return fail(u, "memo index %llu was never set",
			    (unsigned long long)idx);
	return push(u, u->memo[idx]);
}

static int find_global(struct unpickler *u, const char *module,
		       size_t mlen, const char *name, size_t nlen)
{
	struct pickle_value *v;
	size_t i;

#define IS(s, l, lit) ((l) == sizeof(lit) - 1 && !memcmp((s), (lit), (l)))
	v = new_value(u, PICKLE_GLOBAL);
	if (!v)
		return -1;
	if (IS(module, mlen, "collections") && IS(name, nlen, "OrderedDict")) {
		v->global = PICKLE_G_ORDERED_DICT;
		return push(u, v);
	}
	if (IS(module, mlen, "torch._utils")) {
		if (IS(name, nlen, "_rebuild_tensor_v2"))
			v->global = PICKLE_G_REBUILD_TENSOR_V2;
		else if (IS(name, nlen, "_rebuild_parameter"))
			v->global = PICKLE_G_REBUILD_PARAMETER;
		else if (IS(name, nlen, "_rebuild_parameter_with_state"))
			v->global = PICKLE_G_REBUILD_PARAMETER_WITH_STATE;
		else
			goto refuse;
		return push(u, v);
	}
	if (IS(module, mlen, "torch") ||
	    (IS(module, mlen, "torch.storage") &&
	     IS(name, nlen, "UntypedStorage"))) {
		v->global = PICKLE_G_STORAGE_TYPE;
		if (IS(name, nlen, "UntypedStorage")) {
			xsnprintf(v->dtype, sizeof(v->dtype), "U8");
			v->elem_size = 1;
			return push(u, v);
		}
		for (i = 0; i < ARRAY_SIZE(storage_types); i++)
			if (nlen == strlen(storage_types[i].name) &&
			    !memcmp(name, storage_types[i].name, nlen)) {
				xsnprintf(v->dtype, sizeof(v->dtype), "%s",
					  storage_types[i].dtype);
				v->elem_size = model_dtype_size(v->dtype);
				return push(u, v);
			}
	}
#undef IS
refuse: {
	struct strbuf what = STRBUF_INIT;

	model_add_escaped(&what, module, mlen, 64);
	strbuf_addch(&what, ' ');
	model_add_escaped(&what, name, nlen, 64);
	fail(u, "global '%s' is not allowed (only what torch.save() writes)",
	     what.buf);
	strbuf_release(&what);
	return -1;
}
}

static int op_global(struct unpickler *u)
{
	const char *s = (const char *)u->buf + u->pos;
	size_t left = u->len - u->pos;
	const char *nl1 = memchr(s, '\n', left), *nl2;

	if (!nl1 || !(nl2 = memchr(nl1 + 1, '\n', left - (nl1 + 1 - s))))
		return fail(u, "truncated GLOBAL");
	u->pos += nl2 + 1 - s;
	return find_global(u, s, nl1 - s, nl1 + 1, nl2 - (nl1 + 1));
}

static int op_stack_global(struct unpickler *u)
{
	struct pickle_value *name = pop(u), *module = name ? pop(u) : NULL;

	if (!module)
		return -1;
	if (name->type != PICKLE_STR || module->type != PICKLE_STR)
		return fail(u, "STACK_GLOBAL of something that is not strings");
	return find_global(u, module->str, module->len, name->str, name->len);
}

static int get_u64(const struct pickle_value *v, uint64_t *out)
{
	if (v->type != PICKLE_INT || v->i < 0)
		return -1;
	*out = (uint64_t)v->i;
	return 0;
}

/* ('storage', storage type, key, location, numel) */
static int op_binpersid(struct unpickler *u)
{
	struct pickle_value *pid = pop(u), *v;
	const struct pickle_value *type;

	if (!pid)
		return -1;
	if (pid->type != PICKLE_TUPLE || pid->nr != 5 ||
	    pid->items[0]->type != PICKLE_STR ||
	    strcmp(pid->items[0]->str, "storage"))
		return fail(u, "a persistent id that is not a torch storage");
	type = pid->items[1];
	if (type->type != PICKLE_GLOBAL ||
	    type->global != PICKLE_G_STORAGE_TYPE)
		return fail(u, "a storage whose type is not a torch storage type");
	if (pid->items[2]->type != PICKLE_STR)
		return fail(u, "a storage whose key is not a string");
	v = new_value(u, PICKLE_STORAGE);
	if (!v)
		return -1;
	if (get_u64(pid->items[4], &v->numel))
		return fail(u, "a storage whose size is not a count");
	memcpy(v->dtype, type->dtype, sizeof(v->dtype));
	v->elem_size = type->elem_size;
	v->key = pid->items[2];
	return push(u, v);
}

static int read_dims(struct unpickler *u, const struct pickle_value *t,
		     uint64_t *out, const char *what)
{
	size_t i;

	if (t->type != PICKLE_TUPLE || t->nr > MODEL_MAX_DIMS)
		return fail(u, "a tensor %s that is not a tuple of at most %d",
			    what, MODEL_MAX_DIMS);
	for (i = 0; i < t->nr; i++)
		if (get_u64(t->items[i], &out[i]))
			return fail(u, "a tensor %s that is not counts", what);
	return 0;
}

/*
 * _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata])
 */
static int rebuild_tensor(struct unpickler *u, const struct pickle_value *args)
{
	struct pickle_value *t;

	if (args->nr < 4 || args->items[0]->type != PICKLE_STORAGE)
		return fail(u, "_rebuild_tensor_v2 without a storage");
	t = new_value(u, PICKLE_TENSOR);
	if (!t)
		return -1;
	t->storage = args->items[0];
	memcpy(t->dtype, t->storage->dtype, sizeof(t->dtype));
	t->elem_size = t->storage->elem_size;
	if (get_u64(args->items[1], &t->storage_offset))
		return fail(u, "a tensor storage offset that is not a count");
	if (read_dims(u, args->items[2], t->shape, "size") ||
	    read_dims(u, args->items[3], t->stride, "stride"))
		return -1;
	if (args->items[2]->nr != args->items[3]->nr)
		return fail(u, "a tensor with %zu dims and %zu strides",
			    args->items[2]->nr, args->items[3]->nr);
	t->ndim = args->items[2]->nr;
	return push(u, t);
}

static int op_reduce(struct unpickler *u)
{
	struct pickle_value *args = pop(u), *f = args ? pop(u) : NULL;

	if (!f)
		return -1;
	if (f->type != PICKLE_GLOBAL || args->type != PICKLE_TUPLE)
		return fail(u, "REDUCE of something that is not an allowed global");
	switch (f->global) {
	case PICKLE_G_ORDERED_DICT:
		if (args->nr)
			return fail(u, "OrderedDict with arguments");
		return push(u, new_value(u, PICKLE_DICT));
	case PICKLE_G_REBUILD_TENSOR_V2:
		return rebuild_tensor(u, args);
	case PICKLE_G_REBUILD_PARAMETER:
	case PICKLE_G_REBUILD_PARAMETER_WITH_STATE:
		if (!args->nr || args->items[0]->type != PICKLE_TENSOR)
			return fail(u, "_rebuild_parameter without a tensor");
		return push(u, args->items[0]);
	case PICKLE_G_STORAGE_TYPE:
		break;
	}
	return fail(u, "REDUCE of a storage type");
}

/* BUILD sets an object's state: kept for none of ours, but allowed. */
static int op_build(struct unpickler *u)
{
	struct pickle_value *state = pop(u), *obj = state ? top(u) : NULL;

	if (!obj)
		return -1;
	if (obj->type != PICKLE_DICT && obj->type != PICKLE_TENSOR)
		return fail(u, "BUILD of something that is not a dict or tensor");
	return 0;
}

static int op_tuple(struct unpickler *u, size_t from)
{
	struct pickle_value *t = new_value(u, PICKLE_TUPLE);
	size_t i;

	if (!t)
		return -1;
	for (i = from; i < u->sp; i++)
		append_item(t, u->stack[i]);
	u->sp = from;
	return push(u, t);
}

static int op_setitems(struct unpickler *u, size_t from)
{
	struct pickle_value *d;
	size_t i;

	if (from <= stack_floor(u) || (u->sp - from) % 2)
		return fail(u, "SETITEMS without a dict or with an odd count");
	d = u->stack[from - 1];
	if (d->type != PICKLE_DICT)
		return fail(u, "SETITEM on something that is not a dict");
	for (i = from; i < u->sp; i++)
		append_item(d, u->stack[i]);
	u->sp = from;
	return 0;
}

static int op_appends(struct unpickler *u, size_t from)
{
	struct pickle_value *l;
	size_t i;

	if (from <= stack_floor(u))
		return fail(u, "APPENDS without a list");
	l = u->stack[from - 1];
	if (l->type != PICKLE_LIST)
		return fail(u, "APPEND to something that is not a list");
	for (i = from; i < u->sp; i++)
		append_item(l, u->stack[i]);
	u->sp = from;
	return 0;
}

static int step(struct unpickler *u, int op)
{
	struct pickle_value *v;
	uint64_t n;
	size_t from = 0;

	switch (op) {
	case 0x80: /* PROTO */
		return take_le(u, 1, &n) ? -1 :
		       n >= 2 && n <= 5 ? 0 :
					  fail(u, "protocol %llu", (unsigned long long)n);
	case 0x95: /* FRAME: a length hint */
		return take_le(u, 8, &n);
	case '(': /* MARK */
		if (u->nr_marks >= MAX_STACK)
			return fail(u, "more than %u marks", MAX_STACK);
		ALLOC_GROW(u->marks, u->nr_marks + 1, u->marks_alloc);
		u->marks[u->nr_marks++] = u->sp;
		return 0;
	case '}': /* EMPTY_DICT */
		return push(u, new_value(u, PICKLE_DICT));
	case ']': /* EMPTY_LIST */
		return push(u, new_value(u, PICKLE_LIST));
	case ')': /* EMPTY_TUPLE */
		return op_tuple(u, u->sp);
	case 't': /* TUPLE */
		return pop_mark(u, &from) || op_tuple(u, from);
	case 0x85: case 0x86: case 0x87: /* TUPLE1..3 */
		n = op - 0x84;
		if (u->sp - stack_floor(u) < n)
			return fail(u, "stack underflow");
		return op_tuple(u, u->sp - n);
	case 'l': /* LIST */
	case 'd': /* DICT */
		if (pop_mark(u, &from))
			return -1;
		v = new_value(u, op == 'l' ? PICKLE_LIST : PICKLE_DICT);
		if (!v || push(u, v))
			return -1;
		/* the new container goes below its items */
		memmove(u->stack + from + 1, u->stack + from,
			(u->sp - 1 - from) * sizeof(*u->stack));
		u->stack[from] = v;
		return op == 'l' ? op_appends(u, from + 1)
				 : op_setitems(u, from + 1);
	case 's': /* SETITEM */
		if (u->sp - stack_floor(u) < 3)
			return fail(u, "stack underflow");
		return op_setitems(u, u->sp - 2);
	case 'u': /* SETITEMS */
		return pop_mark(u, &from) || op_setitems(u, from);
	case 'a': /* APPEND */
		if (u->sp - stack_floor(u) < 2)
			return fail(u, "stack underflow");
		return op_appends(u, u->sp - 1);
	case 'e': /* APPENDS */
		return pop_mark(u, &from) || op_appends(u, from);
	case 'K': /* BININT1 */
		return take_le(u, 1, &n) || push_int(u, (int64_t)n);
	case 'M': /* BININT2 */
		return take_le(u, 2, &n) || push_int(u, (int64_t)n);
	case 'J': /* BININT */
		return take_le(u, 4, &n) || push_int(u, (int32_t)(uint32_t)n);
	case 0x8a: { /* LONG1 */
		uint64_t len;

		if (take_le(u, 1, &len))
			return -1;
		if (len > 8)
			return fail(u, "an integer of %llu bytes",
				    (unsigned long long)len);
		if (take_le(u, len, &n))
			return -1;
		if (len && len < 8 && n >> (len * 8 - 1))
			n |= ~(uint64_t)0 << (len * 8);
		return push_int(u, (int64_t)n);
	}
	case 'G': { /* BINFLOAT, big-endian */
		const unsigned char *p = take(u, 8);
		uint64_t bits = 0;
		int i;

		if (!p)
			return -1;
		for (i = 0; i < 8; i++)
			bits = bits << 8 | p[i];
		v = new_value(u, PICKLE_FLOAT);
		if (!v)
			return -1;
		memcpy(&v->f, &bits, sizeof(v->f));
		return push(u, v);
	}
	case 'X': /* BINUNICODE */
		return push_string(u, PICKLE_STR, 4);
	case 0x8c: /* SHORT_BINUNICODE */
		return push_string(u, PICKLE_STR, 1);
	case 0x8d: /* BINUNICODE8 */
		return push_string(u, PICKLE_STR, 8);
	case 'B': /* BINBYTES */
		return push_string(u, PICKLE_BYTES, 4);
	case 'C': /* SHORT_BINBYTES */
		return push_string(u, PICKLE_BYTES, 1);
	case 0x88: /* NEWTRUE */
	case 0x89: /* NEWFALSE */
		v = new_value(u, PICKLE_BOOL);
		if (v)
			v->i = op == 0x88;
		return push(u, v);
	case 'N': /* NONE */
		return push(u, new_value(u, PICKLE_NONE));
	case 'q': /* BINPUT */
		return take_le(u, 1, &n) || memo_put(u, n);
	case 'r': /* LONG_BINPUT */
		return take_le(u, 4, &n) || memo_put(u, n);
	case 0x94: /* MEMOIZE */
		return memo_put(u, u->memo_count);
	case 'h': /* BINGET */
		return take_le(u, 1, &n) || memo_get(u, n);
	case 'j': /* LONG_BINGET */
		return take_le(u, 4, &n) || memo_get(u, n);
	case 'c': /* GLOBAL */
		return op_global(u);
	case 0x93: /* STACK_GLOBAL */
		return op_stack_global(u);
	case 'Q': /* BINPERSID */
		return op_binpersid(u);
	case 'R': /* REDUCE */
		return op_reduce(u);
	case 'b': /* BUILD */
		return op_build(u);
	case '0': /* POP */
		return pop(u) ? 0 : -1;
	case '1': /* POP_MARK */
		if (pop_mark(u, &from))
			return -1;
		u->sp = from;
		return 0;
	}
	return fail(u, "opcode 0x%02x is not allowed (only what torch.save() writes)",
		    op);
}

int pickle_load(struct pickle *p, const unsigned char *buf, size_t len,
		struct strbuf *err)
{
	struct unpickler u = { .p = p, .err = err, .buf = buf, .len = len };
	int ret = -1;

	while (u.pos < len) {
		int op = buf[u.pos++];

		if (op == '.') { /* STOP */
			if (u.sp != 1 || u.nr_marks) {
				fail(&u, "STOP with %zu values and %zu marks on the stack",
				     u.sp, u.nr_marks);
				goto out;
			}
			p->root = u.stack[0];
			ret = 0;
			goto out;
		}
		if (step(&u, op))
			goto out;
	}
	u.pos = len;
	fail(&u, "no STOP opcode");
out:
	free(u.stack);
	free(u.marks);
	free(u.memo);
	if (ret)
		pickle_release(p);
	return ret;
}

void pickle_release(struct pickle *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		free(p->all[i]->str);
		free(p->all[i]->items);
		free(p->all[i]);
	}
	free(p->all);
	memset(p, 0, sizeof(*p));
}
