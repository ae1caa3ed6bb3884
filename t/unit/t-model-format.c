/*
 * Unit tests for the model file readers (src/format/model-format.h):
 * format detection, what each reader finds in a well-formed file, and
 * the one-line reason it gives for each kind of hostile file.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model-format.h"
#include "pickle.h"
#include "strbuf.h"
#include "wrapper.h"
#include "unit-test.h"

static void put_le(struct strbuf *sb, uint64_t v, unsigned size)
{
	while (size--) {
		strbuf_addch(sb, (char)(v & 0xff));
		v >>= 8;
	}
}

/* A .safetensors file: header `json`, then `data_len` bytes 0, 1, 2... */
static void st_file(struct strbuf *sb, const char *json, size_t data_len)
{
	size_t i;

	strbuf_reset(sb);
	put_le(sb, strlen(json), 8);
	strbuf_addstr(sb, json);
	for (i = 0; i < data_len; i++)
		strbuf_addch(sb, (char)i);
}

static int read_buf(const struct strbuf *file, struct model_info *info,
		    struct strbuf *err)
{
	struct model_source src;
	struct model_mem mem;

	model_source_mem(&src, &mem, file->buf, file->len);
	strbuf_reset(err);
	return model_read(&src, info, err);
}

/* Expect `file` refused with a one-line reason holding `word`. */
static void reject(const struct strbuf *file, const char *word,
		   const char *what)
{
	struct model_info info = MODEL_INFO_INIT;
	struct strbuf err = STRBUF_INIT;
	int ret = read_buf(file, &info, &err);

	if (!ok(ret == -1 && strstr(err.buf, word) && !strchr(err.buf, '\n') &&
			!info.nr && !info.tensors && !info.metadata.len,
		"reject: %s", what))
		printf("# ret %d, error '%s', expected it to mention '%s'\n",
		       ret, err.buf, word);
	model_info_release(&info);
	strbuf_release(&err);
}

static void st_reject(const char *json, size_t data_len, const char *word,
		      const char *what)
{
	struct strbuf file = STRBUF_INIT;

	st_file(&file, json, data_len);
	reject(&file, word, what);
	strbuf_release(&file);
}

static void test_detect(void)
{
	static const unsigned char gguf[] = "GGUF\003\0\0\0";
	static const unsigned char zip[] = "PK\003\004\024\0\0\0";
	static const unsigned char pickle[] = "\200\002\212\012l\374\234F";
	static const unsigned char st[] = "\020\0\0\0\0\0\0\0{\"a\":1}";
	static const unsigned char st640[] = "\200\002\0\0\0\0\0\0{\"a\":1}";
	static const unsigned char onnx[] = "\010\007\022\007pytorch";
	static const unsigned char text[] = "version git-model/1\n";

	is_int(model_format_detect(gguf, 8, 100), MODEL_FORMAT_GGUF,
	       "detect: gguf");
	is_int(model_format_detect(zip, 8, 100), MODEL_FORMAT_TORCH_ZIP,
	       "detect: zip");
	is_int(model_format_detect(pickle, 8, 100), MODEL_FORMAT_TORCH_LEGACY,
	       "detect: a pickle is legacy torch");
	is_int(model_format_detect(st, 16, 100), MODEL_FORMAT_SAFETENSORS,
	       "detect: safetensors");
	/* a header of 640 bytes: its length starts as a pickle's PROTO 2 */
	is_int(model_format_detect(st640, 16, 1000), MODEL_FORMAT_SAFETENSORS,
	       "detect: safetensors whose length looks like a pickle");
	is_int(model_format_detect(onnx, 11, 100), MODEL_FORMAT_ONNX,
	       "detect: onnx");
	is_int(model_format_detect(text, 16, 100), MODEL_FORMAT_UNKNOWN,
	       "detect: a pointer is no model");
	is_int(model_format_detect(gguf, 2, 2), MODEL_FORMAT_UNKNOWN,
	       "detect: two bytes are no model");
	is_str(model_format_name(MODEL_FORMAT_TORCH_ZIP), "pytorch (zip)",
	       "name: pytorch (zip)");
	is_str(model_format_name(MODEL_FORMAT_TORCH_LEGACY), "pytorch (legacy)",
	       "name: pytorch (legacy)");
}

static void test_legacy_and_unknown(void)
{
	struct strbuf file = STRBUF_INIT;

	strbuf_add(&file, "\200\002\212\012l\374\234F\371 j\250P\031.", 16);
	reject(&file, "pytorch (legacy): ", "legacy torch is named, not read");
	strbuf_reset(&file);
	strbuf_addstr(&file, "hello\n");
	reject(&file, "not a known model format", "text");
	strbuf_reset(&file);
	reject(&file, "not a known model format", "an empty file");
	strbuf_release(&file);
}

static void test_safetensors_good(void)
{
	struct strbuf file = STRBUF_INIT, err = STRBUF_INIT;
	struct model_info info = MODEL_INFO_INIT;
	const char *json =
		"{\"__metadata__\":{\"format\":\"pt\",\"note\":\"a\\nb\"},"
		"\"b.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],"
		"\"data_offsets\":[0,24]},"
		"\"a.bias\":{\"dtype\":\"BF16\",\"shape\":[3],"
		"\"data_offsets\":[24,30]},"
		"\"step\":{\"dtype\":\"I64\",\"shape\":[],"
		"\"data_offsets\":[30,38]},"
		"\"empty\":{\"dtype\":\"F16\",\"shape\":[0,4],"
		"\"data_offsets\":[38,38]}}    ";
	uint64_t base = 8 + strlen(json);

	st_file(&file, json, 38);
	if (!ok(!read_buf(&file, &info, &err), "safetensors: read"))
		printf("# %s\n", err.buf);
	is_int(info.format, MODEL_FORMAT_SAFETENSORS, "safetensors: format");
	is_int(info.nr, 4, "safetensors: four tensors");
	if (info.nr == 4) {
		is_str(info.tensors[0].name, "b.weight", "first in file order");
		is_str(info.tensors[0].dtype, "F32", "its dtype");
		is_int(info.tensors[0].elem_size, 4, "its element size");
		ok(info.tensors[0].ndim == 2 && info.tensors[0].shape[0] == 2 &&
			   info.tensors[0].shape[1] == 3,
		   "its shape [2, 3]");
		is_int(info.tensors[0].offset, base, "its offset");
		is_int(info.tensors[0].length, 24, "its length");
		ok(info.tensors[0].contiguous, "it is contiguous");
		is_str(info.tensors[1].dtype, "BF16", "BF16");
		is_int(info.tensors[1].offset, base + 24, "second offset");
		is_int(info.tensors[2].ndim, 0, "a scalar has no dims");
		is_int(info.tensors[2].length, 8, "a scalar's length");
		is_int(info.tensors[3].length, 0, "an empty tensor");
	}
	is_str(info.metadata.buf, "format=pt\nnote=a\\nb\n",
	       "metadata, newline escaped");
	model_info_release(&info);
	is_int(info.nr, 0, "released");
	model_info_release(&info);
	ok(1, "released twice");
	strbuf_release(&file);
	strbuf_release(&err);
}

static void test_safetensors_hostile(void)
{
	struct strbuf file = STRBUF_INIT, bomb = STRBUF_INIT;
	int i;

	strbuf_reset(&file);
	put_le(&file, UINT64_C(1) << 63, 8);
	strbuf_addstr(&file, "{\"a\":{}}");
	reject(&file,
	       "safetensors: header length 9223372036854775808 is larger than the file",
	       "header length 2^63");

	st_file(&file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
		       "\"data_offsets\":[0,4]}}", 4);
	strbuf_setlen(&file, file.len - 10);
	reject(&file, "is larger than the file", "truncated header");

	strbuf_addch(&bomb, '{');
	for (i = 0; i < 100000; i++)
		strbuf_addstr(&bomb, "\"a\":{");
	st_reject(bomb.buf, 0, "nested too deep", "a JSON nesting bomb");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"x\":[[[[[[[[[1]]]]]]]]],"
		  "\"data_offsets\":[0,4]}}",
		  4, "nested too deep", "nesting deeper than 8");

	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[0,4]}",
		  4, "ends early", "JSON cut short");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[0,4]}}x",
		  4, "not valid JSON", "garbage after the JSON");
	st_reject("{\"a\":1}", 0, "lacks a dtype", "a tensor that is a number");
	st_reject("{\"a\":{\"dtype\":\"F31\",\"shape\":[1],"
		  "\"data_offsets\":[0,4]}}",
		  4, "unknown dtype 'F31'", "unknown dtype");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
		  "\"data_offsets\":[0,4]}}",
		  4, "9 dims", "too many dims");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],"
		  "\"data_offsets\":[0,4]}}",
		  4, "not non-negative integers", "negative dim");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],"
		  "\"data_offsets\":[0,4]}}",
		  4, "not non-negative integers", "a float dim");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,"
		  "4611686018427387904],\"data_offsets\":[0,0]}}",
		  0, "shape too large", "a shape whose size overflows");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,"
		  "4611686018427387904],\"data_offsets\":[0,0]}}",
		  0, "shape too large",
		  "an empty tensor whose other dim's bytes overflow");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[0,8]}}",
		  4, "[0, 8] not inside the 4 bytes", "end past the data");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[4,0]}}",
		  4, "not inside", "end before begin");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[0,18446744073709551615]}}",
		  4, "not inside", "end 2^64-1");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
		  "\"data_offsets\":[0,4]}}",
		  4, "has 4 bytes of data, its dtype and shape need 8",
		  "length not shape times size");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[0,4]},"
		  "\"b\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[2,6]}}",
		  6, "overlaps", "overlapping tensors");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[4,8]}}",
		  8, "leaves a hole", "a hole before a tensor");
	st_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[0,4]}}",
		  6, "the tensors' data ends at",
		  "bytes after the last tensor");
	st_reject("{\"a\\u0001\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[0,4]}}",
		  4, "control character 0x01", "a control character in a name");
	st_reject("{\"__metadata__\":{\"a\":1}}", 0, "is not a string",
		  "metadata that is not a string");
	st_reject("{\"__metadata__\":[]}", 0, "__metadata__ is not an object",
		  "metadata that is not an object");
	st_reject("[1, 2]", 0, "not a known model format",
		  "a JSON array is not safetensors");
	st_reject("{\"a\":\"\xff\"}", 0, "not valid JSON", "invalid UTF-8");
	strbuf_release(&file);
	strbuf_release(&bomb);
}

/*
 * A source `size` bytes long whose first `len` bytes are `buf` and the
 * rest zeros, recording the furthest byte read.
 */
struct sparse {
	const struct strbuf *head;
	uint64_t furthest;
};

static int sparse_read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct sparse *s = ctx;
	size_t i;

	for (i = 0; i < len; i++)
		((char *)buf)[i] =
			off + i < s->head->len ? s->head->buf[off + i] : 0;
	if (off + len > s->furthest)
		s->furthest = off + len;
	return 0;
}

static void test_safetensors_header_only(void)
{
	struct strbuf file = STRBUF_INIT, err = STRBUF_INIT;
	struct model_info info = MODEL_INFO_INIT;
	const char *json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[536870912],"
			   "\"data_offsets\":[0,2147483648]}}";
	struct sparse sp = { &file, 0 };
	struct model_source src = { sparse_read_at, &sp, 0 };

	st_file(&file, json, 0);
	src.size = file.len + (UINT64_C(2) << 30);
	ok(!model_read(&src, &info, &err) && info.nr == 1,
	   "a 2 GiB safetensors file is read");
	is_int(sp.furthest, file.len, "only its header was read");
	model_info_release(&info);
	strbuf_release(&file);
	strbuf_release(&err);
}

/* GGUF pieces, little-endian */
static void gg_str(struct strbuf *sb, const char *s)
{
	put_le(sb, strlen(s), 8);
	strbuf_addstr(sb, s);
}

static void gg_kv_u32(struct strbuf *sb, const char *key, uint32_t v)
{
	gg_str(sb, key);
	put_le(sb, 4, 4);
	put_le(sb, v, 4);
}

static void gg_tensor(struct strbuf *sb, const char *name, unsigned ndim,
		      const uint64_t *dims, uint32_t type, uint64_t offset)
{
	unsigned i;

	gg_str(sb, name);
	put_le(sb, ndim, 4);
	for (i = 0; i < ndim; i++)
		put_le(sb, dims[i], 8);
	put_le(sb, type, 4);
	put_le(sb, offset, 8);
}

static void gg_head(struct strbuf *sb, uint32_t version, uint64_t nr_tensors,
		    uint64_t nr_kv)
{
	strbuf_reset(sb);
	strbuf_addstr(sb, "GGUF");
	put_le(sb, version, 4);
	put_le(sb, nr_tensors, 8);
	put_le(sb, nr_kv, 8);
}

/* Pad `sb` with zeros to a multiple of `align`, then add `data` bytes. */
static void gg_data(struct strbuf *sb, size_t align, size_t data)
{
	while (sb->len % align)
		strbuf_addch(sb, 0);
	while (data--)
		strbuf_addch(sb, 1);
}

static void test_gguf_good(void)
{
	struct strbuf file = STRBUF_INIT, err = STRBUF_INIT;
	struct model_info info = MODEL_INFO_INIT;
	static const uint64_t d1[] = { 4, 2 }, d2[] = { 64, 2 };
	size_t data_start;

	gg_head(&file, 3, 2, 6);
	gg_str(&file, "general.architecture");
	put_le(&file, 8, 4);
	gg_str(&file, "llama");
	gg_kv_u32(&file, "general.alignment", 64);
	gg_str(&file, "tokenizer.ggml.tokens");
	put_le(&file, 9, 4);
	put_le(&file, 8, 4);
	put_le(&file, 3, 8);
	gg_str(&file, "a");
	gg_str(&file, "b");
	gg_str(&file, "c\n");
	gg_str(&file, "nested");
	put_le(&file, 9, 4);
	put_le(&file, 9, 4); /* array of arrays */
	put_le(&file, 2, 8);
	put_le(&file, 0, 4);
	put_le(&file, 2, 8);
	put_le(&file, 0xabcd, 2);
	put_le(&file, 8, 4);
	put_le(&file, 1, 8);
	gg_str(&file, "x");
	gg_str(&file, "eps");
	put_le(&file, 6, 4);
	put_le(&file, 0x3f000000, 4); /* 0.5f */
	gg_str(&file, "neg");
	put_le(&file, 1, 4);
	put_le(&file, 0xff, 1);
	gg_tensor(&file, "token_embd.weight", 2, d1, 0, 0);
	gg_tensor(&file, "blk.0.attn_q.weight", 2, d2, 2, 64);
	data_start = (file.len + 63) / 64 * 64;
	gg_data(&file, 64, 64 + 72);

	if (!ok(!read_buf(&file, &info, &err), "gguf: read"))
		printf("# %s\n", err.buf);
	is_int(info.format, MODEL_FORMAT_GGUF, "gguf: format");
	is_int(info.nr, 2, "gguf: two tensors");
	if (info.nr == 2) {
		is_str(info.tensors[0].name, "token_embd.weight", "gguf: name");
		is_str(info.tensors[0].dtype, "F32", "gguf: F32");
		is_int(info.tensors[0].elem_size, 4, "gguf: F32 size");
		is_int(info.tensors[0].offset, data_start,
		       "gguf: data aligned to general.alignment");
		is_int(info.tensors[0].length, 32, "gguf: F32 length");
		ok(info.tensors[1].ndim == 2 && info.tensors[1].shape[0] == 64 &&
			   info.tensors[1].shape[1] == 2,
		   "gguf: dims in the file's order");
		is_str(info.tensors[1].dtype, "Q4_0", "gguf: Q4_0");
		is_int(info.tensors[1].elem_size, 0, "gguf: Q4_0 is block-quantized");
		is_int(info.tensors[1].length, 4 * 18, "gguf: Q4_0 length: 4 blocks of 18");
		is_int(info.tensors[1].offset, data_start + 64, "gguf: second offset");
	}
	is_str(info.metadata.buf,
	       "general.architecture=llama\n"
	       "general.alignment=64\n"
	       "tokenizer.ggml.tokens=[3 string]\n"
	       "nested=[2 array]\n"
	       "eps=0.5\n"
	       "neg=-1\n",
	       "gguf: metadata");
	model_info_release(&info);
	strbuf_release(&file);
	strbuf_release(&err);
}

static void test_gguf_hostile(void)
{
	struct strbuf file = STRBUF_INIT;
	static const uint64_t d1[] = { 4 }, d33[] = { 33 },
			      big[] = { UINT64_C(1) << 62, 16 },
			      empty_huge[] = { UINT64_C(1) << 62, 0 };
	static const uint64_t d9[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	int i;

	gg_head(&file, 1, 0, 0);
	reject(&file, "gguf: version 1 is not read", "gguf v1");
	gg_head(&file, 0x03000000, 0, 0);
	reject(&file, "big-endian", "big-endian gguf");
	gg_head(&file, 3, UINT64_C(1) << 63, 0);
	reject(&file, "9223372036854775808 tensors", "2^63 tensors");
	gg_head(&file, 3, 0, UINT64_C(1) << 40);
	reject(&file, "metadata keys", "2^40 keys");
	gg_head(&file, 3, 0, 1);
	put_le(&file, UINT64_C(1) << 63, 8);
	reject(&file, "a metadata key at 32 is past the end of the file",
	       "a key of 2^63 bytes");
	gg_head(&file, 3, 0, 1);
	gg_str(&file, "k");
	put_le(&file, 8, 4);
	put_le(&file, 1000, 8);
	strbuf_addstr(&file, "short");
	reject(&file, "past the end of the file", "a string cut short");
	gg_head(&file, 3, 0, 1);
	gg_str(&file, "k");
	put_le(&file, 13, 4);
	reject(&file, "unknown metadata value type 13", "value type 13");
	gg_head(&file, 3, 0, 1);
	gg_str(&file, "k");
	put_le(&file, 9, 4);
	for (i = 0; i < 5; i++) {
		put_le(&file, 9, 4);
		put_le(&file, 1, 8);
	}
	reject(&file, "nested deeper than 4", "arrays nested 5 deep");
	gg_head(&file, 3, 0, 1);
	gg_str(&file, "k");
	put_le(&file, 9, 4);
	put_le(&file, 10, 4);
	put_le(&file, UINT64_C(1) << 61, 8);
	reject(&file, "over the header limit", "an array of 2^61 u64");
	gg_head(&file, 3, 0, 1);
	gg_kv_u32(&file, "general.alignment", 48);
	reject(&file, "general.alignment is not a u32 power of two",
	       "alignment 48");
	gg_head(&file, 3, 0, 1);
	gg_str(&file, "general.alignment");
	put_le(&file, 8, 4);
	gg_str(&file, "32");
	reject(&file, "general.alignment is not a u32", "alignment as a string");

	gg_head(&file, 3, 1, 0);
	gg_tensor(&file, "t", 1, d1, 4, 0);
	gg_data(&file, 32, 16);
	reject(&file, "unknown ggml type 4", "a retired ggml type");
	gg_head(&file, 3, 1, 0);
	gg_tensor(&file, "t", 9, d9, 0, 0);
	gg_data(&file, 32, 4);
	reject(&file, "9 dims", "9 dims");
	gg_head(&file, 3, 1, 0);
	gg_tensor(&file, "t", 1, d33, 2, 0);
	gg_data(&file, 32, 64);
	reject(&file, "not a multiple of 32", "Q4_0 of 33 elements");
	gg_head(&file, 3, 1, 0);
	gg_tensor(&file, "t", 2, big, 0, 0);
	gg_data(&file, 32, 64);
	reject(&file, "shape too large", "a shape of 2^66 elements");
	gg_head(&file, 3, 1, 0);
	gg_tensor(&file, "t", 2, empty_huge, 0, 0);
	gg_data(&file, 32, 64);
	reject(&file, "shape too large",
	       "an empty F32 tensor whose first dim's bytes overflow");
	gg_head(&file, 3, 1, 0);
	gg_tensor(&file, "t", 1, d1, 0, 8);
	gg_data(&file, 32, 64);
	reject(&file, "not a multiple of the alignment", "unaligned offset");
	gg_head(&file, 3, 1, 0);
	gg_tensor(&file, "t", 1, d1, 0, 32);
	gg_data(&file, 32, 40);
	reject(&file, "past the end of its section", "data past the end");
	gg_head(&file, 3, 1, 0);
	gg_tensor(&file, "t", 1, d1, 0, UINT64_C(1) << 63);
	gg_data(&file, 32, 16);
	reject(&file, "past the end of the file", "offset 2^63");
	gg_head(&file, 3, 2, 0);
	gg_tensor(&file, "a", 1, d1, 0, 0);
	gg_tensor(&file, "b", 1, d33, 0, 0);
	gg_data(&file, 32, 200);
	reject(&file, "overlaps", "overlapping tensors");
	gg_head(&file, 3, 1, 0);
	gg_tensor(&file, "a", 1, d1, 0, 0);
	reject(&file, "past the end", "no data section");
	strbuf_release(&file);
}

/* Pickle pieces */
static void pk_str(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, 'X');
	put_le(sb, strlen(s), 4);
	strbuf_addstr(sb, s);
}

/*
 * A pickle of {name: _rebuild_tensor_v2(storage, offset, shape, stride)}
 * with a 2-dim shape and stride, the storage ('storage', FloatStorage,
 * key, 'cpu', numel).
 */
/* A non-negative int: BININT1 below 256, else LONG1 of 8 bytes */
static void pk_uint(struct strbuf *sb, uint64_t v)
{
	if (v < 256) {
		strbuf_addch(sb, 'K');
		strbuf_addch(sb, v);
		return;
	}
	strbuf_add(sb, "\x8a\x08", 2);
	put_le(sb, v, 8);
}

static void pk_tensor_dict(struct strbuf *sb, const char *name,
			   const char *key, unsigned numel, unsigned offset,
			   const uint64_t *shape, const unsigned *stride)
{
	strbuf_reset(sb);
	strbuf_add(sb, "\x80\x02}(", 4);
	pk_str(sb, name);
	strbuf_addstr(sb, "ctorch._utils\n_rebuild_tensor_v2\n((");
	pk_str(sb, "storage");
	strbuf_addstr(sb, "ctorch\nFloatStorage\n");
	pk_str(sb, key);
	pk_str(sb, "cpu");
	strbuf_addch(sb, 'K');
	strbuf_addch(sb, numel);
	strbuf_addstr(sb, "tQK");
	strbuf_addch(sb, offset);
	pk_uint(sb, shape[0]);
	pk_uint(sb, shape[1]);
	strbuf_addf(sb, "\x86K%cK%c\x86\x89", stride[0], stride[1]);
	strbuf_addstr(sb, "ccollections\nOrderedDict\n)RtRu.");
}

static void pickle_reject(const char *buf, size_t len, const char *word,
			  const char *what)
{
	struct pickle p = PICKLE_INIT;
	struct strbuf err = STRBUF_INIT;
	int ret = pickle_load(&p, (const unsigned char *)buf, len, &err);

	if (!ok(ret == -1 && strstr(err.buf, word) && !strchr(err.buf, '\n') &&
			!p.root && !p.nr,
		"pickle: reject %s", what))
		printf("# ret %d, error '%s', expected '%s'\n", ret, err.buf,
		       word);
	pickle_release(&p);
	strbuf_release(&err);
}

static void test_pickle(void)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct pickle p = PICKLE_INIT;
	static const uint64_t sh[] = { 2, 2 };
	static const unsigned st[] = { 2, 1 };
	size_t i;

	pk_tensor_dict(&sb, "w", "0", 4, 0, sh, st);
	ok(!pickle_load(&p, (unsigned char *)sb.buf, sb.len, &err) &&
		   p.root->type == PICKLE_DICT && p.root->nr == 2 &&
		   p.root->items[1]->type == PICKLE_TENSOR,
	   "pickle: a dict of one tensor");
	if (p.root && p.root->nr == 2) {
		const struct pickle_value *t = p.root->items[1];

		ok(t->ndim == 2 && t->shape[0] == 2 && t->stride[0] == 2 &&
			   !strcmp(t->dtype, "F32") && t->storage->numel == 4 &&
			   !strcmp(t->storage->key->str, "0"),
		   "pickle: its shape, stride, dtype and storage");
	}
	pickle_release(&p);
	pickle_release(&p);

	pickle_reject("cos\nsystem\n(X\x01\0\0\0xtR.", 15,
		      "global 'os system' is not allowed", "os.system");
	pickle_reject("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93.", 19,
		      "global 'builtins eval' is not allowed",
		      "builtins.eval by STACK_GLOBAL");
	pickle_reject("\x80\x04\x8c\x02" "o\n\x8c\x01" "s\x93.", 11,
		      "global 'o\\n s' is not allowed",
		      "a global whose name holds a newline");
	pickle_reject("ctorch\nload\n.", 13, "global 'torch load' is not allowed",
		      "a torch global outside the storage types");
	pickle_reject("\x80\x02h\x05.", 5, "memo index 5 was never set",
		      "BINGET of an unset index");
	pickle_reject("\x80\x02N" "r\xff\xff\xff\xff.", 9, "over the limit",
		      "LONG_BINPUT 2^32-1");
	pickle_reject("\x80\x02X\xff\xff\xff\x7f" "ab.", 10, "a string of",
		      "a string longer than the pickle");
	pickle_reject("\x80\x02\x8a\x09" "123456789.", 14,
		      "an integer of 9 bytes", "LONG1 of 9 bytes");
	pickle_reject("\x80\x02}\x81.", 5, "opcode 0x81 is not allowed",
		      "NEWOBJ");
	pickle_reject("\x80\x02(i" "os\nsystem\n.", 15,
		      "opcode 0x69 is not allowed", "INST");
	pickle_reject("\x80\x02NNN", 5, "no STOP", "no STOP");
	pickle_reject("\x80\x02NN.", 5, "STOP with 2 values", "two values left");
	pickle_reject("\x80\x02s.", 4, "stack underflow", "SETITEM on nothing");
	pickle_reject("\x80\x02NNNs.", 7, "not a dict", "SETITEM on None");
	pickle_reject("\x80\x02" "ccollections\nOrderedDict\nK\x01\x85R.", 33,
		      "OrderedDict with arguments", "OrderedDict(1)");
	pickle_reject("\x80\x02NK\x01R.", 7, "not an allowed global",
		      "REDUCE of None");
	pickle_reject("\x80\x02(X\x07\0\0\0storageNX\x01\0\0\0" "0NK\x01tQ.",
		      34, "not a torch storage type",
		      "a storage of type None");
	pickle_reject("\x80\x02", 2, "no STOP", "PROTO alone");
	pickle_reject("\x80\x09.", 3, "protocol 9", "protocol 9");

	strbuf_reset(&sb);
	strbuf_add(&sb, "\x80\x02", 2);
	for (i = 0; i < (1u << 20) + 1; i++)
		strbuf_addch(&sb, '(');
	strbuf_addch(&sb, '.');
	pickle_reject(sb.buf, sb.len, "more than 1048576 marks",
		      "a million marks");
	strbuf_reset(&sb);
	strbuf_add(&sb, "\x80\x02", 2);
	for (i = 0; i < (1u << 20) + 1; i++)
		strbuf_addch(&sb, ']');
	pickle_reject(sb.buf, sb.len, "stack deeper than", "a million lists");
	strbuf_release(&sb);
	strbuf_release(&err);
}

/* A zip of stored entries, as torch.save() writes it. */
struct zip_in {
	const char *name;
	const char *data;
	size_t len;
};

static size_t zip_build(struct strbuf *sb, const struct zip_in *in, size_t n)
{
	uint64_t *local = xcalloc(n, sizeof(*local));
	size_t i, cd;

	strbuf_reset(sb);
	for (i = 0; i < n; i++) {
		local[i] = sb->len;
		put_le(sb, 0x04034b50, 4);
		put_le(sb, 20, 2);
		put_le(sb, 0, 2 + 2 + 2 + 2 + 4);
		put_le(sb, in[i].len, 4);
		put_le(sb, in[i].len, 4);
		put_le(sb, strlen(in[i].name), 2);
		put_le(sb, 0, 2);
		strbuf_addstr(sb, in[i].name);
		strbuf_add(sb, in[i].data, in[i].len);
	}
	cd = sb->len;
	for (i = 0; i < n; i++) {
		put_le(sb, 0x02014b50, 4);
		put_le(sb, 20, 2);
		put_le(sb, 20, 2);
		put_le(sb, 0, 2 + 2 + 2 + 2 + 4);
		put_le(sb, in[i].len, 4);
		put_le(sb, in[i].len, 4);
		put_le(sb, strlen(in[i].name), 2);
		put_le(sb, 0, 2 + 2 + 2 + 2 + 4);
		put_le(sb, local[i], 4);
		strbuf_addstr(sb, in[i].name);
	}
	put_le(sb, 0x06054b50, 4);
	put_le(sb, 0, 4);
	put_le(sb, n, 2);
	put_le(sb, n, 2);
	put_le(sb, sb->len - cd - 12, 4);
	put_le(sb, cd, 4);
	put_le(sb, 0, 2);
	free(local);
	return cd;
}

static void set_le(struct strbuf *sb, size_t at, uint64_t v, unsigned n)
{
	while (n--) {
		sb->buf[at++] = (char)(v & 0xff);
		v >>= 8;
	}
}

static void test_torch_zip(void)
{
	struct strbuf pkl = STRBUF_INIT, file = STRBUF_INIT, err = STRBUF_INIT;
	struct model_info info = MODEL_INFO_INIT;
	static const uint64_t sh[] = { 2, 2 }, sh_row[] = { 1, 2 },
			      sh_big[] = { 3, 2 },
			      sh_empty_huge[] = { UINT64_C(1) << 62, 0 };
	static const unsigned st[] = { 2, 1 }, st_t[] = { 1, 2 };
	static const char floats[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct zip_in in[] = {
		{ "archive/data.pkl", NULL, 0 },
		{ "archive/data/0", floats, 16 },
		{ "archive/version", "3\n", 2 },
	};
	size_t cd, eocd;

	pk_tensor_dict(&pkl, "w", "0", 4, 0, sh, st);
	in[0].data = pkl.buf;
	in[0].len = pkl.len;
	zip_build(&file, in, 3);
	if (!ok(!read_buf(&file, &info, &err) && info.nr == 1,
		"torch zip: one tensor"))
		printf("# %s\n", err.buf);
	if (info.nr == 1) {
		is_str(info.tensors[0].name, "w", "torch zip: its name");
		is_int(info.tensors[0].offset,
		       30 + strlen(in[0].name) + pkl.len + 30 + 14,
		       "torch zip: its offset is its storage entry's data");
		is_int(info.tensors[0].length, 16, "torch zip: its length");
		ok(info.tensors[0].contiguous, "torch zip: contiguous");
	}
	model_info_release(&info);

	pk_tensor_dict(&pkl, "w", "0", 4, 1, sh_row, st_t);
	in[0].data = pkl.buf;
	in[0].len = pkl.len;
	zip_build(&file, in, 3);
	ok(!read_buf(&file, &info, &err) && info.nr == 1 &&
		   !info.tensors[0].contiguous &&
		   info.tensors[0].length == 12,
	   "torch zip: a strided view at offset 1 spans 3 elements");
	model_info_release(&info);

	pk_tensor_dict(&pkl, "w", "0", 4, 0, sh_big, st);
	in[0].data = pkl.buf;
	in[0].len = pkl.len;
	zip_build(&file, in, 3);
	reject(&file, "reaches past its storage", "a tensor past its storage");
	pk_tensor_dict(&pkl, "w", "0", 4, 0, sh_empty_huge, st);
	in[0].data = pkl.buf;
	in[0].len = pkl.len;
	zip_build(&file, in, 3);
	reject(&file, "shape too large",
	       "an empty tensor whose other dim's bytes overflow");
	pk_tensor_dict(&pkl, "w", "0", 8, 0, sh, st);
	in[0].data = pkl.buf;
	in[0].len = pkl.len;
	zip_build(&file, in, 3);
	reject(&file, "of 8 elements does not fit its 16 bytes",
	       "a storage larger than its entry");
	pk_tensor_dict(&pkl, "w", "1", 4, 0, sh, st);
	in[0].data = pkl.buf;
	in[0].len = pkl.len;
	zip_build(&file, in, 3);
	reject(&file, "no storage entry 'archive/data/1'", "a missing storage");

	pk_tensor_dict(&pkl, "w", "0", 4, 0, sh, st);
	in[0].data = pkl.buf;
	in[0].len = pkl.len;
	cd = zip_build(&file, in, 3);
	eocd = file.len - 22;
	set_le(&file, eocd + 16, file.len, 4);
	reject(&file, "central directory at", "a central directory past the end");
	cd = zip_build(&file, in, 3);
	set_le(&file, cd + 20, 1u << 30, 4);
	reject(&file, "is not before the central directory", "a lying size");
	cd = zip_build(&file, in, 3);
	set_le(&file, eocd + 10, 65535, 2);
	reject(&file, "65535 entries", "a lying entry count");
	cd = zip_build(&file, in, 3);
	set_le(&file, cd + 42, 0xffffffff, 4);
	reject(&file, "is not before the central directory",
	       "a local header offset of 2^32-1");
	cd = zip_build(&file, in, 3);
	strbuf_setlen(&file, file.len - 5);
	reject(&file, "no zip end of central directory", "a zip cut short");
	cd = zip_build(&file, in, 3);
	set_le(&file, cd + 10, 8, 2); /* deflated */
	reject(&file, "is compressed", "a compressed data.pkl");
	cd = zip_build(&file, in, 3);
	file.buf[cd + 46 + 3] = '\n';
	reject(&file, "unprintable name", "a name with a newline");

	/* a zip64 locator pointing at 2^63 */
	cd = zip_build(&file, in, 3);
	strbuf_setlen(&file, file.len - 22);
	put_le(&file, 0x07064b50, 4);
	put_le(&file, 0, 4);
	put_le(&file, UINT64_C(1) << 63, 8);
	put_le(&file, 1, 4);
	put_le(&file, 0x06054b50, 4);
	put_le(&file, 0, 4);
	put_le(&file, 3, 2);
	put_le(&file, 3, 2);
	put_le(&file, file.len - 20 - 8 - cd - 20, 4);
	put_le(&file, cd, 4);
	put_le(&file, 0, 2);
	reject(&file, "a zip64 record outside the file", "a zip64 offset of 2^63");

	in[2].name = "archive/data.pkl";
	zip_build(&file, in, 3);
	reject(&file, "is there twice", "two entries of one name");
	in[2].name = "archive/version";
	in[0].name = "archive/model.pkl";
	zip_build(&file, in, 3);
	reject(&file, "no <dir>/data.pkl", "a zip that is not torch's");
	in[0].name = "archive/data.pkl";

	strbuf_reset(&pkl);
	strbuf_add(&pkl, "\x80\x02", 2);
	for (cd = 0; cd < 40; cd++) {
		strbuf_addch(&pkl, '}');
		pk_str(&pkl, "a");
	}
	strbuf_addch(&pkl, 'N');
	for (cd = 0; cd < 40; cd++)
		strbuf_addch(&pkl, 's');
	strbuf_addch(&pkl, '.');
	in[0].data = pkl.buf;
	in[0].len = pkl.len;
	zip_build(&file, in, 3);
	reject(&file, "nested deeper than 32", "dicts nested 40 deep");

	/* d = {}; d["a"] = [d, d]: a cycle */
	strbuf_reset(&pkl);
	strbuf_add(&pkl, "\x80\x02}q\x00", 5);
	pk_str(&pkl, "a");
	strbuf_add(&pkl, "](h\x00h\x00" "es.", 9);
	in[0].data = pkl.buf;
	in[0].len = pkl.len;
	zip_build(&file, in, 3);
	reject(&file, "nested deeper than 32", "a dict that holds itself");

	strbuf_release(&pkl);
	strbuf_release(&file);
	strbuf_release(&err);
}

/* Protobuf pieces */
static void pb_varint(struct strbuf *sb, uint64_t v)
{
	while (v >= 0x80) {
		strbuf_addch(sb, (char)(v | 0x80));
		v >>= 7;
	}
	strbuf_addch(sb, (char)v);
}

static void pb_vfield(struct strbuf *sb, unsigned field, uint64_t v)
{
	pb_varint(sb, field << 3);
	pb_varint(sb, v);
}

static void pb_lfield(struct strbuf *sb, unsigned field, const void *data,
		      size_t len)
{
	pb_varint(sb, field << 3 | 2);
	pb_varint(sb, len);
	strbuf_add(sb, data, len);
}

/* A ModelProto of one graph holding the initializers in `inits`. */
static void onnx_model(struct strbuf *sb, const struct strbuf *inits)
{
	struct strbuf graph = STRBUF_INIT;

	strbuf_reset(sb);
	pb_vfield(sb, 1, 7);
	pb_lfield(sb, 2, "pytorch", 7);
	pb_lfield(&graph, 1, "\x0a\x01x", 3); /* a node, skipped */
	strbuf_add(&graph, inits->buf, inits->len);
	pb_lfield(&graph, 2, "g", 1);
	pb_lfield(sb, 7, graph.buf, graph.len);
	pb_vfield(sb, 8, 1); /* not a length: skipped as a varint */
	strbuf_release(&graph);
}

static void onnx_reject(const struct strbuf *tensor, const char *word,
			const char *what)
{
	struct strbuf inits = STRBUF_INIT, file = STRBUF_INIT;

	pb_lfield(&inits, 5, tensor->buf, tensor->len);
	onnx_model(&file, &inits);
	reject(&file, word, what);
	strbuf_release(&inits);
	strbuf_release(&file);
}

/* A TensorProto named `name` of `n` F32 (type 1) or I64 (7) raw elements. */
static void onnx_tensor(struct strbuf *t, const char *name, unsigned type,
			unsigned n)
{
	static const char zeros[64];

	strbuf_reset(t);
	pb_vfield(t, 1, n);
	pb_vfield(t, 2, type);
	if (*name)
		pb_lfield(t, 8, name, strlen(name));
	pb_lfield(t, 9, zeros, n * (type == 7 ? 8 : 4));
}

/* A graph nested `depth` deep in If nodes, with initializer "w" inside. */
static void onnx_nested(struct strbuf *graph, unsigned depth)
{
	struct strbuf t = STRBUF_INIT, attr = STRBUF_INIT,
		      node = STRBUF_INIT;

	strbuf_reset(graph);
	onnx_tensor(&t, "w", 1, 1);
	pb_lfield(graph, 5, t.buf, t.len);
	while (depth--) {
		strbuf_reset(&attr);
		strbuf_reset(&node);
		pb_lfield(&attr, 1, "then_branch", 11);
		pb_lfield(&attr, 6, graph->buf, graph->len);
		pb_lfield(&node, 4, "If", 2);
		pb_lfield(&node, 5, attr.buf, attr.len);
		strbuf_reset(graph);
		pb_lfield(graph, 1, node.buf, node.len);
	}
	strbuf_release(&t);
	strbuf_release(&attr);
	strbuf_release(&node);
}

static void test_onnx_subgraphs(void)
{
	struct strbuf t = STRBUF_INIT, g = STRBUF_INIT, attr = STRBUF_INIT,
		      node = STRBUF_INIT, graph = STRBUF_INIT,
		      file = STRBUF_INIT, err = STRBUF_INIT, sp = STRBUF_INIT;
	struct model_info info = MODEL_INFO_INIT;
	static const char *want[] = {
		"fc.weight", "cond/then_branch/w", "cond/else_branch/w",
		"Loop#1/body/bias", "Scan#2/bodies[0]/a", "Scan#2/bodies[1]/a",
		"emb", "emb.indices",
	};
	size_t i;

	onnx_tensor(&t, "fc.weight", 1, 4);
	pb_lfield(&graph, 5, t.buf, t.len);
	/* If "cond": then and else both hold a "w" */
	onnx_tensor(&t, "w", 1, 2);
	strbuf_reset(&g);
	pb_lfield(&g, 5, t.buf, t.len);
	pb_lfield(&attr, 1, "then_branch", 11);
	pb_lfield(&attr, 6, g.buf, g.len);
	pb_lfield(&node, 1, "x", 1);
	pb_lfield(&node, 3, "cond", 4);
	pb_lfield(&node, 4, "If", 2);
	pb_lfield(&node, 5, attr.buf, attr.len);
	strbuf_reset(&attr);
	pb_lfield(&attr, 1, "else_branch", 11);
	pb_lfield(&attr, 6, g.buf, g.len);
	pb_lfield(&node, 5, attr.buf, attr.len);
	pb_lfield(&graph, 1, node.buf, node.len);
	/* a Loop without a name: its op_type and index */
	onnx_tensor(&t, "bias", 1, 3);
	strbuf_reset(&g);
	pb_lfield(&g, 5, t.buf, t.len);
	strbuf_reset(&attr);
	pb_lfield(&attr, 1, "body", 4);
	pb_vfield(&attr, 3, 5); /* an int attribute, skipped */
	pb_lfield(&attr, 6, g.buf, g.len);
	strbuf_reset(&node);
	pb_lfield(&node, 4, "Loop", 4);
	pb_lfield(&node, 5, attr.buf, attr.len);
	pb_lfield(&graph, 1, node.buf, node.len);
	/* graphs (field 11): two, numbered */
	onnx_tensor(&t, "a", 1, 1);
	strbuf_reset(&g);
	pb_lfield(&g, 5, t.buf, t.len);
	strbuf_reset(&attr);
	pb_lfield(&attr, 1, "bodies", 6);
	pb_lfield(&attr, 11, g.buf, g.len);
	pb_lfield(&attr, 11, g.buf, g.len);
	strbuf_reset(&node);
	pb_lfield(&node, 4, "Scan", 4);
	pb_lfield(&node, 5, attr.buf, attr.len);
	pb_lfield(&graph, 1, node.buf, node.len);
	/* a sparse initializer: 3 values of a [4, 5] tensor */
	onnx_tensor(&t, "emb", 1, 3);
	pb_lfield(&sp, 1, t.buf, t.len);
	onnx_tensor(&t, "", 7, 3);
	pb_lfield(&sp, 2, t.buf, t.len);
	pb_vfield(&sp, 3, 4);
	pb_vfield(&sp, 3, 5);
	pb_lfield(&graph, 15, sp.buf, sp.len);

	pb_vfield(&file, 1, 7);
	pb_lfield(&file, 7, graph.buf, graph.len);
	if (!ok(!read_buf(&file, &info, &err) && info.nr == ARRAY_SIZE(want),
		"onnx: subgraph and sparse initializers read"))
		printf("# %s (%zu tensors)\n", err.buf, info.nr);
	for (i = 0; i < info.nr && i < ARRAY_SIZE(want); i++)
		is_str(info.tensors[i].name, want[i], "onnx: tensor %zu's name",
		       i);
	if (info.nr == ARRAY_SIZE(want)) {
		is_int(info.tensors[1].length, 8, "onnx: a subgraph's raw_data");
		is_str(info.tensors[7].dtype, "I64", "onnx: sparse indices");
		is_int(info.tensors[7].length, 24, "onnx: indices' bytes");
		is_int(info.tensors[6].shape[0], 3, "onnx: sparse values' shape");
	}
	is_str(info.metadata.buf, "emb.sparse_dims=[4, 5]\n",
	       "onnx: a sparse initializer's dense shape noted");
	model_info_release(&info);

	/* limits */
	onnx_nested(&graph, 16);
	strbuf_reset(&file);
	pb_vfield(&file, 1, 7);
	pb_lfield(&file, 7, graph.buf, graph.len);
	ok(!read_buf(&file, &info, &err) && info.nr == 1,
	   "onnx: subgraphs 16 deep are read");
	model_info_release(&info);
	onnx_nested(&graph, 17);
	strbuf_reset(&file);
	pb_vfield(&file, 1, 7);
	pb_lfield(&file, 7, graph.buf, graph.len);
	reject(&file, "nested more than 16 deep", "subgraphs 17 deep");
	strbuf_reset(&sp);
	onnx_tensor(&t, "emb", 1, 3);
	pb_lfield(&sp, 1, t.buf, t.len);
	strbuf_reset(&graph);
	pb_lfield(&graph, 15, sp.buf, sp.len);
	strbuf_reset(&file);
	pb_vfield(&file, 1, 7);
	pb_lfield(&file, 7, graph.buf, graph.len);
	reject(&file, "sparse initializer without indices",
	       "a sparse initializer without indices");
	strbuf_reset(&node);
	pb_lfield(&node, 3, "a\nb", 3);
	pb_lfield(&node, 5, attr.buf, attr.len);
	strbuf_reset(&graph);
	pb_lfield(&graph, 1, node.buf, node.len);
	strbuf_reset(&file);
	pb_vfield(&file, 1, 7);
	pb_lfield(&file, 7, graph.buf, graph.len);
	reject(&file, "control character", "a node name with a newline");

	strbuf_release(&t);
	strbuf_release(&g);
	strbuf_release(&attr);
	strbuf_release(&node);
	strbuf_release(&graph);
	strbuf_release(&file);
	strbuf_release(&err);
	strbuf_release(&sp);
}

static void test_onnx(void)
{
	struct strbuf t = STRBUF_INIT, inits = STRBUF_INIT,
		      file = STRBUF_INIT, err = STRBUF_INIT, packed = STRBUF_INIT;
	struct model_info info = MODEL_INFO_INIT;
	static const char f32[24] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const char *raw;

	pb_vfield(&t, 1, 2);
	pb_vfield(&t, 1, 3);
	pb_vfield(&t, 2, 1);
	pb_lfield(&t, 8, "fc.weight", 9);
	pb_lfield(&t, 9, f32, 24);
	pb_lfield(&inits, 5, t.buf, t.len);
	strbuf_reset(&t);
	pb_varint(&packed, 2);
	pb_lfield(&t, 1, packed.buf, packed.len);
	pb_vfield(&t, 2, 1);
	pb_lfield(&t, 8, "fc.bias", 7);
	pb_lfield(&t, 4, f32, 8); /* packed float_data */
	pb_lfield(&inits, 5, t.buf, t.len);
	strbuf_reset(&t);
	pb_vfield(&t, 2, 7);
	pb_lfield(&t, 8, "steps", 5);
	pb_lfield(&t, 7, "\x96\x01", 2); /* int64_data: 150 */
	pb_lfield(&inits, 5, t.buf, t.len);
	strbuf_reset(&t);
	pb_vfield(&t, 1, 1000);
	pb_vfield(&t, 2, 10);
	pb_lfield(&t, 8, "big", 3);
	strbuf_reset(&packed);
	pb_lfield(&packed, 1, "location", 8);
	pb_lfield(&packed, 2, "w.bin", 5);
	pb_lfield(&t, 13, packed.buf, packed.len);
	pb_vfield(&t, 14, 1);
	pb_lfield(&inits, 5, t.buf, t.len);
	onnx_model(&file, &inits);

	is_int(model_format_detect((unsigned char *)file.buf, 16, file.len),
	       MODEL_FORMAT_ONNX, "onnx: detected");
	if (!ok(!read_buf(&file, &info, &err) && info.nr == 4, "onnx: read"))
		printf("# %s\n", err.buf);
	raw = memmem(file.buf, file.len, f32, 24);
	if (info.nr == 4) {
		is_str(info.tensors[0].name, "fc.weight", "onnx: name");
		ok(info.tensors[0].ndim == 2 && info.tensors[0].shape[1] == 3,
		   "onnx: dims");
		is_str(info.tensors[0].dtype, "F32", "onnx: data_type 1 is F32");
		is_int(info.tensors[0].offset, raw - file.buf,
		       "onnx: raw_data's offset in the file");
		is_int(info.tensors[0].length, 24, "onnx: raw_data's length");
		is_int(info.tensors[1].elem_size, 4,
		       "onnx: packed float_data is raw F32 bytes");
		is_int(info.tensors[1].length, 8, "onnx: float_data's length");
		is_str(info.tensors[2].dtype, "I64", "onnx: I64");
		is_int(info.tensors[2].elem_size, 0,
		       "onnx: varint int64_data is compared as bytes");
		is_int(info.tensors[3].length, 0, "onnx: external data: no bytes here");
	}
	is_str(info.metadata.buf,
	       "steps.encoding=int64_data\nbig.external_data=w.bin\n",
	       "onnx: encodings and external data noted");
	model_info_release(&info);

	strbuf_reset(&t);
	pb_vfield(&t, 2, 1);
	pb_lfield(&t, 8, "w", 1);
	pb_varint(&t, 9 << 3 | 2);
	pb_varint(&t, UINT64_C(1) << 63);
	onnx_reject(&t, "runs past its message", "raw_data of 2^63 bytes");
	strbuf_reset(&t);
	strbuf_add(&t, "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
	onnx_reject(&t, "a varint of more than 10 bytes", "an 11-byte varint");
	strbuf_reset(&t);
	pb_varint(&t, 3 << 3 | 3);
	onnx_reject(&t, "wire type 3", "a group");
	strbuf_reset(&t);
	pb_vfield(&t, 1, UINT64_MAX);
	onnx_reject(&t, "dim is negative", "dim -1");
	strbuf_reset(&t);
	for (int i = 0; i < 9; i++)
		pb_vfield(&t, 1, 1);
	onnx_reject(&t, "more than 8 dims", "9 dims");
	strbuf_reset(&t);
	pb_vfield(&t, 1, 3);
	pb_vfield(&t, 2, 1);
	pb_lfield(&t, 8, "w", 1);
	pb_lfield(&t, 9, f32, 8);
	onnx_reject(&t, "has 8 bytes of data, its data_type and dims need 12",
		    "raw_data shorter than its dims");
	strbuf_reset(&t);
	pb_vfield(&t, 2, 99);
	pb_lfield(&t, 8, "w", 1);
	onnx_reject(&t, "unknown data_type 99", "data_type 99");
	strbuf_reset(&t);
	pb_vfield(&t, 2, 1);
	pb_lfield(&t, 8, "a\nb", 3);
	onnx_reject(&t, "control character", "a name with a newline");
	strbuf_reset(&t);
	pb_vfield(&t, 2, 1);
	onnx_reject(&t, "a tensor name of 0 bytes", "an initializer without a name");
	strbuf_reset(&t);
	pb_vfield(&t, 2, 1);
	pb_lfield(&t, 8, "w", 1);
	pb_varint(&t, 4 << 3 | 5);
	strbuf_add(&t, f32, 4);
	onnx_reject(&t, "unpacked tensor data", "unpacked float_data");

	strbuf_reset(&file);
	pb_vfield(&file, 1, 7);
	pb_lfield(&file, 2, "x", 1);
	reject(&file, "onnx: no graph", "a model without a graph");
	strbuf_reset(&file);
	pb_vfield(&file, 1, 7);
	pb_varint(&file, 7 << 3 | 2);
	pb_varint(&file, 1000);
	strbuf_add(&file, "\x28\x00", 2);
	reject(&file, "runs past its message", "a graph longer than the file");

	strbuf_release(&t);
	strbuf_release(&packed);
	strbuf_release(&inits);
	strbuf_release(&file);
	strbuf_release(&err);
}

static void test_decode(void)
{
	static const unsigned char f16[] = { 0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c,
					     0x01, 0x00 };
	static const unsigned char bf16[] = { 0x80, 0x3f, 0x49, 0x40 };
	static const unsigned char e4m3[] = { 0x38, 0x7e, 0x7f, 0x01 };
	static const unsigned char e5m2[] = { 0x3c, 0x7c, 0xfc };
	static const unsigned char i16[] = { 0x00, 0x80, 0xff, 0xff };
	static const unsigned char u16[] = { 0xff, 0xff };
	static const unsigned char f32[] = { 0x00, 0x00, 0x80, 0x3f };
	double d[4];

	ok(!model_decode("F16", f16, 4, d) && d[0] == 1.0 && d[1] == -2.0 &&
		   d[2] > 1e300 && d[3] == 0x1p-24,
	   "decode F16: 1, -2, inf, smallest subnormal");
	ok(!model_decode("BF16", bf16, 2, d) && d[0] == 1.0 &&
		   d[1] == 3.140625,
	   "decode BF16");
	ok(!model_decode("F8_E4M3", e4m3, 4, d) && d[0] == 1.0 &&
		   d[1] == 448.0 && d[2] != d[2] && d[3] == 0x1p-9,
	   "decode F8_E4M3: 1, 448, NaN, subnormal");
	ok(!model_decode("F8_E5M2", e5m2, 3, d) && d[0] == 1.0 &&
		   d[1] > 1e300 && d[2] < -1e300,
	   "decode F8_E5M2: 1, inf, -inf");
	ok(!model_decode("I16", i16, 2, d) && d[0] == -32768 && d[1] == -1,
	   "decode I16 sign");
	ok(!model_decode("U16", u16, 1, d) && d[0] == 65535, "decode U16");
	ok(!model_decode("F32", f32, 1, d) && d[0] == 1.0, "decode F32");
	is_int(model_decode("Q4_0", f32, 1, d), -1, "Q4_0 is not decoded");
	is_int(model_dtype_size("BF16"), 2, "size of BF16");
	is_int(model_dtype_size("Q4_0"), 0, "size of a quantized type is 0");
}

int main(void)
{
	test_detect();
	test_legacy_and_unknown();
	test_safetensors_good();
	test_safetensors_hostile();
	test_safetensors_header_only();
	test_gguf_good();
	test_gguf_hostile();
	test_pickle();
	test_torch_zip();
	test_onnx();
	test_onnx_subgraphs();
	test_decode();
	return done_testing();
}
