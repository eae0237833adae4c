#ifndef CERTRACK_IMPORTREPORT_H
#define CERTRACK_IMPORTREPORT_H
/*
 * The pages of an import's report (GET /v1/imports/{id}), shared by the
 * daemon, which refuses a larger ?errors or ?certificates, and the CLI,
 * which asks for pages of this size (import show, --errors-csv).
 *
 * 10,000: an error is about 200 bytes of JSON (line, column, value,
 * message) and a certificate about 80, so a page is about 2 MB, held
 * twice in the daemon while it answers (the database's result and the
 * reply): a few pages at once stay well inside the daemon's 64 MB and one
 * inside the CLI's 16 MB, and a million errors are still only 100
 * requests.  A page of errors also stops at about 4 MB of their text
 * (sql/0023_import_report_pages.sql), for values up to a 64 KB field.
 */
#define IMPORT_REPORT_PAGE 10000

#endif
