#ifndef CERTRACK_IMPORTREPORT_H
#define CERTRACK_IMPORTREPORT_H
/*
 * The largest page of an import's report (GET /v1/imports/{id}): the
 * daemon refuses a larger ?errors or ?certificates, and the CLI's
 * `import show --json` asks for no more (its tables and --errors-csv
 * read smaller pages: CLI_PAGE, cli/cmd_import.c).
 *
 * 10,000: an error is about 200 bytes of JSON (line, column, value,
 * message) and a certificate about 80, so a page is about 2 MB, held
 * twice in the daemon while it answers (the database's result and the
 * reply): several pages at once stay inside the daemon's 64 MB, and a
 * million errors are still only 100 requests.  A page of errors also
 * stops at 400 bytes of their text an error asked for and 2 MB in all
 * (sql/0024_import_report_pages.sql), for values up to a 64 KB field.
 */
#define IMPORT_REPORT_PAGE 10000

#endif
