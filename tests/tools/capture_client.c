/*
 * libmariadb (MariaDB Connector/C) driven client for the capture scenarios
 * that need the C API: prepared statements, cursors, COM_FIELD_LIST,
 * COM_CHANGE_USER, COM_RESET_CONNECTION, ...
 *
 * Build:  cc -O0 -o capture_client capture_client.c $(mariadb_config --cflags --libs)
 * Usage:  capture_client SCENARIO PORT
 *
 * Before each step it prints "STEP <text>" on stdout and waits for one line
 * on stdin, so the driver (capture_scenarios.py) can put a "# step:"
 * comment into the capture at exactly the right place.
 */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int g_port;

static void step(const char *text) {
  char line[64];
  printf("STEP %s\n", text);
  fflush(stdout);
  if (!fgets(line, sizeof line, stdin)) exit(3);
}

static void die(MYSQL *m, const char *what) {
  fprintf(stderr, "%s: %s\n", what, m ? mysql_error(m) : "?");
  exit(2);
}

static void stmt_die(MYSQL_STMT *s, const char *what) {
  fprintf(stderr, "%s: %s\n", what, mysql_stmt_error(s));
  exit(2);
}

static MYSQL *connect_as(const char *user, const char *pass, const char *db) {
  MYSQL *m = mysql_init(NULL);
  my_bool off = 0;
  unsigned int proto = MYSQL_PROTOCOL_TCP;
  mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &proto);
  mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &off);
  mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &off);
  if (!mysql_real_connect(m, "127.0.0.1", user, pass, db, g_port, NULL, 0))
    die(m, "connect");
  return m;
}

static void query_and_drain(MYSQL *m, const char *sql) {
  if (mysql_query(m, sql)) {
    printf("query error %u: %s\n", mysql_errno(m), mysql_error(m));
    return;
  }
  do {
    MYSQL_RES *r = mysql_store_result(m);
    if (r) mysql_free_result(r);
  } while (mysql_next_result(m) == 0);
}

/* Binds every result column as a string and fetches all rows. */
static int fetch_all(MYSQL_STMT *s) {
  MYSQL_RES *meta = mysql_stmt_result_metadata(s);
  if (!meta) return 0;
  unsigned int n = mysql_num_fields(meta);
  MYSQL_BIND *b = calloc(n, sizeof *b);
  char (*buf)[256] = calloc(n, 256);
  unsigned long *len = calloc(n, sizeof *len);
  my_bool *isnull = calloc(n, sizeof *isnull);
  for (unsigned int i = 0; i < n; i++) {
    b[i].buffer_type = MYSQL_TYPE_STRING;
    b[i].buffer = buf[i];
    b[i].buffer_length = 255;
    b[i].length = &len[i];
    b[i].is_null = &isnull[i];
  }
  if (mysql_stmt_bind_result(s, b)) stmt_die(s, "bind_result");
  int rows = 0, rc;
  while ((rc = mysql_stmt_fetch(s)) == 0 || rc == MYSQL_DATA_TRUNCATED) rows++;
  if (rc == 1) stmt_die(s, "fetch");
  mysql_free_result(meta);
  free(b); free(buf); free(len); free(isnull);
  return rows;
}

static MYSQL_STMT *prepare(MYSQL *m, const char *sql) {
  MYSQL_STMT *s = mysql_stmt_init(m);
  if (mysql_stmt_prepare(s, sql, (unsigned long)strlen(sql)))
    stmt_die(s, "prepare");
  return s;
}

static void scenario_connect(void) {
  MYSQL *m = connect_as("cap", "cap_pass", NULL);
  step("COM_QUIT");
  mysql_close(m);
}

static void scenario_prepare_execute(void) {
  MYSQL *m = connect_as("cap", "cap_pass", "capdb");

  step("COM_STMT_PREPARE with 2 params and 6 columns");
  MYSQL_STMT *s = prepare(m,
      "SELECT id, name, score, ratio, created, note FROM t_items "
      "WHERE id > ? AND name <> ? ORDER BY id");

  int min_id = 0;
  char name[] = "beta";
  unsigned long name_len = 4;
  MYSQL_BIND pb[2];
  memset(pb, 0, sizeof pb);
  pb[0].buffer_type = MYSQL_TYPE_LONG;
  pb[0].buffer = &min_id;
  pb[1].buffer_type = MYSQL_TYPE_STRING;
  pb[1].buffer = name;
  pb[1].buffer_length = sizeof name;
  pb[1].length = &name_len;
  if (mysql_stmt_bind_param(s, pb)) stmt_die(s, "bind_param");

  step("COM_STMT_EXECUTE (id > 0, name <> 'beta'): binary result set, 2 rows");
  if (mysql_stmt_execute(s)) stmt_die(s, "execute");
  printf("rows %d\n", fetch_all(s));

  step("COM_STMT_EXECUTE again, same types (id > 1, name <> 'x')");
  min_id = 1;
  strcpy(name, "x");
  name_len = 1;
  if (mysql_stmt_execute(s)) stmt_die(s, "execute 2");
  printf("rows %d\n", fetch_all(s));

  step("COM_STMT_CLOSE (no response)");
  mysql_stmt_close(s);

  step("COM_STMT_PREPARE of an INSERT: 2 params, no columns");
  s = prepare(m, "INSERT INTO t_blob (id, data) VALUES (?, ?)");
  int id = 42;
  MYSQL_BIND ib[2];
  memset(ib, 0, sizeof ib);
  ib[0].buffer_type = MYSQL_TYPE_LONG;
  ib[0].buffer = &id;
  ib[1].buffer_type = MYSQL_TYPE_BLOB;
  if (mysql_stmt_bind_param(s, ib)) stmt_die(s, "bind_param 2");

  step("COM_STMT_SEND_LONG_DATA param 1, chunk 1 (no response)");
  if (mysql_stmt_send_long_data(s, 1, "hello, ", 7)) stmt_die(s, "long data");
  step("COM_STMT_SEND_LONG_DATA param 1, chunk 2 (no response)");
  if (mysql_stmt_send_long_data(s, 1, "long data", 9)) stmt_die(s, "long data 2");
  step("COM_STMT_EXECUTE of the INSERT: OK, 1 row affected");
  if (mysql_stmt_execute(s)) stmt_die(s, "execute insert");

  step("COM_STMT_SEND_LONG_DATA param 1 again, then COM_STMT_RESET discards it");
  if (mysql_stmt_send_long_data(s, 1, "discarded", 9)) stmt_die(s, "long data 3");
  step("COM_STMT_RESET: OK");
  if (mysql_stmt_reset(s)) stmt_die(s, "reset");
  step("COM_STMT_CLOSE of the INSERT statement");
  mysql_stmt_close(s);

  step("COM_STMT_PREPARE with no params and 4 columns (INT, string, NULL, DATETIME(3))");
  s = prepare(m, "SELECT 1 AS one, 'abc' AS s, NULL AS nothing, "
                 "CAST('2024-02-29 12:34:56.789' AS DATETIME(3)) AS ts");
  step("COM_STMT_EXECUTE with no params: 1 row");
  if (mysql_stmt_execute(s)) stmt_die(s, "execute 3");
  printf("rows %d\n", fetch_all(s));
  step("COM_STMT_CLOSE");
  mysql_stmt_close(s);

  step("COM_STMT_PREPARE error: unknown column");
  MYSQL_STMT *bad = mysql_stmt_init(m);
  if (!mysql_stmt_prepare(bad, "SELECT nope FROM t_items", 24))
    fprintf(stderr, "expected failure\n");
  mysql_stmt_close(bad);

  step("COM_QUIT");
  mysql_close(m);
}

static void scenario_cursor_fetch(void) {
  MYSQL *m = connect_as("cap", "cap_pass", "capdb");
  step("COM_STMT_PREPARE SELECT n, n*10 FROM t_seq (5 rows)");
  MYSQL_STMT *s = prepare(m, "SELECT n, n * 10 AS tens FROM t_seq ORDER BY n");
  unsigned long type = CURSOR_TYPE_READ_ONLY, prefetch = 2;
  mysql_stmt_attr_set(s, STMT_ATTR_CURSOR_TYPE, &type);
  mysql_stmt_attr_set(s, STMT_ATTR_PREFETCH_ROWS, &prefetch);
  step("COM_STMT_EXECUTE flags=CURSOR_TYPE_READ_ONLY: metadata only, "
       "EOF with SERVER_STATUS_CURSOR_EXISTS");
  if (mysql_stmt_execute(s)) stmt_die(s, "execute");
  step("COM_STMT_FETCH of 2 rows at a time (STMT_ATTR_PREFETCH_ROWS=2) "
       "until SERVER_STATUS_LAST_ROW_SENT");
  printf("rows %d\n", fetch_all(s));
  step("COM_STMT_CLOSE");
  mysql_stmt_close(s);
  step("COM_QUIT");
  mysql_close(m);
}

static void scenario_field_list(void) {
  MYSQL *m = connect_as("cap", "cap_pass", "capdb");
  step("COM_FIELD_LIST t_items (all columns)");
  MYSQL_RES *r = mysql_list_fields(m, "t_items", NULL);
  if (r) mysql_free_result(r); else printf("err %s\n", mysql_error(m));
  step("COM_FIELD_LIST t_items with wildcard 'n%'");
  r = mysql_list_fields(m, "t_items", "n%");
  if (r) mysql_free_result(r); else printf("err %s\n", mysql_error(m));
  step("COM_FIELD_LIST of an unknown table: ERR 1146");
  r = mysql_list_fields(m, "no_such_table", NULL);
  if (r) mysql_free_result(r); else printf("err %s\n", mysql_error(m));
  step("COM_QUIT");
  mysql_close(m);
}

static void scenario_statistics(void) {
  MYSQL *m = connect_as("cap", "cap_pass", NULL);
  step("COM_STATISTICS: one plain-text packet, no OK header");
  const char *st = mysql_stat(m);
  printf("stat %s\n", st ? st : "(null)");
  step("COM_QUIT");
  mysql_close(m);
}

static void scenario_ping(void) {
  MYSQL *m = connect_as("cap", "cap_pass", NULL);
  step("COM_PING: OK");
  if (mysql_ping(m)) die(m, "ping");
  step("COM_QUIT");
  mysql_close(m);
}

static void scenario_init_db(void) {
  MYSQL *m = connect_as("cap", "cap_pass", NULL);
  step("COM_INIT_DB capdb: OK (with session-track schema since the client sets CLIENT_SESSION_TRACK)");
  if (mysql_select_db(m, "capdb")) die(m, "select_db");
  step("COM_INIT_DB no_such_db: ERR 1049");
  if (!mysql_select_db(m, "no_such_db")) fprintf(stderr, "expected failure\n");
  step("COM_QUIT");
  mysql_close(m);
}

static void scenario_set_option(void) {
  MYSQL *m = connect_as("cap", "cap_pass", NULL);
  step("COM_SET_OPTION MYSQL_OPTION_MULTI_STATEMENTS_OFF");
  if (mysql_set_server_option(m, MYSQL_OPTION_MULTI_STATEMENTS_OFF)) die(m, "off");
  step("COM_QUERY multi-statement now rejected: ERR 1064");
  query_and_drain(m, "SELECT 1; SELECT 2");
  step("COM_SET_OPTION MYSQL_OPTION_MULTI_STATEMENTS_ON");
  if (mysql_set_server_option(m, MYSQL_OPTION_MULTI_STATEMENTS_ON)) die(m, "on");
  step("COM_QUIT");
  mysql_close(m);
}

static void scenario_change_user(void) {
  MYSQL *m = connect_as("cap", "cap_pass", NULL);
  step("COM_CHANGE_USER to cap2 (mysql_native_password, scrambled with the greeting nonce): OK");
  if (mysql_change_user(m, "cap2", "cap2_pass", "capdb")) die(m, "change_user");
  step("SELECT CURRENT_USER()");
  query_and_drain(m, "SELECT CURRENT_USER()");
  step("COM_CHANGE_USER to cap_ed (ed25519): AuthSwitchRequest client_ed25519, signature, OK");
  if (mysql_change_user(m, "cap_ed", "ed_pass", "capdb")) die(m, "change_user 2");
  step("SELECT CURRENT_USER()");
  query_and_drain(m, "SELECT CURRENT_USER()");
  step("COM_CHANGE_USER to cap with a wrong password: ERR 1045");
  if (!mysql_change_user(m, "cap", "wrong", NULL)) fprintf(stderr, "expected failure\n");
  mysql_close(m);
}

static void scenario_reset_connection(void) {
  MYSQL *m = connect_as("cap", "cap_pass", NULL);
  step("SET @x = 42, autocommit = 0");
  query_and_drain(m, "SET @x = 42, autocommit = 0");
  step("COM_STMT_PREPARE SELECT ? + 1 (a statement the reset will drop)");
  MYSQL_STMT *s = prepare(m, "SELECT ? + 1");
  step("COM_RESET_CONNECTION: OK");
  if (mysql_reset_connection(m)) die(m, "reset_connection");
  step("SELECT @x, @@autocommit after the reset");
  query_and_drain(m, "SELECT @x, @@autocommit");
  (void)s; /* the statement handle is invalidated by the reset */
  step("COM_QUIT");
  mysql_close(m);
}

static void scenario_call_prepared(void) {
  MYSQL *m = connect_as("cap", "cap_pass", "capdb");
  step("COM_STMT_PREPARE CALL p_two(?)");
  MYSQL_STMT *s = prepare(m, "CALL p_two(?)");
  int x = 7;
  MYSQL_BIND pb[1];
  memset(pb, 0, sizeof pb);
  pb[0].buffer_type = MYSQL_TYPE_LONG;
  pb[0].buffer = &x;
  if (mysql_stmt_bind_param(s, pb)) stmt_die(s, "bind_param");
  step("COM_STMT_EXECUTE: two binary result sets, then the CALL's OK");
  if (mysql_stmt_execute(s)) stmt_die(s, "execute");
  int rc;
  do {
    if (mysql_stmt_field_count(s) > 0) printf("rows %d\n", fetch_all(s));
    rc = mysql_stmt_next_result(s);
    if (rc > 0) stmt_die(s, "next_result");
  } while (rc == 0);
  step("COM_STMT_CLOSE");
  mysql_stmt_close(s);

  step("COM_STMT_PREPARE CALL p_out(?, ?) (IN and OUT parameter)");
  s = prepare(m, "CALL p_out(?, ?)");
  int y = 0;
  MYSQL_BIND ob[2];
  memset(ob, 0, sizeof ob);
  ob[0].buffer_type = MYSQL_TYPE_LONG;
  ob[0].buffer = &x;
  ob[1].buffer_type = MYSQL_TYPE_LONG;
  ob[1].buffer = &y;
  if (mysql_stmt_bind_param(s, ob)) stmt_die(s, "bind_param out");
  step("COM_STMT_EXECUTE: OUT-parameter result set (SERVER_PS_OUT_PARAMS), then OK");
  if (mysql_stmt_execute(s)) stmt_die(s, "execute out");
  do {
    if (mysql_stmt_field_count(s) > 0) printf("rows %d\n", fetch_all(s));
    rc = mysql_stmt_next_result(s);
    if (rc > 0) stmt_die(s, "next_result out");
  } while (rc == 0);
  step("COM_STMT_CLOSE");
  mysql_stmt_close(s);
  step("COM_QUIT");
  mysql_close(m);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SCENARIO PORT\n", argv[0]);
    return 1;
  }
  g_port = (unsigned int)atoi(argv[2]);
  const char *sc = argv[1];
  if (!strcmp(sc, "connect")) scenario_connect();
  else if (!strcmp(sc, "prepare_execute")) scenario_prepare_execute();
  else if (!strcmp(sc, "call_prepared")) scenario_call_prepared();
  else if (!strcmp(sc, "cursor_fetch")) scenario_cursor_fetch();
  else if (!strcmp(sc, "field_list")) scenario_field_list();
  else if (!strcmp(sc, "statistics")) scenario_statistics();
  else if (!strcmp(sc, "ping")) scenario_ping();
  else if (!strcmp(sc, "init_db")) scenario_init_db();
  else if (!strcmp(sc, "set_option")) scenario_set_option();
  else if (!strcmp(sc, "change_user")) scenario_change_user();
  else if (!strcmp(sc, "reset_connection")) scenario_reset_connection();
  else {
    fprintf(stderr, "unknown scenario %s\n", sc);
    return 1;
  }
  return 0;
}
