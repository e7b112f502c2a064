// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The demo: a toy request handler with a session cache that only grows and
 * an error path that leaks. `make demo` records it and shows where its
 * memory goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct session {
	char *user;
	char *payload;
	struct session *next;
};

static struct session *cache;
static unsigned long served;

static char *copy_string(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	memcpy(p, s, n);
	return p;
}

static struct session *new_session(unsigned long id)
{
	struct session *s = calloc(1, sizeof(*s));
	char name[32];

	snprintf(name, sizeof(name), "user-%lu", id);
	s->user = copy_string(name);
	s->payload = malloc(256 + id % 512);
	return s;
}

static void handle_request(unsigned long id)
{
	char *body = malloc(4096);
	struct session *s;

	memset(body, 'x', 4096);
	if (id % 10 == 0) {
		/* the error path forgets to free the body */
		return;
	}
	s = new_session(id);
	if (id % 3 == 0) {
		s->next = cache; /* cached forever */
		cache = s;
	} else {
		free(s->user);
		free(s->payload);
		free(s);
	}
	free(body);
	served++;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	struct timespec t0, t;
	unsigned long id = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 200; i++)
			handle_request(++id);
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) +
			 (double)(t.tv_nsec - t0.tv_nsec) / 1e9 <
		 seconds);
	printf("served %lu requests\n", served);
	return 0;
}
