/*
 * Integration tests of the db layer's statement and COPY helpers
 * (server/db.c) against a private PostgreSQL, on a connection of the
 * test's own as an import has: a COPY buffer that lost an append is never
 * sent (not even its bytes from before the loss), the failures of a COPY
 * and of a statement are mapped to the same cterr codes, and COPY TO
 * STDOUT hands over every row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "certrack/cterr.h"
#include "certrack/db.h"
#include "certrack/strbuf.h"
#include "testlib.h"

static PGconn *conn;
static char *conninfo;

static int
setup(void **state)
{
	(void)state;
	conninfo = testdb_create("integ_db");
	conn = testdb_connect(conninfo);
	testdb_exec_ok(conn, "CREATE TABLE t (line int PRIMARY KEY, v text)");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	PQfinish(conn);
	free(conninfo);
	return 0;
}

static long long
rows_of_t(void)
{
	char *v = testdb_value(conn, "SELECT count(*) FROM t");
	long long n = strtoll(v, NULL, 10);

	free(v);
	return n;
}

/*
 * A buffer whose middle append was lost holds a whole first row; it is
 * refused whole, and the COPY, ended, has added nothing.  The same COPY
 * then takes a sound buffer, so the zero is not for want of trying.
 */
static void
lost_append_is_never_sent(void **state)
{
	struct strbuf sb;
	struct cterr err;

	(void)state;
	testdb_exec_ok(conn, "TRUNCATE t");
	cterr_clear(&err);
	assert_int_equal(db_copy_in(conn, "COPY t FROM STDIN", &err), 0);
	strbuf_init_max(&sb, 16);
	assert_int_equal(strbuf_addstr(&sb, "1\tone\n"), 0);
	assert_int_equal(strbuf_addstr(&sb, "2\ttwo and a lot more\n"), -1);
	assert_int_equal(strbuf_addstr(&sb, "3\tc\n"), -1);
	assert_int_equal(db_copy_put(conn, &sb, &err), -1);
	assert_int_equal(err.status, 500);
	assert_string_equal(err.code, "internal");
	assert_non_null(strstr(err.detail, "lost before it was sent"));
	/* Still refused when tried again (as an import's last flush does). */
	cterr_clear(&err);
	assert_int_equal(db_copy_put(conn, &sb, &err), -1);
	assert_string_equal(err.code, "internal");
	cterr_clear(&err);
	assert_int_equal(db_copy_end(conn, NULL, &err), 0);
	assert_int_equal(rows_of_t(), 0);

	strbuf_release(&sb);
	assert_int_equal(db_copy_in(conn, "COPY t FROM STDIN", &err), 0);
	assert_int_equal(strbuf_addstr(&sb, "1\tone\n"), 0);
	assert_int_equal(db_copy_put(conn, &sb, &err), 0);
	assert_int_equal(db_copy_end(conn, NULL, &err), 0);
	assert_int_equal(rows_of_t(), 1);
	strbuf_release(&sb);
}

/* A COPY's failures map as a statement's do; the connection stays usable. */
static void
copy_errors_are_mapped(void **state)
{
	struct strbuf sb;
	struct cterr err;

	(void)state;
	testdb_exec_ok(conn, "TRUNCATE t");
	testdb_exec_ok(conn, "INSERT INTO t VALUES (1, 'one')");
	/* A duplicate key, found when the data ends. */
	cterr_clear(&err);
	strbuf_init(&sb);
	assert_int_equal(db_copy_in(conn, "COPY t FROM STDIN", &err), 0);
	assert_int_equal(strbuf_addstr(&sb, "2\ttwo\n1\tagain\n"), 0);
	assert_int_equal(db_copy_put(conn, &sb, &err), 0);
	assert_int_equal(db_copy_end(conn, NULL, &err), -1);
	assert_int_equal(err.status, 409);
	assert_string_equal(err.code, "duplicate");
	assert_string_equal(err.sqlstate, "23505");
	assert_int_equal(rows_of_t(), 1);
	/* Abandoned by the sender: nothing kept. */
	cterr_clear(&err);
	assert_int_equal(db_copy_in(conn, "COPY t FROM STDIN", &err), 0);
	assert_int_equal(db_copy_put(conn, &sb, &err), 0);
	assert_int_equal(db_copy_end(conn, "import abandoned", &err), -1);
	assert_int_equal(err.status, 500);
	assert_string_equal(err.code, "database_error");
	assert_int_equal(rows_of_t(), 1);
	/* No such table: refused at the start. */
	cterr_clear(&err);
	assert_int_equal(db_copy_in(conn, "COPY nosuch FROM STDIN", &err), -1);
	assert_string_equal(err.code, "database_error");
	assert_string_equal(err.sqlstate, "42P01");
	assert_int_equal(rows_of_t(), 1);
	strbuf_release(&sb);
}

/* db_run(): 0 for a statement that worked, the mapped error otherwise. */
static void
run_maps_like_exec(void **state)
{
	static const struct db_stmt ins = { "integ_db_ins",
	    "INSERT INTO t VALUES ($1, $2)", 2 };
	static const struct db_stmt begin = { "integ_db_begin", "BEGIN", 0 };
	static const struct db_stmt rollback = { "integ_db_rollback",
	    "ROLLBACK", 0 };
	const char *p1[2] = { "7", "seven" }, *p2[2] = { "7", "again" };
	const char *p3[2] = { "8", NULL };
	struct cterr err;

	(void)state;
	testdb_exec_ok(conn, "TRUNCATE t");
	cterr_clear(&err);
	assert_int_equal(db_run(conn, &begin, NULL, &err), 0);
	assert_int_equal(db_run(conn, &ins, p1, &err), 0);
	assert_int_equal(db_run(conn, &ins, p3, &err), 0);	/* NULL */
	assert_int_equal(db_run(conn, &rollback, NULL, &err), 0);
	assert_false(cterr_isset(&err));
	assert_int_equal(rows_of_t(), 0);
	assert_int_equal(db_run(conn, &ins, p1, &err), 0);
	assert_int_equal(db_run(conn, &ins, p2, &err), -1);
	assert_int_equal(err.status, 409);
	assert_string_equal(err.code, "duplicate");
	assert_int_equal(rows_of_t(), 1);
}

static void
collect(void *arg, const char *row, size_t len)
{
	strbuf_add(arg, row, len);
}

/* COPY TO STDOUT: every row, in order, each with its newline. */
static void
copy_out_hands_over_every_row(void **state)
{
	struct strbuf sb;
	struct cterr err;

	(void)state;
	testdb_exec_ok(conn, "TRUNCATE t");
	testdb_exec_ok(conn, "INSERT INTO t SELECT g, 'v' || g FROM "
	    "generate_series(1, 3) g");
	cterr_clear(&err);
	strbuf_init(&sb);
	assert_int_equal(db_copy_out(conn, "COPY (SELECT line, v FROM t "
	    "ORDER BY line DESC) TO STDOUT", collect, &sb, &err), 0);
	assert_string_equal(sb.buf, "3\tv3\n2\tv2\n1\tv1\n");
	strbuf_reset(&sb);
	assert_int_equal(db_copy_out(conn, "COPY (SELECT 1/0) TO STDOUT",
	    collect, &sb, &err), -1);
	assert_string_equal(err.sqlstate, "22012");
	assert_string_equal(sb.buf, "");
	/* The connection is ready for the next statement. */
	assert_int_equal(rows_of_t(), 3);
	strbuf_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lost_append_is_never_sent),
		cmocka_unit_test(copy_errors_are_mapped),
		cmocka_unit_test(run_maps_like_exec),
		cmocka_unit_test(copy_out_hands_over_every_row),
	};

	return cmocka_run_group_tests_name("integ_db", tests, setup, teardown);
}
