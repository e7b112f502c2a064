// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Interned strings in an arena; demangled names, absolute file names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym_strings.h"

#define CHUNK_SIZE 65536

/* From libstdc++ (linked with -lstdc++); cxxabi.h is C++ only. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

struct sym_string_slot {
	const char *str;
	uint64_t hash;
};

struct sym_chunk {
	struct sym_chunk *next;
	size_t used, size;
	char data[];
};

static uint64_t hash_string(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return sym_mix64(h);
}

static char *arena_alloc(struct sym_strings *t, size_t len)
{
	struct sym_chunk *c = t->chunks;
	size_t size;

	if (!c || c->size - c->used < len) {
		size = len > CHUNK_SIZE / 4 ? len : CHUNK_SIZE;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = size;
		/* A string of its own chunk must not strand the current one. */
		if (size == len && t->chunks) {
			c->next = t->chunks->next;
			t->chunks->next = c;
		} else {
			c->next = t->chunks;
			t->chunks = c;
		}
	}
	c->used += len;
	return c->data + c->used - len;
}

static int strings_rehash(struct sym_strings *t, size_t cap)
{
	struct sym_string_slot *old = t->slots, *slots;
	size_t i, j;

	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (!old[i].str)
			continue;
		for (j = old[i].hash & (cap - 1); slots[j].str;
		     j = (j + 1) & (cap - 1))
			;
		slots[j] = old[i];
	}
	free(old);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* Returns the copy of s, NULL only when out of memory. */
static const char *intern(struct sym_strings *t, const char *s)
{
	uint64_t h = hash_string(s);
	size_t i, len;
	char *copy;

	if ((t->n + 1) * 4 > t->cap * 3 &&
	    strings_rehash(t, t->cap ? t->cap * 2 : 1024))
		return NULL;
	for (i = h & (t->cap - 1); t->slots[i].str;
	     i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].hash == h && !strcmp(t->slots[i].str, s))
			return t->slots[i].str;
	}
	len = strlen(s) + 1;
	copy = arena_alloc(t, len);
	if (!copy)
		return NULL;
	memcpy(copy, s, len);
	t->slots[i].str = copy;
	t->slots[i].hash = h;
	t->n++;
	return copy;
}

const char *sym_function_name(struct sym_strings *t, const char *name)
{
	char *demangled = NULL;
	const char *s;
	int status;

	if (!strncmp(name, "_Z", 2))
		demangled = __cxa_demangle(name, NULL, NULL, &status);
	s = intern(t, demangled ? demangled : name);
	free(demangled);
	return s;
}

const char *sym_file_name(struct sym_strings *t, const char *comp_dir,
			  const char *file)
{
	char *joined = NULL;
	const char *s;

	if (file[0] != '/' && comp_dir &&
	    asprintf(&joined, "%s/%s", comp_dir, file) < 0)
		return NULL;
	s = intern(t, joined ? joined : file);
	free(joined);
	return s;
}

void sym_strings_free(struct sym_strings *t)
{
	struct sym_chunk *c, *next;

	free(t->slots);
	for (c = t->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	*t = (struct sym_strings){ 0 };
}
