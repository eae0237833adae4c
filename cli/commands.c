/*
 * The command table (git's commands[]): one row per subcommand, its
 * handler in cli/cmd_NAME.c.  Also the global usage and `certrack help`.
 */
#include <stdio.h>
#include <string.h>

#include "certrack/cli.h"

/*
 * Each help text: the synopsis after "usage: certrack ", a blank line, the
 * command's own options, and at least one example.  The global options
 * (--url, --token, --json, --quiet, --timeout) work with every command and
 * are listed once, by cli_command_usage().
 */
const struct cli_command cli_commands[] = {
	{
		"login", cli_cmd_login,
		"log in and keep the token in the config file",
		"login [--password-stdin] [USERNAME]\n"
		"\n"
		"Asks for the password on the terminal without echo (or reads\n"
		"one line from stdin with --password-stdin; a password is never\n"
		"taken from the command line) and stores the server's URL and\n"
		"the token in $XDG_CONFIG_HOME/certrack/config, else\n"
		"~/.config/certrack/config, mode 0600 (its folder 0700).\n"
		"Without USERNAME asks for it on the terminal.\n"
		"\n"
		"Example:\n"
		"  certrack --url https://certrack.example.org login jdoe\n"
		"  printf '%s\\n' \"$PW\" | certrack login --password-stdin jdoe\n",
		NULL,
	},
	{
		"logout", cli_cmd_logout,
		"revoke the token on the server and forget it",
		"logout\n"
		"\n"
		"Revokes the token on the server and removes it from the config\n"
		"file (the URL stays).\n"
		"\n"
		"Example:\n"
		"  certrack logout\n",
		NULL,
	},
	{
		"whoami", cli_cmd_whoami,
		"show the account the token belongs to",
		"whoami\n"
		"\n"
		"Example:\n"
		"  certrack whoami\n",
		NULL,
	},
	{
		"passwd", cli_cmd_passwd,
		"change your own password",
		"passwd [--password-stdin]\n"
		"\n"
		"Asks for the current password and the new one (twice) on the\n"
		"terminal; with --password-stdin reads two lines from stdin, the\n"
		"current password and the new one.  At least 12 characters, not\n"
		"the username, not a dictionary word.\n"
		"\n"
		"Example:\n"
		"  certrack passwd\n",
		NULL,
	},
	{
		"clinicians", cli_cmd_clinicians,
		"add, show, list, search and update clinicians",
		"clinicians add|show|list|search|update ...\n"
		"\n"
		"  clinicians add --given NAME --family NAME --email EMAIL\n"
		"      --profession CODE [--npi NPI] [--license-state ST]\n"
		"      [--license-number N]                        (admin)\n"
		"  clinicians show CLINICIAN\n"
		"  clinicians list [--search TEXT] [--email EMAIL] [--npi NPI]\n"
		"      [--profession CODE] [--limit N] [--offset N]   (staff)\n"
		"  clinicians search TEXT [--limit N] [--offset N]\n"
		"  clinicians update CLINICIAN [--given NAME] [--family NAME]\n"
		"      [--email EMAIL] [--profession CODE] [--npi NPI]\n"
		"      [--license-state ST] [--license-number N] [--version N]\n"
		"      [--listed yes|no] [--practice-city CITY]\n"
		"      [--practice-state ST] [--practice-zip ZIP]\n"
		"      [--public-contact TEXT]   (the directory listing)\n"
		"\n"
		"CLINICIAN is an id.  The search matches the start of a name,\n"
		"an email or an NPI.  update reads the clinician first and sends\n"
		"its version (or the one --version names) as If-Match: a change\n"
		"someone else made in between is refused, not overwritten.  An\n"
		"empty --npi, --license-state or --license-number clears it,\n"
		"as does an empty --practice-* or --public-contact.\n"
		"--quiet makes list print only the ids.\n"
		"\n"
		"Example:\n"
		"  certrack clinicians add --given Jane --family Roe \\\n"
		"      --email jane@example.org --profession PT --npi 1234567893\n"
		"  certrack clinicians search roe\n"
		"  certrack clinicians update 12 --email jane.roe@example.org\n",
		"add show list search update",
	},
	{
		"sessions", cli_cmd_sessions,
		"list, show and add course sessions",
		"sessions list|show|add ...\n"
		"\n"
		"  sessions list [--level LEVEL] [--limit N] [--offset N] (staff)\n"
		"  sessions show ID      the session and its roster      (staff)\n"
		"  sessions add LEVEL --starts DATE [--ends DATE]\n"
		"      [--location TEXT] [--instructor NAME]              (admin)\n"
		"\n"
		"LEVEL is a level's code or title, any case.  A session dated\n"
		"after today is refused.\n"
		"\n"
		"Example:\n"
		"  certrack sessions add DN1 --starts 2025-03-01 --ends 2025-03-03 \\\n"
		"      --location Austin --instructor 'Sam Lee'\n"
		"  certrack sessions show 12 --csv > roster.csv\n",
		"list show add",
	},
	{
		"enroll", cli_cmd_enroll,
		"enroll a clinician in a level",
		"enroll CLINICIAN LEVEL [--session ID]\n"
		"\n"
		"Enrolls clinician CLINICIAN (an id) in LEVEL (a code or title,\n"
		"any case: DN1, 'Level 1'), optionally in course session ID.\n"
		"Refused (exit 1) when the clinician's profession is not\n"
		"eligible or a prerequisite level is not certified (an expired\n"
		"certificate counts, a revoked one does not); the server's\n"
		"reason is printed.\n"
		"\n"
		"Example:\n"
		"  certrack enroll 12 DN1 --session 3\n"
		"  enrolled 'Jane Roe' in DN1 (enrollment 7)\n",
		NULL,
	},
	{
		"complete", cli_cmd_complete,
		"mark a course completed (may issue the certificate)",
		"complete ENROLLMENT [--on DATE]\n"
		"       complete CLINICIAN LEVEL [--on DATE]\n"
		"\n"
		"Marks the course of an enrollment completed on DATE (default\n"
		"today; not after today, nor before the session starts).  When\n"
		"the written and practical exams are passed already, the\n"
		"level's certificate is issued and shown.\n"
		"\n"
		"Example:\n"
		"  certrack complete 12 DN1 --on 2025-03-03\n",
		NULL,
	},
	{
		"withdraw", cli_cmd_withdraw,
		"withdraw an enrollment",
		"withdraw ENROLLMENT [--yes]\n"
		"       withdraw CLINICIAN LEVEL [--yes]\n"
		"\n"
		"Asks on the terminal first; --yes does not (and is needed when\n"
		"standard input is not a terminal).\n"
		"\n"
		"Example:\n"
		"  certrack withdraw 7\n",
		NULL,
	},
	{
		"results", cli_cmd_results,
		"record, amend and list exam results",
		"results record|amend|history ...\n"
		"\n"
		"  results record CLINICIAN LEVEL written|practical SCORE\n"
		"      [--max MAX] [--on DATE] [--attempt N]          (staff)\n"
		"  results amend RESULT SCORE --reason TEXT [--max MAX]\n"
		"      [--on DATE]                                    (staff)\n"
		"  results history [CLINICIAN]\n"
		"\n"
		"record: the score out of MAX (default 100) taken on DATE\n"
		"(default today); the server numbers the attempt (--attempt N\n"
		"makes sure it is attempt N), applies the pass mark, and refuses\n"
		"when the clinician is not enrolled, has used every attempt,\n"
		"retakes too soon, or DATE is after today or before the course\n"
		"session starts.  LEVEL is a code or title, any case.  amend: a\n"
		"new result superseding RESULT (an id from history), with the\n"
		"reason; a certificate follows (revoked when no passed exam of\n"
		"the kind is left, issued anew when every requirement holds\n"
		"again).  history: every result, amended ones too; a\n"
		"clinician's own without CLINICIAN.\n"
		"\n"
		"Example:\n"
		"  certrack results record 12 DN1 written 82 --on 2025-03-04\n"
		"  certrack results amend 31 78 --reason 'regraded question 7'\n",
		"record amend history",
	},
	{
		"status", cli_cmd_status,
		"a clinician's whole picture, like a transcript",
		"status [CLINICIAN]\n"
		"\n"
		"Eligibility, each level's coursework, every exam attempt with\n"
		"its score, attempts left and the next allowed retake, the\n"
		"certificates and whether the credential is held.  With a\n"
		"clinician's account, CLINICIAN is optional: your own.\n"
		"\n"
		"Example:\n"
		"  certrack status 12\n",
		NULL,
	},
	{
		"certificates", cli_cmd_certificates,
		"verify a certificate number (no login), revoke one, list them",
		"certificates verify|revoke|list|expiring|renew ...\n"
		"\n"
		"  certificates verify NUMBER                      (anyone)\n"
		"  certificates revoke NUMBER --category CATEGORY --note TEXT\n"
		"      [--yes]                                     (admin)\n"
		"  certificates list [--status valid|expiring|expired|revoked]\n"
		"      [--within DAYS] [--level LEVEL] [--clinician ID]\n"
		"      [--issued-from DATE] [--issued-to DATE]\n"
		"      [--limit N] [--offset N]                    (staff)\n"
		"  certificates expiring --within DAYS [--level LEVEL] ...\n"
		"                                                  (staff)\n"
		"  certificates renew NUMBER                       (staff)\n"
		"  certificates renewal-exam NUMBER SCORE [--max N] [--on DATE]\n"
		"                                                  (staff)\n"
		"\n"
		"list and expiring print a page as a table (--json, --quiet\n"
		"numbers); with --csv, every matching certificate as the server\n"
		"exports it, unpaged.  DAYS is 60, 60d or 8w; a certificate\n"
		"expiring on today + DAYS is included.\n"
		"\n"
		"verify needs no login and prints the holder, level, dates and\n"
		"validity; it exits 0 only for a valid certificate (1 when\n"
		"expired or revoked, 3 when unknown).  A number with a wrong\n"
		"check character is refused before anything is sent (exit 2).\n"
		"revoke takes a public CATEGORY (issued_in_error,\n"
		"exam_result_amended, license_action, misconduct, other), shown\n"
		"by verification, and a NOTE only staff ever see; it asks on\n"
		"the terminal first (--yes does not).\n"
		"\n"
		"renewal-exam records a sitting of the written exam to renew a\n"
		"certificate whose level is renewed by exam (SCORE out of\n"
		"--max, 100 by default, taken --on DATE, today by default): a\n"
		"pass renews it at once, a failure uses an attempt.\n"
		"\n"
		"Example:\n"
		"  certrack certificates verify 7KQ2-M9XW-4H1A\n"
		"  certrack certificates expiring --within 60d --csv > due.csv\n",
		"verify revoke list expiring renew renewal-exam",
	},
	{
		"ce", cli_cmd_ce,
		"continuing education: record, list, approve, reject",
		"ce add|list|approve|reject ...\n"
		"\n"
		"  ce add [CLINICIAN] --title TEXT --completed DATE --hours N\n"
		"      [--provider TEXT] [--category TEXT] [--evidence TEXT]\n"
		"  ce list [CLINICIAN]\n"
		"  ce approve ID                                  (staff)\n"
		"  ce reject ID --reason TEXT                     (staff)\n"
		"\n"
		"add: staff record an activity approved; a clinician records\n"
		"their own, pending until staff approve it.  Approved CE that\n"
		"completes a certificate's renewal requirement inside its\n"
		"window renews it at once.  list: the activities, then each\n"
		"current certificate's renewal window and what is missing.\n"
		"\n"
		"Example:\n"
		"  certrack ce add 12 --title 'Needling safety' --completed 2026-11-01 \\\n"
		"      --hours 4 --category safety\n",
		"add list approve reject",
	},
	{
		"renewal-policies", cli_cmd_renewal_policies,
		"how each level's certificates are renewed",
		"renewal-policies [list] | set ...\n"
		"\n"
		"  renewal-policies [list]                        (anyone)\n"
		"  renewal-policies set --program CODE|--level LEVEL\n"
		"      --method ce_hours|written_exam|none|default [--hours N]\n"
		"      [--category TEXT --category-hours N]\n"
		"      [--pass-mark PERCENT --attempts N]\n"
		"      [--window-before DAYS] [--window-after DAYS] (admin)\n"
		"\n"
		"ce_hours: N approved CE hours since the certificate was\n"
		"issued (some in a category when one is named); written_exam:\n"
		"re-sit the written exam, passing at PERCENT in at most N\n"
		"attempts (certificates renewal-exam); none: not\n"
		"renewable; default: a level follows its program's policy\n"
		"again.  The renewal window runs from DAYS before expiry (90)\n"
		"to DAYS after it (365).\n"
		"\n"
		"Example:\n"
		"  certrack renewal-policies set --level DN2 --method ce_hours --hours 16\n",
		"list set",
	},
	{
		"directory", cli_cmd_directory,
		"find certified practitioners (no login); your own listing",
		"directory search|set ...\n"
		"\n"
		"  directory search [--name PREFIX] [--profession P] [--state ST]\n"
		"      [--city CITY] [--zip ZIP] [--limit N] [--offset N] (anyone)\n"
		"  directory set [--listed yes|no] [--city CITY] [--state ST]\n"
		"      [--zip ZIP] [--contact TEXT]                  (clinician)\n"
		"\n"
		"search lists practitioners who chose to be listed and hold a\n"
		"valid certificate (a page of at most 50; --json, --quiet\n"
		"names).  set changes your own listing: an empty value clears\n"
		"a field.  Admins set anyone's with 'clinicians update'.\n"
		"\n"
		"Example:\n"
		"  certrack directory search --state CA --city 'San Diego'\n"
		"  certrack directory set --listed yes --zip 92101\n",
		"search set",
	},
	{
		"verify", cli_cmd_verify,
		"the same as 'certificates verify NUMBER'",
		"verify NUMBER\n"
		"\n"
		"Example:\n"
		"  certrack --url https://certrack.example.org verify "
		"7KQ2-M9XW-4H1A\n",
		NULL,
	},
	{
		"users", cli_cmd_users,
		"manage accounts and their tokens (admin)",
		"users list|add|disable|enable|reset-password|tokens|"
		"revoke-token ...\n"
		"\n"
		"  users list\n"
		"  users add USERNAME --role admin|grader|clinician\n"
		"      [--clinician ID] [--password-stdin]\n"
		"  users disable USER [--yes] | users enable USER\n"
		"  users reset-password USER [--yes]\n"
		"  users tokens USER\n"
		"  users revoke-token TOKEN [--yes]\n"
		"\n"
		"USER is an id or a username.  add without --password-stdin and\n"
		"reset-password print a generated one-time password (even with\n"
		"--quiet, which prints only it).  Disabling an account revokes\n"
		"its tokens.  disable, reset-password and revoke-token ask on\n"
		"the terminal first (--yes does not).\n"
		"\n"
		"Example:\n"
		"  certrack users add jroe --role clinician --clinician 12\n"
		"  certrack users disable jroe\n",
		"list add disable enable reset-password tokens revoke-token",
	},
	{
		"audit", cli_cmd_audit,
		"read the audit log (admin)",
		"audit [--clinician ID] [--actor USERNAME] [--action ACTION]\n"
		"      [--entity ENTITY [--id ID]] [--since DATE] [--until DATE]\n"
		"      [--limit N] [--offset N]\n"
		"\n"
		"Newest first.  Dates are YYYY-MM-DD or M/D/YYYY, both ends\n"
		"included.\n"
		"ACTION is such as clinician.update or enrollment.create.\n"
		"\n"
		"Example:\n"
		"  certrack audit --clinician 12 --since 2025-01-01\n",
		NULL,
	},
	{
		"webhooks", cli_cmd_webhooks,
		"webhook endpoints and notification deliveries (admin)",
		"webhooks list|add|disable|enable|test|deliveries|replay ...\n"
		"\n"
		"  webhooks list [--limit N] [--offset N]\n"
		"  webhooks add URL [--description TEXT]\n"
		"  webhooks disable WEBHOOK [--yes] | webhooks enable WEBHOOK\n"
		"  webhooks test WEBHOOK\n"
		"  webhooks deliveries [--status pending|delivered|failed]\n"
		"      [--channel webhook|email] [--webhook ID] [--limit N]\n"
		"      [--offset N]\n"
		"  webhooks replay DELIVERY\n"
		"\n"
		"Events (certificate issued, revoked, expiring, expired) are\n"
		"POSTed as signed JSON to every enabled endpoint and emailed to\n"
		"the clinician (docs/notifications.md).  add prints the\n"
		"endpoint's secret once (with --quiet, only it).  test queues a\n"
		"test event for one endpoint; replay makes a failed delivery\n"
		"due again.  disable asks on the terminal first (--yes does\n"
		"not).\n"
		"\n"
		"Example:\n"
		"  certrack webhooks add https://hooks.example.org/certrack\n"
		"  certrack webhooks deliveries --status failed\n"
		"  certrack webhooks replay 42\n",
		"list add disable enable test deliveries replay",
	},
	{
		"programs", cli_cmd_programs,
		"list programs, or show one with its levels and rules",
		"programs [list]\n"
		"       programs show PROGRAM\n"
		"\n"
		"No login needed.\n"
		"\n"
		"Example:\n"
		"  certrack programs show DN\n",
		"list show",
	},
	{
		"levels", cli_cmd_levels,
		"show a level's rules; admins change them",
		"levels show|set ...\n"
		"\n"
		"  levels show LEVEL\n"
		"  levels set LEVEL [--written-pass-mark PCT]\n"
		"      [--practical-pass-mark PCT] [--max-attempts N]\n"
		"      [--retake-wait-days N] [--contact-hours N] [--title TEXT]\n"
		"\n"
		"LEVEL is an id, or a code or title in any case (DN1, 'Level 1';\n"
		"PROGRAM/LEVEL when two programs share the name).\n"
		"\n"
		"Example:\n"
		"  certrack levels set DN2 --written-pass-mark 80\n",
		"show set",
	},
	{
		"professions", cli_cmd_professions,
		"list the known professions and their spellings",
		"professions\n"
		"\n"
		"No login needed.\n"
		"\n"
		"Example:\n"
		"  certrack professions\n",
		NULL,
	},
	{
		"eligibility", cli_cmd_eligibility,
		"may a profession enroll in a program?",
		"eligibility PROFESSION [--program CODE]\n"
		"\n"
		"PROFESSION is a code or a spelling such as 'Physical\n"
		"Therapist' or DPT.  Exits 0 when eligible, 1 when not.  No\n"
		"login needed.\n"
		"\n"
		"Example:\n"
		"  certrack eligibility 'Physical Therapist Assistant'\n",
		NULL,
	},
	{
		"import", cli_cmd_import,
		"import a roster, exam results or CE activities from a CSV file",
		"import roster|results|ce FILE [--dry-run] [--partial]\n"
		"      [--delimiter comma|semicolon|tab|auto] [--errors-csv OUT]\n"
		"      [--certificates]\n"
		"       import list [--limit N]\n"
		"       import show ID [--errors N] [--certificates N]\n"
		"\n"
		"Sends FILE (- for standard input) to the server, streamed, and\n"
		"prints its report: the counts, the ignored columns and every\n"
		"problem with its line, column and value (on stdout).  Rosters\n"
		"are for admins, results and CE (continuing-education\n"
		"activities, recorded approved) for admins and graders.  By default\n"
		"one bad row and nothing is written (exit 1); --partial writes\n"
		"the good rows; --dry-run checks everything and writes nothing.\n"
		"--errors-csv writes the rows with problems, with an 'error'\n"
		"column, to OUT, to fix and import again.  --certificates lists\n"
		"the certificates the import issued (import show lists them,\n"
		"the first 1000 or N).  On a terminal (not under --quiet), a\n"
		"line shows the server's side while it works: rows received,\n"
		"checked, merged.  See docs/import.md.\n"
		"Exit 0 imported, 1 refused, 2 usage (FILE cannot be opened).\n"
		"\n"
		"Example:\n"
		"  certrack import roster march.csv --dry-run\n"
		"  certrack import results scores.csv --errors-csv fix.csv\n"
		"  certrack import ce ce-2026.csv --partial\n"
		"  certrack import show 12\n",
		"roster results ce list show",
	},
	{
		"context", cli_cmd_context,
		"several servers, each with its own token",
		"context list|add|use|remove ...\n"
		"\n"
		"  context list\n"
		"  context add NAME --url URL [--use]\n"
		"  context use NAME\n"
		"  context remove NAME\n"
		"\n"
		"A context is a server's URL and the token of a login there,\n"
		"kept in the config file (mode 0600) under [NAME]; the file's\n"
		"top level is the context 'default'.  'context use' chooses the\n"
		"one commands talk to; --context NAME (or $CERTRACK_CONTEXT)\n"
		"chooses for one run, and then $CERTRACK_URL and $CERTRACK_TOKEN\n"
		"do not count.  'certrack --context NAME login' logs in there;\n"
		"whoami names the context in use.  remove forgets its token\n"
		"(it asks first when there is one).\n"
		"\n"
		"Example:\n"
		"  certrack context add staging --url https://staging.example.org\n"
		"  certrack --context staging login jdoe\n"
		"  certrack context use staging\n",
		"list add use remove",
	},
	{
		"health", cli_cmd_health,
		"check that the server is up and its database is ready",
		"health\n"
		"\n"
		"Asks the server's /readyz whether its database is reachable\n"
		"and its schema current.  Prints 'ready: schema version N' and\n"
		"exits 0, or says why not and exits 5.  With --json prints the\n"
		"server's answer unchanged; with --quiet prints nothing.\n"
		"\n"
		"Example:\n"
		"  certrack --url http://127.0.0.1:8080 health\n"
		"  ready: schema version 2\n",
		NULL,
	},
	{
		"help", cli_cmd_help,
		"show the commands, or one command's synopsis and an example",
		"help [COMMAND | options]\n"
		"\n"
		"Without COMMAND lists the commands, the global options and\n"
		"the exit codes; with COMMAND shows that command's help, the\n"
		"same as 'certrack COMMAND --help'; 'help options' shows the\n"
		"options every command takes.\n"
		"\n"
		"Example:\n"
		"  certrack help health\n",
		NULL,
	},
	{
		"__complete", cli_cmd_complete_words, NULL,
		"__complete WORD...\n"
		"\n"
		"The words a shell may offer after 'certrack WORD...' (the last\n"
		"one being completed), one a line, for the completion scripts.\n",
		NULL,
	},
};

const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

/* The other number of a noun: `certrack clinician show 12` works. */
static const struct { const char *alias, *name; } aliases[] = {
	{ "clinician", "clinicians" },
	{ "session", "sessions" },
	{ "user", "users" },
	{ "certificate", "certificates" },
	{ "program", "programs" },
	{ "profession", "professions" },
	{ "level", "levels" },
	{ "result", "results" },
	{ "imports", "import" },
	{ "contexts", "context" },
};

const struct cli_command *
cli_command_find(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].alias, name) == 0)
			return cli_command_find(aliases[i].name);
	return NULL;
}

size_t
cli_command_names(const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < cli_ncommands && n < max; i++)
		if (cli_commands[i].summary != NULL)
			names[n++] = cli_commands[i].name;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]) &&
	    n < max; i++)
		names[n++] = aliases[i].alias;
	return n;
}

int
cli_unknown_command(const struct cli_ctx *ctx, const char *name)
{
	const char *names[64];
	size_t n = cli_command_names(names, 64);
	const char *guess = cli_suggest(name, names, n);

	if (guess != NULL)
		return cli_usage_error(ctx, "unknown command '%s'; did you "
		    "mean '%s'?", name, guess);
	return cli_usage_error(ctx, "unknown command '%s'", name);
}

static const char global_options[] =
"  -u, --url URL        the server (else $CERTRACK_URL, else 'url' in\n"
"                       the config file, $XDG_CONFIG_HOME/certrack/config\n"
"                       or ~/.config/certrack/config, else\n"
"                       " CLI_DEFAULT_URL ")\n"
"  -t, --token TOKEN    the bearer token (else $CERTRACK_TOKEN, else\n"
"                       'token' in the config file; 'certrack login' writes\n"
"                       it there, which keeps it out of the process list)\n"
"  -c, --context NAME   the server and token of context NAME (else\n"
"                       $CERTRACK_CONTEXT, else the one 'certrack context\n"
"                       use' chose); see 'certrack help context'\n"
"  -j, --json           print JSON for scripts: the server's answer, a\n"
"                       list as {\"total\", \"limit\", \"offset\",\n"
"                       \"items\"}, a failure's problem document\n"
"      --csv            print a list as CSV, a header line first\n"
"  -q, --quiet          print nothing on success (a list: its ids, one a\n"
"                       line), and no warnings\n"
"  -y, --yes            do not ask before revoking, withdrawing, disabling;\n"
"                       needed when standard input is not a terminal\n"
"      --timeout SECS   give up on a request after SECS seconds\n"
"                       (default 30; 0 waits for ever)\n"
"      --cacert FILE    trust the certificate authority in FILE for https\n"
"                       (else $CERTRACK_CACERT, else the system's)\n"
"      --insecure-http  allow plain http:// to a host other than this one\n"
"                       (passwords and tokens would cross it unencrypted)\n"
"  -h, --help           show help (also 'certrack COMMAND --help')\n";

void
cli_usage(FILE *fp)
{
	fputs("usage: certrack [OPTIONS] COMMAND [ARGS]\n"
	    "\n"
	    "The command-line client of certrackd, the certification exam "
	    "tracker.\n"
	    "\n"
	    "Commands:\n", fp);
	for (size_t i = 0; i < cli_ncommands; i++)
		if (cli_commands[i].summary != NULL)
			fprintf(fp, "  %-12s %s\n", cli_commands[i].name,
			    cli_commands[i].summary);
	fputs("\nOptions (before or after COMMAND):\n", fp);
	fputs(global_options, fp);
	fputs("  -V, --version        show the version (before COMMAND)\n"
	    "\n"
	    "Exit codes:\n"
	    "  0  ok\n"
	    "  1  refused by a rule (not eligible, prerequisite missing, ...)\n"
	    "  2  usage error: bad command line or configuration\n"
	    "  3  not found\n"
	    "  4  authentication or permission: log in, or not allowed\n"
	    "  5  server or network failure (or output that cannot be "
	    "written)\n"
	    "\n"
	    "Run 'certrack help COMMAND' for a command's synopsis and an "
	    "example.\n"
	    "A failure prints its sentence on stderr, with the request id "
	    "when the\nserver answered; with --json its problem document "
	    "on stdout as well.\n", fp);
}

void
cli_command_usage(const struct cli_command *cmd, FILE *fp)
{
	fprintf(fp, "usage: certrack %s", cmd->help);
	fputs("\nThe options every command takes (--json, --csv, --quiet, "
	    "--yes,\n--context, --url, ...): 'certrack help options'.\n", fp);
}

/* `certrack help options`. */
static void
options_usage(FILE *fp)
{
	fputs("Options every command takes, before or after its name:\n",
	    fp);
	fputs(global_options, fp);
}

int
cli_cmd_help(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_command *cmd;
	int c, rc;
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		return cli_usage_error(ctx, "unexpected option");
	}
	if (optind == argc) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (optind + 1 < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind + 1]);
	if (strcmp(argv[optind], "options") == 0) {
		options_usage(stdout);
		return CLI_EXIT_OK;
	}
	cmd = cli_command_find(argv[optind]);
	if (cmd == NULL) {
		ctx->cmd = NULL;
		return cli_unknown_command(ctx, argv[optind]);
	}
	cli_command_usage(cmd, stdout);
	return CLI_EXIT_OK;
}
