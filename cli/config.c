/*
 * The CLI's config file: the top-level url and token (the "default"
 * context), a "current = NAME" line, and one "[NAME]" section per named
 * context with its own url and token.  Lines of keys it does not know are
 * kept as they are.  Written anew mode 0600 and renamed into place, its
 * folder made mode 0700, so a token is never readable by others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certrack/cli.h"
#include "certrack/strbuf.h"

/* Longest line accepted in the config file. */
#define LINE_MAX_LEN 4096

/* Overwrites S (LEN bytes) before it is freed: it may hold a token. */
static void
wipe(char *s, size_t len)
{
	volatile char *p = s;

	while (s != NULL && len-- > 0)
		*p++ = '\0';
}

static void
free_secret(char *s)
{
	if (s != NULL)
		wipe(s, strlen(s));
	free(s);
}

void
cli_config_init(struct cli_config *cf)
{
	memset(cf, 0, sizeof(*cf));
}

void
cli_config_release(struct cli_config *cf)
{
	for (size_t i = 0; i < cf->n; i++) {
		free(cf->v[i].name);
		free(cf->v[i].url);
		free_secret(cf->v[i].token);
		if (cf->v[i].other.alloc > 0)
			wipe(cf->v[i].other.buf, cf->v[i].other.alloc);
		strbuf_release(&cf->v[i].other);
	}
	free(cf->v);
	free(cf->current);
	memset(cf, 0, sizeof(*cf));
}

bool
cli_context_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			return false;
	return true;
}

struct cli_context *
cli_config_find(struct cli_config *cf, const char *name)
{
	for (size_t i = 0; i < cf->n; i++) {
		const char *have = cf->v[i].name;

		if ((name == NULL && have == NULL) ||
		    (name != NULL && have != NULL && strcmp(name, have) == 0))
			return &cf->v[i];
	}
	return NULL;
}

struct cli_context *
cli_config_add(struct cli_config *cf, const char *name)
{
	struct cli_context *v, *c = cli_config_find(cf, name);

	if (c != NULL)
		return c;
	v = realloc(cf->v, (cf->n + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	cf->v = v;
	c = &cf->v[cf->n];
	memset(c, 0, sizeof(*c));
	strbuf_init(&c->other);
	if (name != NULL && (c->name = strdup(name)) == NULL)
		return NULL;
	/* the top level comes first in the file: keep it first here */
	if (name == NULL && cf->n > 0) {
		struct cli_context top = *c;

		memmove(&cf->v[1], &cf->v[0], cf->n * sizeof(*v));
		cf->v[0] = top;
		c = &cf->v[0];
	}
	cf->n++;
	return c;
}

void
cli_config_remove(struct cli_config *cf, struct cli_context *c)
{
	size_t i = (size_t)(c - cf->v);

	free(c->name);
	free(c->url);
	free_secret(c->token);
	strbuf_release(&c->other);
	memmove(&cf->v[i], &cf->v[i + 1], (cf->n - i - 1) * sizeof(*c));
	cf->n--;
}

/* S without blanks at either end, in place. */
static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int
set_value(char **slot, const char *value, struct cli_error *err)
{
	free_secret(*slot);
	*slot = NULL;
	if (*value == '\0')
		return 0;
	if ((*slot = strdup(value)) == NULL)
		return cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
	return 0;
}

int
cli_config_load(struct cli_config *cf, const char *path, struct cli_error *err)
{
	char line[LINE_MAX_LEN];
	struct cli_context *sec;
	struct stat st;
	FILE *fp;
	int lineno = 0, rc = -1;

	cf->path = path;
	fp = fopen(path, "re");
	if (fp == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return cli_error_set(err, CLI_EXIT_USAGE, "cannot open '%s': %s",
		    path, strerror(errno));
	}
	if ((sec = cli_config_add(cf, NULL)) == NULL)
		goto no_memory;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *key, *value, *eq, raw[LINE_MAX_LEN];

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			cli_error_set(err, CLI_EXIT_USAGE,
			    "'%s' line %d: the line is too long", path, lineno);
			goto out;
		}
		snprintf(raw, sizeof(raw), "%s", line);
		key = trim(line);
		if (*key == '\0' || *key == '#') {
			/* comments stay with the section they are in */
			if (*key == '#' && strbuf_addf(&sec->other, "%s\n",
			    key) != 0)
				goto no_memory;
			continue;
		}
		if (*key == '[') {
			char *end = strchr(key, ']');

			if (end == NULL || end[1] != '\0') {
				cli_error_set(err, CLI_EXIT_USAGE, "'%s' line "
				    "%d: expected '[NAME]'", path, lineno);
				goto out;
			}
			*end = '\0';
			key = trim(key + 1);
			if (!cli_context_name_ok(key)) {
				cli_error_set(err, CLI_EXIT_USAGE, "'%s' line "
				    "%d: '%s' is not a context name", path,
				    lineno, key);
				goto out;
			}
			if ((sec = cli_config_add(cf, key)) == NULL)
				goto no_memory;
			continue;
		}
		eq = strchr(key, '=');
		if (eq == NULL) {
			cli_error_set(err, CLI_EXIT_USAGE,
			    "'%s' line %d: expected 'key = value'", path,
			    lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		if (strcasecmp(key, "url") == 0) {
			if (set_value(&sec->url, value, err) != 0)
				goto out;
		} else if (strcasecmp(key, "token") == 0) {
			if (set_value(&sec->token, value, err) != 0)
				goto out;
			if (*value != '\0')
				cf->has_token = true;
		} else if (strcasecmp(key, "current") == 0 &&
		    sec->name == NULL) {
			if (set_value(&cf->current, value, err) != 0)
				goto out;
		} else if (strbuf_addf(&sec->other, "%s = %s\n", key,
		    value) != 0) {
			goto no_memory;
		}
		wipe(raw, sizeof(raw));
		wipe(line, sizeof(line));
	}
	if (ferror(fp)) {
		cli_error_set(err, CLI_EXIT_USAGE, "cannot read '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	cf->group_readable = fstat(fileno(fp), &st) == 0 &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
	rc = 0;
	goto out;
no_memory:
	cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
out:
	wipe(line, sizeof(line));
	fclose(fp);
	return rc;
}

/* Creates every missing folder of DIR (a path), each mode 0700. */
static int
make_dirs(const char *dir, struct cli_error *err)
{
	char *copy = strdup(dir), *p;
	int rc = -1;

	if (copy == NULL)
		return cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			cli_error_set(err, CLI_EXIT_FAILURE,
			    "cannot create the folder '%s': %s", copy,
			    strerror(errno));
			goto out;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* The file's text (caller releases, wiped: it holds tokens). */
static int
render(const struct cli_config *cf, struct strbuf *text)
{
	const struct cli_context *top = NULL;
	int rc = 0;

	for (size_t i = 0; i < cf->n; i++)
		if (cf->v[i].name == NULL)
			top = &cf->v[i];
	if (top == NULL || top->other.len == 0)
		rc |= strbuf_addstr(text, "# written by certrack; holds bearer "
		    "tokens: keep it private\n");
	if (top != NULL)
		rc |= strbuf_add(text, top->other.buf, top->other.len);
	if (cf->current != NULL)
		rc |= strbuf_addf(text, "current = %s\n", cf->current);
	if (top != NULL && top->url != NULL)
		rc |= strbuf_addf(text, "url = %s\n", top->url);
	if (top != NULL && top->token != NULL)
		rc |= strbuf_addf(text, "token = %s\n", top->token);
	for (size_t i = 0; i < cf->n; i++) {
		const struct cli_context *c = &cf->v[i];

		if (c->name == NULL)
			continue;
		rc |= strbuf_addf(text, "\n[%s]\n", c->name);
		rc |= strbuf_add(text, c->other.buf, c->other.len);
		if (c->url != NULL)
			rc |= strbuf_addf(text, "url = %s\n", c->url);
		if (c->token != NULL)
			rc |= strbuf_addf(text, "token = %s\n", c->token);
	}
	return rc != 0 ? -1 : 0;
}

int
cli_config_save(const struct cli_config *cf, struct cli_error *err)
{
	struct strbuf text, tmp;
	char *dir = NULL, *slash;
	FILE *out = NULL;
	int fd = -1, rc = -1;

	strbuf_init(&text);
	strbuf_init(&tmp);
	if (render(cf, &text) != 0)
		goto no_memory;
	dir = strdup(cf->path);
	if (dir == NULL)
		goto no_memory;
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (make_dirs(dir, err) != 0)
			goto out;
	}
	if (strbuf_addf(&tmp, "%s.XXXXXX", cf->path) != 0)
		goto no_memory;
	/* mkstemp() creates the file mode 0600, so the token is never
	 * readable by others, not even for a moment. */
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot write '%s': %s",
		    cf->path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || (out = fdopen(fd, "w")) == NULL) {
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot write '%s': %s",
		    tmp.buf, strerror(errno));
		goto out;
	}
	fd = -1;
	if (fwrite(text.buf, 1, text.len, out) != text.len ||
	    fflush(out) != 0 || fsync(fileno(out)) != 0) {
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot write '%s': %s",
		    tmp.buf, strerror(errno));
		goto out;
	}
	if (fclose(out) != 0) {
		out = NULL;
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot write '%s': %s",
		    tmp.buf, strerror(errno));
		goto out;
	}
	out = NULL;
	if (rename(tmp.buf, cf->path) != 0) {
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot replace '%s': %s",
		    cf->path, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
no_memory:
	cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
out:
	if (out != NULL)
		fclose(out);
	if (fd >= 0)
		close(fd);
	if (rc != 0 && tmp.len > 0)
		unlink(tmp.buf);
	if (text.alloc > 0)
		wipe(text.buf, text.alloc);
	strbuf_release(&text);
	strbuf_release(&tmp);
	free(dir);
	return rc;
}
