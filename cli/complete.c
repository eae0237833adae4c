/*
 * `certrack __complete WORD...`: the words a shell may offer next, one a
 * line, for the bash, zsh and fish completion scripts, which ask this
 * rather than keep lists of their own.  Everything comes from the tables
 * the CLI runs on: the command table (names, aliases, subcommands and the
 * options each help text names), the global options' getopt table, and
 * the contexts of the config file.  So completion cannot drift from the
 * commands.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cli.h"

static const struct option global_longopts[] = {
	CLI_GLOBAL_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* Prints WORD when it starts with PREFIX, once: a help text may name an
 * option twice. */
static void
offer(const char *word, const char *prefix)
{
	static char seen[256][64];
	static size_t nseen;

	if (strncmp(word, prefix, strlen(prefix)) != 0)
		return;
	for (size_t i = 0; i < nseen; i++)
		if (strcmp(seen[i], word) == 0)
			return;
	if (nseen < 256)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", word);
	printf("%s\n", word);
}

/* The global option --NAME (without dashes) takes a value: 1; a global
 * option without one: 0; not a global option: -1. */
static int
global_takes_value(const char *name)
{
	for (size_t i = 0; global_longopts[i].name != NULL; i++)
		if (strcmp(global_longopts[i].name, name) == 0)
			return global_longopts[i].has_arg == required_argument;
	return -1;
}

static bool
short_takes_value(char c)
{
	const char *p = strchr(CLI_GLOBAL_SHORTOPTS, c);

	return p != NULL && p[1] == ':';
}

/* The help lines of subcommand SUB of CMD: from the line naming it up to
 * the next that is not a continuation; the whole help when SUB is NULL or
 * no line names it.  *LEN their length. */
static const char *
sub_help(const struct cli_command *cmd, const char *sub, size_t *len)
{
	const char *h = cmd->help, *p;
	char head[128];

	*len = strlen(h);
	if (sub == NULL)
		return h;
	snprintf(head, sizeof(head), "%s %s", cmd->name, sub);
	for (p = h; (p = strstr(p, head)) != NULL; p++) {
		const char *end;
		char after = p[strlen(head)];

		const char *bol = p;

		/* a synopsis line: only blanks before it on its line */
		while (bol > h && bol[-1] == ' ')
			bol--;
		if ((bol != h && bol[-1] != '\n') || (after != ' ' &&
		    after != '\n' && after != '\0'))
			continue;
		/* the lines after it that are indented further */
		end = strchr(p, '\n');
		while (end != NULL && strncmp(end + 1, "      ", 6) == 0)
			end = strchr(end + 1, '\n');
		*len = end != NULL ? (size_t)(end - p) : strlen(p);
		return p;
	}
	return h;
}

/* Each "--option" in TEXT (LEN bytes) that starts with PREFIX; with
 * VALUE_OF, instead: 1 when "--VALUE_OF WORD" is there (it takes a
 * value), 0 when only "--VALUE_OF" is. */
static int
scan_options(const char *text, size_t len, const char *prefix,
    const char *value_of)
{
	int found = -1;

	for (size_t i = 0; i + 2 < len; i++) {
		char word[64];
		size_t n = 0;

		if (text[i] != '-' || text[i + 1] != '-' ||
		    (i > 0 && text[i - 1] != ' ' && text[i - 1] != '[' &&
		    text[i - 1] != '\n' && text[i - 1] != '|'))
			continue;
		while (i + 2 + n < len && n + 3 < sizeof(word) &&
		    (islower((unsigned char)text[i + 2 + n]) ||
		    text[i + 2 + n] == '-'))
			n++;
		if (n == 0)
			continue;
		snprintf(word, sizeof(word), "--%.*s", (int)n, text + i + 2);
		if (value_of == NULL) {
			offer(word, prefix);
		} else if (strcmp(word + 2, value_of) == 0) {
			const char *v = text + i + 2 + n;
			size_t w = *v == ' ' ? strcspn(v + 1, " \n]") : 0;
			/* "--on DATE", "--role admin|grader|clinician" */
			bool value = *v == ' ' && (isupper((unsigned char)v[1]) ||
			    memchr(v + 1, '|', w) != NULL);

			if (value || *v == '=')
				return 1;
			found = 0;
		}
		i += 1 + n;
	}
	return found;
}

static void
offer_contexts(const char *prefix)
{
	struct cli_config cf;
	struct cli_error err;
	char *path = NULL;

	cli_config_init(&cf);
	offer("default", prefix);
	if (cli_config_path(&path, &err) == 0 &&
	    cli_config_load(&cf, path, &err) == 0)
		for (size_t i = 0; i < cf.n; i++)
			if (cf.v[i].name != NULL)
				offer(cf.v[i].name, prefix);
	cli_config_release(&cf);
	free(path);
}

/* The words of list WORDS (blank-separated) that start with PREFIX. */
static void
offer_words(const char *words, const char *prefix)
{
	char w[64];

	while (*words != '\0') {
		size_t n = strcspn(words, " ");

		snprintf(w, sizeof(w), "%.*s", (int)n, words);
		offer(w, prefix);
		words += n;
		words += strspn(words, " ");
	}
}

int
cli_cmd_complete_words(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_command *cmd = NULL;
	const char *sub = NULL, *cur, *prev = NULL;
	const char *names[64];
	size_t n, len;
	const char *text;

	(void)ctx;
	/* ARGV: "__complete", the words after "certrack", the last one the
	 * word being completed (maybe empty) */
	if (argc < 2)
		return CLI_EXIT_OK;
	cur = argv[argc - 1];
	for (int i = 1; i < argc - 1; i++) {
		const char *w = argv[i];

		prev = w;
		if (strncmp(w, "--", 2) == 0) {
			if (strchr(w, '=') == NULL &&
			    global_takes_value(w + 2) == 1 && i + 1 < argc - 1)
				prev = argv[++i];
			else if (strchr(w, '=') == NULL && cmd != NULL &&
			    (text = sub_help(cmd, sub, &len)) != NULL &&
			    scan_options(text, len, "", w + 2) == 1 &&
			    i + 1 < argc - 1)
				prev = argv[++i];
			continue;
		}
		if (w[0] == '-' && w[1] != '\0') {
			if (w[2] == '\0' && short_takes_value(w[1]) &&
			    i + 1 < argc - 1)
				prev = argv[++i];
			continue;
		}
		if (cmd == NULL)
			cmd = cli_command_find(w);
		else if (sub == NULL && cmd->subs != NULL)
			sub = w;
	}
	/* the value of an option */
	if (prev != NULL && strncmp(prev, "--", 2) == 0 &&
	    strchr(prev, '=') == NULL) {
		const char *o = prev + 2;
		int takes = global_takes_value(o);

		if (takes < 0 && cmd != NULL) {
			text = sub_help(cmd, sub, &len);
			takes = scan_options(text, len, "", o);
		}
		if (takes == 1) {
			if (strcmp(o, "context") == 0)
				offer_contexts(cur);
			else if (strcmp(o, "role") == 0)
				offer_words("admin grader clinician", cur);
			else if (strcmp(o, "delimiter") == 0)
				offer_words("comma semicolon tab auto", cur);
			else if (strcmp(o, "category") == 0)
				offer_words("issued_in_error exam_result_amended "
				    "license_action misconduct other", cur);
			else if (strcmp(o, "cacert") == 0 ||
			    strcmp(o, "errors-csv") == 0)
				printf("__files__\n");
			return CLI_EXIT_OK;
		}
	}
	if (prev != NULL && strcmp(prev, "-c") == 0) {
		offer_contexts(cur);
		return CLI_EXIT_OK;
	}
	if (cur[0] == '-') {
		for (size_t i = 0; global_longopts[i].name != NULL; i++) {
			char w[64];

			snprintf(w, sizeof(w), "--%s", global_longopts[i].name);
			offer(w, cur);
		}
		if (cmd == NULL)
			offer("--version", cur);
		else if ((text = sub_help(cmd, sub, &len)) != NULL)
			scan_options(text, len, cur, NULL);
		return CLI_EXIT_OK;
	}
	if (cmd == NULL) {
		n = cli_command_names(names, 64);
		for (size_t i = 0; i < n; i++)
			offer(names[i], cur);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd->name, "help") == 0 && sub == NULL) {
		n = cli_command_names(names, 64);
		for (size_t i = 0; i < n; i++)
			offer(names[i], cur);
		offer("options", cur);
		return CLI_EXIT_OK;
	}
	if (cmd->subs != NULL && sub == NULL) {
		offer_words(cmd->subs, cur);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd->name, "context") == 0 && sub != NULL &&
	    strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0) {
		offer_contexts(cur);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd->name, "import") == 0 && sub != NULL &&
	    (strcmp(sub, "roster") == 0 || strcmp(sub, "results") == 0 ||
	    strcmp(sub, "ce") == 0)) {
		printf("__files__\n");
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd->name, "results") == 0 && sub != NULL &&
	    strcmp(sub, "record") == 0)
		offer_words("written practical", cur);
	return CLI_EXIT_OK;
}
