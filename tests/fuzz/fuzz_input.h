/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * fuzz_input.h - what the fuzzers share: reading the input a byte at a
 * time (zeros past its end), and failing loudly.  Define FUZZ_NAME before
 * including it.
 */
#ifndef EVTCHNX_FUZZ_INPUT_H
#define EVTCHNX_FUZZ_INPUT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in;
static size_t in_len, in_pos;

static void input_start(const uint8_t *data, size_t size)
{
	in = data;
	in_len = size;
	in_pos = 0;
}

static uint8_t next(void)
{
	return in_pos < in_len ? in[in_pos++] : 0;
}

static inline uint32_t next32(void)
{
	uint32_t v = next();

	v |= (uint32_t)next() << 8;
	v |= (uint32_t)next() << 16;
	return v | (uint32_t)next() << 24;
}

/* A broken expectation: say which, and abort (a libFuzzer finding). */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", FUZZ_NAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#endif /* EVTCHNX_FUZZ_INPUT_H */
