// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Pushes snapshots to a Pyroscope-compatible /ingest endpoint: one POST per
 * snapshot, ?name=APP{LABELS}&from=S&until=S&format=pprof&spyName=heapsnap,
 * with a multipart/form-data body holding the gzipped pprof profile in the
 * part "profile" and, in "sample_type_config", which of its sample types
 * are the memory in use and how they aggregate over time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clock.h"
#include "export.h"
#include "push.h"

/*
 * Live memory is a level, not a count of events: averaged over time, not
 * summed. Backends that read this (Pyroscope before 1.0) ingest only the
 * types it names; alloc_* repeat the live values and are left out.
 */
static const char sample_type_config[] =
	"{\"inuse_space\":{\"units\":\"bytes\",\"aggregation\":\"average\","
	"\"sampled\":false},"
	"\"inuse_objects\":{\"units\":\"objects\",\"aggregation\":\"average\","
	"\"sampled\":false}}";

struct hs_push {
	CURL *curl;
	CURLU *url; /* .../ingest, with the user's own query if any */
	char *shown; /* the same without user and password, for messages */
	char *name;
	uint64_t last_s; /* time of the previous snapshot */
	size_t attempts;
	size_t failures;
	bool global; /* curl_global_init() done */
	char errbuf[CURL_ERROR_SIZE];
	char reply[160]; /* the start of the backend's answer */
	size_t nreply;
};

static int bad_url(const char *url, const char *why, char *err, size_t errlen)
{
	snprintf(err, errlen, "--push '%s': %s", url, why);
	return -EINVAL;
}

/* Checks the user's URL and points p->url at its /ingest. */
static int set_url(struct hs_push *p, const char *url, char *err, size_t errlen)
{
	char *part = NULL, *path;
	CURLUcode uc;
	size_t n;
	bool http;

	uc = curl_url_set(p->url, CURLUPART_URL, url, 0);
	if (uc) {
		snprintf(
			err, errlen,
			"--push '%s': %s (expected http[s]://HOST[:PORT][/PATH])",
			url, curl_url_strerror(uc));
		return -EINVAL;
	}
	if (curl_url_get(p->url, CURLUPART_SCHEME, &part, 0))
		return bad_url(url, "no scheme", err, errlen);
	http = !strcmp(part, "http") || !strcmp(part, "https");
	curl_free(part);
	if (!http)
		return bad_url(url, "only http:// and https:// are supported",
			       err, errlen);
	if (!curl_url_get(p->url, CURLUPART_FRAGMENT, &part, 0)) {
		curl_free(part);
		return bad_url(url, "remove the #fragment", err, errlen);
	}
	if (curl_url_get(p->url, CURLUPART_PATH, &part, 0))
		return -ENOMEM;
	n = strlen(part);
	while (n && part[n - 1] == '/')
		n--;
	path = malloc(n + sizeof("/ingest"));
	if (path) {
		memcpy(path, part, n);
		memcpy(path + n, "/ingest", sizeof("/ingest"));
	}
	curl_free(part);
	if (!path || curl_url_set(p->url, CURLUPART_PATH, path, 0)) {
		free(path);
		return -ENOMEM;
	}
	free(path);
	return 0;
}

/* The URL without credentials or query: secrets stay out of messages. */
static char *shown_url(CURLU *url)
{
	CURLU *h = curl_url_dup(url);
	char *s = NULL, *out = NULL;

	if (h && !curl_url_set(h, CURLUPART_USER, NULL, 0) &&
	    !curl_url_set(h, CURLUPART_PASSWORD, NULL, 0) &&
	    !curl_url_set(h, CURLUPART_QUERY, NULL, 0) &&
	    !curl_url_get(h, CURLUPART_URL, &s, 0))
		out = strdup(s);
	curl_free(s);
	curl_url_cleanup(h);
	return out;
}

int hs_push_new(struct hs_push **out, const char *url, const char *name,
		char *err, size_t errlen)
{
	struct hs_push *p = calloc(1, sizeof(*p));
	int e = -ENOMEM;

	*out = NULL;
	if (!p)
		goto fail;
	p->global = !curl_global_init(CURL_GLOBAL_DEFAULT);
	p->url = p->global ? curl_url() : NULL;
	if (!p->url)
		goto fail;
	e = set_url(p, url, err, errlen);
	if (e)
		goto fail;
	e = -ENOMEM;
	p->shown = shown_url(p->url);
	p->name = strdup(name);
	p->curl = curl_easy_init();
	if (!p->shown || !p->name || !p->curl)
		goto fail;
	p->last_s = hs_wall_s();
	*out = p;
	return 0;
fail:
	if (e == -ENOMEM)
		snprintf(err, errlen, "cannot set up --push: out of memory");
	hs_push_free(p);
	return e;
}

static size_t keep_reply(char *data, size_t size, size_t n, void *arg)
{
	struct hs_push *p = arg;
	size_t len = size * n, room = sizeof(p->reply) - 1 - p->nreply;

	if (len < room)
		room = len;
	memcpy(p->reply + p->nreply, data, room);
	p->nreply += room;
	p->reply[p->nreply] = '\0';
	return len;
}

/* "name=...&from=...": the query parameters /ingest reads. */
static char *ingest_query(struct hs_push *p, uint64_t from, uint64_t until)
{
	char *name = curl_easy_escape(p->curl, p->name, 0), *q = NULL;

	if (name && asprintf(&q,
			     "name=%s&from=%" PRIu64 "&until=%" PRIu64
			     "&format=pprof&spyName=heapsnap",
			     name, from, until) < 0)
		q = NULL;
	curl_free(name);
	return q;
}

static curl_mime *ingest_body(CURL *curl, const void *pb, size_t len)
{
	curl_mime *mime = curl_mime_init(curl);
	curl_mimepart *prof, *cfg;

	if (!mime)
		return NULL;
	prof = curl_mime_addpart(mime);
	cfg = curl_mime_addpart(mime);
	if (!prof || !cfg || curl_mime_name(prof, "profile") ||
	    curl_mime_filename(prof, "profile.pprof") ||
	    curl_mime_type(prof, "application/octet-stream") ||
	    curl_mime_data(prof, pb, len) ||
	    curl_mime_name(cfg, "sample_type_config") ||
	    curl_mime_filename(cfg, "sample_type_config.json") ||
	    curl_mime_type(cfg, "application/json") ||
	    curl_mime_data(cfg, sample_type_config, CURL_ZERO_TERMINATED)) {
		curl_mime_free(mime);
		return NULL;
	}
	return mime;
}

/* The first line of the backend's answer, printable, or "". */
static const char *reply_line(struct hs_push *p)
{
	char *c = p->reply;

	c[strcspn(c, "\r\n")] = '\0';
	for (; *c; c++)
		if (*c < ' ' || *c > '~')
			*c = '?';
	return p->reply;
}

/* One POST; 0, or -1 with the reason in why. */
static int post(struct hs_push *p, CURLU *url, curl_mime *mime, char *why,
		size_t whylen)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
	long code = 0;
	CURLcode rc;

	if (!hdrs) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	p->errbuf[0] = '\0';
	p->nreply = 0;
	p->reply[0] = '\0';
	curl_easy_reset(p->curl);
	curl_easy_setopt(p->curl, CURLOPT_CURLU, url);
	curl_easy_setopt(p->curl, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(p->curl, CURLOPT_USERAGENT, "heapsnap");
	curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)HS_PUSH_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, (long)HS_PUSH_TIMEOUT_MS);
	curl_easy_setopt(p->curl, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, keep_reply);
	curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, p);
	rc = curl_easy_perform(p->curl);
	if (!rc)
		curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdrs);
	if (rc) {
		snprintf(why, whylen, "%s",
			 p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc));
		return -1;
	}
	if (code < 200 || code > 299) {
		const char *line = reply_line(p);

		snprintf(why, whylen, "HTTP %ld%s%s", code, *line ? ": " : "",
			 line);
		return -1;
	}
	return 0;
}

int hs_push_snapshot(struct hs_push *p, const struct hs_snapshot *s,
		     const char *path)
{
	struct hs_pprof_summary sum;
	struct hs_query q = { .domain = -1 };
	uint64_t until = s->time_ns / 1000000000ull;
	uint64_t from = p->last_s < until ? p->last_s : until;
	curl_mime *mime = NULL;
	CURLU *url = NULL;
	char why[512], *query = NULL;
	void *pb = NULL;
	size_t len;
	int ret = -1;

	p->attempts++;
	snprintf(why, sizeof(why), "out of memory");
	if (hs_pprof_encode(s, &q, &pb, &len, &sum))
		goto out;
	mime = ingest_body(p->curl, pb, len);
	query = ingest_query(p, from, until);
	url = curl_url_dup(p->url);
	if (!mime || !query || !url ||
	    curl_url_set(url, CURLUPART_QUERY, query, CURLU_APPENDQUERY))
		goto out;
	ret = post(p, url, mime, why, sizeof(why));
out:
	p->last_s = until;
	if (ret) {
		p->failures++;
		fprintf(stderr, "heapsnap: warning: cannot push %s to %s: %s\n",
			path, p->shown, why);
	}
	curl_easy_setopt(p->curl, CURLOPT_MIMEPOST, NULL);
	curl_mime_free(mime);
	curl_url_cleanup(url);
	free(query);
	free(pb);
	return ret;
}

void hs_push_report(const struct hs_push *p)
{
	if (!p || !p->attempts)
		return;
	if (p->failures)
		fprintf(stderr,
			"heapsnap: warning: %zu of %zu pushes to %s failed\n",
			p->failures, p->attempts, p->shown);
	else
		fprintf(stderr, "heapsnap: pushed %zu snapshot%s to %s as %s\n",
			p->attempts, p->attempts == 1 ? "" : "s", p->shown,
			p->name);
}

void hs_push_free(struct hs_push *p)
{
	if (!p)
		return;
	curl_easy_cleanup(p->curl);
	curl_url_cleanup(p->url);
	free(p->shown);
	free(p->name);
	if (p->global)
		curl_global_cleanup();
	free(p);
}
