/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The name a pushed profile is filed under in a Pyroscope-compatible
 * backend, "APP{KEY=VALUE,...}", checked by Pyroscope's rules so a bad name
 * is refused at the command line and never by the backend.
 */
#ifndef HEAPSNAP_PUSHNAME_H
#define HEAPSNAP_PUSHNAME_H

#include <stddef.h>

/* Pyroscope's default max_label_name_length and max_label_value_length */
#define HS_PUSH_MAX_KEY 1024
#define HS_PUSH_MAX_VALUE 2048

/*
 * An application name is 1..HS_PUSH_MAX_VALUE characters of A-Z a-z 0-9
 * _ . - /. Returns 0, or -1 with a one-line reason in err.
 */
int hs_push_check_app(const char *app, char *err, size_t errlen);

/*
 * A label is KEY=VALUE. KEY is a Prometheus label name ([A-Za-z_]
 * [A-Za-z0-9_]*), at most HS_PUSH_MAX_KEY long, neither reserved ("__"
 * prefix) nor service_name (the backend sets it to the application name).
 * VALUE is 1..HS_PUSH_MAX_VALUE printable ASCII characters other than
 * , { } and with no space at either end. Returns 0, or -1 with err.
 */
int hs_push_check_label(const char *label, char *err, size_t errlen);

/*
 * The application name of a command line: its first word's base name,
 * with characters an application name cannot hold replaced by '_';
 * "heapsnap" when nothing is left. buf holds at least 2 bytes.
 */
void hs_push_app_from_command(const char *cmdline, char *buf, size_t len);

/*
 * "APP{KEY=VALUE,...}" after checking app and every label, in their order;
 * a key given twice is an error. Returns a string to free(), or NULL with
 * a one-line reason in err.
 */
char *hs_push_name(const char *app, char *const *labels, size_t nlabels,
		   char *err, size_t errlen);

#endif
