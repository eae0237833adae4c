#ifndef CERTRACK_FUZZ_H
#define CERTRACK_FUZZ_H
/*
 * The fuzz targets' entry points (docs/fuzzing.md).  Each takes any bytes,
 * runs the real module on them and checks what must hold whatever the
 * input (fuzz_require(): an answer that breaks it aborts, which libFuzzer
 * reports as a crash).  Built with clang and libFuzzer as
 * build/fuzz/fuzz_NAME (FUZZ_LIBFUZZER defined: FUZZ_ENTRY() becomes
 * LLVMFuzzerTestOneInput), and with the ordinary build into
 * tests/unit_fuzz, which replays every file of fuzz/corpus/NAME.
 * Each returns 0.
 */
#include <stddef.h>
#include <stdint.h>

int fuzz_csvread(const uint8_t *data, size_t size);
int fuzz_importmap(const uint8_t *data, size_t size);
int fuzz_config(const uint8_t *data, size_t size);
int fuzz_router(const uint8_t *data, size_t size);
int fuzz_json(const uint8_t *data, size_t size);
int fuzz_certnum(const uint8_t *data, size_t size);

/* Aborts with "fuzz: TARGET: WHAT" unless OK. */
void fuzz_require(int ok, const char *target, const char *what);

/* DATA[0..SIZE) as a malloc'd C string (it ends at a NUL inside); aborts
 * out of memory.  The caller frees. */
char *fuzz_cstring(const uint8_t *data, size_t size);

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#define FUZZ_ENTRY(fn) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
	{ return fn(data, size); }
#else
#define FUZZ_ENTRY(fn)
#endif

#endif
