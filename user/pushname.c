// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The name pushed profiles are filed under, checked by Pyroscope's rules. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pushname.h"

static bool app_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
	       c == '/';
}

int hs_push_check_app(const char *app, char *err, size_t errlen)
{
	size_t n = strlen(app);

	if (!n || n > HS_PUSH_MAX_VALUE) {
		snprintf(err, errlen, "--app must be 1..%d characters",
			 HS_PUSH_MAX_VALUE);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!app_char(app[i])) {
			snprintf(
				err, errlen,
				"--app '%s': an application name holds only letters, digits, _ . - and /",
				app);
			return -1;
		}
	}
	return 0;
}

static bool key_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

static int check_key(const char *label, size_t n, char *err, size_t errlen)
{
	if (!n || n > HS_PUSH_MAX_KEY) {
		snprintf(err, errlen,
			 "--label '%s': the name must be 1..%d characters",
			 label, HS_PUSH_MAX_KEY);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!key_char(label[i], i == 0)) {
			snprintf(
				err, errlen,
				"--label '%s': '%.*s' is not a label name (letters, digits and _, not starting with a digit)",
				label, (int)n, label);
			return -1;
		}
	}
	if (n >= 2 && label[0] == '_' && label[1] == '_') {
		snprintf(err, errlen,
			 "--label '%s': names starting with __ are reserved",
			 label);
		return -1;
	}
	if (n == strlen("service_name") && !strncmp(label, "service_name", n)) {
		snprintf(
			err, errlen,
			"--label '%s': service_name is the application name: use --app",
			label);
		return -1;
	}
	return 0;
}

static int check_value(const char *label, const char *v, char *err,
		       size_t errlen)
{
	size_t n = strlen(v);

	if (!n || n > HS_PUSH_MAX_VALUE) {
		snprintf(err, errlen,
			 "--label '%s': the value must be 1..%d characters",
			 label, HS_PUSH_MAX_VALUE);
		return -1;
	}
	if (v[0] == ' ' || v[n - 1] == ' ') {
		snprintf(
			err, errlen,
			"--label '%s': the value may not start or end with a space",
			label);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < ' ' || v[i] > '~' || strchr(",{}", v[i])) {
			snprintf(
				err, errlen,
				"--label '%s': a value holds printable ASCII other than , { and }",
				label);
			return -1;
		}
	}
	return 0;
}

int hs_push_check_label(const char *label, char *err, size_t errlen)
{
	const char *eq = strchr(label, '=');

	if (!eq) {
		snprintf(err, errlen, "--label '%s': expected KEY=VALUE",
			 label);
		return -1;
	}
	if (check_key(label, (size_t)(eq - label), err, errlen))
		return -1;
	return check_value(label, eq + 1, err, errlen);
}

void hs_push_app_from_command(const char *cmdline, char *buf, size_t len)
{
	const char *start = cmdline ? cmdline : "", *end, *slash;
	size_t n = 0;

	end = start + strcspn(start, " ");
	for (slash = start; slash < end; slash++)
		if (*slash == '/')
			start = slash + 1;
	for (; start < end && n + 1 < len && n < HS_PUSH_MAX_VALUE; start++)
		buf[n++] = app_char(*start) ? *start : '_';
	buf[n] = '\0';
	if (!n || strspn(buf, "_./-") == n)
		snprintf(buf, len, "heapsnap");
}

/* Is the key of labels[i] that of an earlier label? */
static bool duplicate_key(char *const *labels, size_t i)
{
	size_t n = strcspn(labels[i], "=");

	for (size_t j = 0; j < i; j++)
		if (strcspn(labels[j], "=") == n &&
		    !strncmp(labels[j], labels[i], n))
			return true;
	return false;
}

char *hs_push_name(const char *app, char *const *labels, size_t nlabels,
		   char *err, size_t errlen)
{
	size_t len = strlen(app) + 3, off;
	char *name;

	if (hs_push_check_app(app, err, errlen))
		return NULL;
	for (size_t i = 0; i < nlabels; i++) {
		if (hs_push_check_label(labels[i], err, errlen))
			return NULL;
		if (duplicate_key(labels, i)) {
			snprintf(err, errlen,
				 "--label '%s': that name is given twice",
				 labels[i]);
			return NULL;
		}
		len += strlen(labels[i]) + 1;
	}
	name = malloc(len);
	if (!name) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	off = (size_t)snprintf(name, len, "%s{", app);
	for (size_t i = 0; i < nlabels; i++)
		off += (size_t)snprintf(name + off, len - off, "%s%s",
					i ? "," : "", labels[i]);
	snprintf(name + off, len - off, "}");
	return name;
}
