/*
 * qlclient: a small libmariadb (MariaDB Connector/C) client for the querylens
 * integration tests. It drives the protocol paths that the Python drivers do
 * not reach: server-side prepared statements (binary protocol, parameters,
 * COM_STMT_SEND_LONG_DATA, RESET, CLOSE), read-only cursors with
 * COM_STMT_FETCH, COM_CHANGE_USER, COM_RESET_CONNECTION, COM_PING,
 * COM_INIT_DB, COM_STATISTICS, COM_FIELD_LIST, COM_SET_OPTION and prepared
 * CALL with several result sets.
 *
 * Usage: qlclient HOST PORT USER PASSWORD DB SCENARIO
 *   scenarios: prepared, prepared_schema, longdata, cursor, change_user,
 *              change_user_fail, reset, misc, multi, infile, auth
 * Environment: QL_SSL_CA=FILE  use TLS and verify the server against FILE
 *              QL_TIMEOUT=SEC  connect/read/write timeout (default 30)
 *
 * Output is deterministic text, one event per line, so that a test can run
 * the same scenario directly against MariaDB and through the proxy and compare
 * the two outputs. Lines starting with "info " carry values that may
 * legitimately differ between the two (server version, counters) and are
 * excluded from comparisons. Exit status: 0 if the scenario ran to the end
 * (errors that the scenario provokes on purpose are printed, not fatal), 2 on
 * an unexpected failure, 1 on bad usage.
 */
#include <mysql.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_host, *g_user, *g_password, *g_db;
static unsigned int g_port;

static void out(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

static void die(const char *what, MYSQL *m) {
  if (m)
    out("FATAL %s: %u (%s) %s", what, mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
  else
    out("FATAL %s", what);
  exit(2);
}

static void die_stmt(const char *what, MYSQL_STMT *s) {
  out("FATAL %s: %u (%s) %s", what, mysql_stmt_errno(s), mysql_stmt_sqlstate(s),
      mysql_stmt_error(s));
  exit(2);
}

static void print_err(const char *what, MYSQL *m) {
  out("%s: ERR %u (%s) %s", what, mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
}

static void print_stmt_err(const char *what, MYSQL_STMT *s) {
  out("%s: ERR %u (%s) %s", what, mysql_stmt_errno(s), mysql_stmt_sqlstate(s),
      mysql_stmt_error(s));
}

/* Appends value bytes to line, escaping control bytes as \xNN (UTF-8 and
   other bytes >= 0x80 pass through unchanged). Returns the new position. */
static size_t append_value(char *line, size_t pos, size_t cap, const char *v, unsigned long n) {
  if (!v) {
    int w = snprintf(line + pos, cap - pos, "NULL");
    return pos + (size_t)w < cap ? pos + (size_t)w : cap - 1;
  }
  if (n > 200) n = 200;
  for (unsigned long i = 0; i < n && pos + 5 < cap; i++) {
    unsigned char c = (unsigned char)v[i];
    if (c < 0x20 || c == 0x7f || c == '\\') pos += (size_t)snprintf(line + pos, cap - pos, "\\x%02x", c);
    else line[pos++] = (char)c;
  }
  line[pos] = 0;
  return pos;
}

/* 64-bit FNV-1a: a checksum the test can recompute in Python. */
static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

/* Deterministic pseudo-random bytes (xorshift), reproducible in Python. */
static void fill_pattern(unsigned char *p, size_t n, uint32_t seed) {
  uint32_t x = seed ? seed : 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (unsigned char)(x & 0xff);
  }
}

static MYSQL *connect_as(const char *user, const char *password, const char *db,
                         unsigned long flags, int fatal) {
  MYSQL *m = mysql_init(NULL);
  if (!m) die("mysql_init", NULL);
  unsigned int timeout = 30;
  const char *t = getenv("QL_TIMEOUT");
  if (t && *t) timeout = (unsigned int)atoi(t);
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  unsigned int proto = MYSQL_PROTOCOL_TCP;
  mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
  unsigned int local_infile = 1;
  mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &local_infile);
  unsigned long maxpkt = 256UL * 1024 * 1024;
  mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxpkt);
  const char *ca = getenv("QL_SSL_CA");
  if (ca && *ca) {
    my_bool on = 1;
    mysql_ssl_set(m, NULL, NULL, ca, NULL, NULL);
    mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
    mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on);
  }
  if (!mysql_real_connect(m, g_host, user, password, db, g_port, NULL, flags)) {
    if (fatal) die("connect", m);
    print_err("connect", m);
    mysql_close(m);
    return NULL;
  }
  return m;
}

/* Prints a result set: metadata, then rows as tab-separated values. */
static void print_fields(MYSQL_FIELD *f, unsigned int n) {
  for (unsigned int i = 0; i < n; i++) {
    out("field %u name=%s org_name=%s table=%s org_table=%s db=%s catalog=%s type=%d "
        "length=%lu charsetnr=%u flags=%u decimals=%u",
        i, f[i].name, f[i].org_name ? f[i].org_name : "", f[i].table,
        f[i].org_table ? f[i].org_table : "", f[i].db ? f[i].db : "",
        f[i].catalog ? f[i].catalog : "", (int)f[i].type, f[i].length, f[i].charsetnr,
        f[i].flags, f[i].decimals);
  }
}

static void print_result(MYSQL_RES *res) {
  unsigned int n = mysql_num_fields(res);
  print_fields(mysql_fetch_fields(res), n);
  MYSQL_ROW row;
  unsigned long rows = 0;
  char line[8192];
  while ((row = mysql_fetch_row(res))) {
    unsigned long *len = mysql_fetch_lengths(res);
    size_t pos = 0;
    line[0] = 0;
    for (unsigned int i = 0; i < n; i++) {
      if (i && pos + 1 < sizeof line) line[pos++] = '\t';
      pos = append_value(line, pos, sizeof line, row[i], len[i]);
    }
    out("row %s", line);
    rows++;
  }
  out("rows %lu", rows);
}

/* Runs one text query and prints every result it produces (multi-results). */
static void query(MYSQL *m, const char *sql) {
  out("query %s", sql);
  if (mysql_query(m, sql)) {
    print_err("  result", m);
    return;
  }
  int set = 0;
  for (;;) {
    MYSQL_RES *res = mysql_store_result(m);
    if (res) {
      out("  set %d:", set);
      print_result(res);
      mysql_free_result(res);
    } else if (mysql_field_count(m) == 0) {
      const char *info = mysql_info(m);
      out("  set %d: ok affected=%llu insert_id=%llu warnings=%u info=%s", set,
          (unsigned long long)mysql_affected_rows(m), (unsigned long long)mysql_insert_id(m),
          mysql_warning_count(m), info ? info : "");
    } else {
      print_err("  store_result", m);
      return;
    }
    set++;
    int rc = mysql_next_result(m);
    if (rc == -1) break;
    if (rc > 0) {
      print_err("  next_result", m);
      return;
    }
  }
}

static void must(MYSQL *m, const char *sql) {
  if (mysql_query(m, sql)) {
    out("while running: %s", sql);
    die("query", m);
  }
  /* Drain any result. */
  do {
    MYSQL_RES *r = mysql_store_result(m);
    if (r) mysql_free_result(r);
  } while (mysql_next_result(m) == 0);
}

static void info_session_status(MYSQL *m, const char *like) {
  char sql[256];
  snprintf(sql, sizeof sql, "SHOW SESSION STATUS LIKE '%s'", like);
  if (mysql_query(m, sql)) return;
  MYSQL_RES *r = mysql_store_result(m);
  if (!r) return;
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(r))) out("info status %s=%s", row[0], row[1]);
  mysql_free_result(r);
}

/* ---- prepared statements --------------------------------------------------- */

/* Binds every result column as a string and prints all rows. */
static void stmt_print_rows(MYSQL_STMT *s) {
  MYSQL_RES *meta = mysql_stmt_result_metadata(s);
  if (!meta) {
    out("  no result metadata");
    return;
  }
  unsigned int n = mysql_num_fields(meta);
  print_fields(mysql_fetch_fields(meta), n);
  MYSQL_BIND *b = calloc(n, sizeof *b);
  char(*buf)[256] = calloc(n, 256);
  unsigned long *len = calloc(n, sizeof *len);
  my_bool *isnull = calloc(n, sizeof *isnull);
  my_bool *err = calloc(n, sizeof *err);
  for (unsigned int i = 0; i < n; i++) {
    b[i].buffer_type = MYSQL_TYPE_STRING;
    b[i].buffer = buf[i];
    b[i].buffer_length = sizeof buf[i];
    b[i].length = &len[i];
    b[i].is_null = &isnull[i];
    b[i].error = &err[i];
  }
  if (mysql_stmt_bind_result(s, b)) die_stmt("bind_result", s);
  unsigned long rows = 0;
  int rc;
  while ((rc = mysql_stmt_fetch(s)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
    char line[4096];
    size_t pos = 0;
    line[0] = 0;
    for (unsigned int i = 0; i < n; i++) {
      unsigned long l = len[i] < sizeof buf[i] ? len[i] : sizeof buf[i];
      if (i && pos + 1 < sizeof line) line[pos++] = '\t';
      pos = append_value(line, pos, sizeof line, isnull[i] ? NULL : buf[i], l);
    }
    out("row %s", line);
    rows++;
  }
  if (rc == 1) print_stmt_err("  fetch", s);
  out("rows %lu", rows);
  free(b);
  free(buf);
  free(len);
  free(isnull);
  free(err);
  mysql_free_result(meta);
}

static MYSQL_STMT *prepare(MYSQL *m, const char *sql) {
  MYSQL_STMT *s = mysql_stmt_init(m);
  if (!s) die("stmt_init", m);
  out("prepare %s", sql);
  if (mysql_stmt_prepare(s, sql, (unsigned long)strlen(sql))) {
    print_stmt_err("  prepare", s);
    mysql_stmt_close(s);
    return NULL;
  }
  out("  params=%lu fields=%u", mysql_stmt_param_count(s), mysql_stmt_field_count(s));
  return s;
}

static void print_stmt_ok(const char *what, MYSQL_STMT *s) {
  out("%s: ok affected=%llu insert_id=%llu warnings=%u", what,
      (unsigned long long)mysql_stmt_affected_rows(s),
      (unsigned long long)mysql_stmt_insert_id(s), mysql_warning_count(s->mysql));
}

static int scenario_prepared(MYSQL *m) {
  must(m, "DROP TABLE IF EXISTS ql_ps");
  must(m,
       "CREATE TABLE ql_ps (id INT AUTO_INCREMENT PRIMARY KEY, i BIGINT, d DOUBLE, "
       "s VARCHAR(100), b LONGBLOB, dt DATETIME(6), n INT NULL, dc DECIMAL(10,3), "
       "u TINYINT UNSIGNED)");

  MYSQL_STMT *ins = prepare(m, "INSERT INTO ql_ps (i,d,s,b,dt,n,dc,u) VALUES (?,?,?,?,?,?,?,?)");
  if (!ins) return 2;

  long long i_val;
  double d_val;
  char s_val[101];
  unsigned long s_len;
  char b_val[64];
  unsigned long b_len;
  MYSQL_TIME dt_val;
  int n_val;
  my_bool n_null;
  char dc_val[32];
  unsigned long dc_len;
  unsigned char u_val;

  MYSQL_BIND p[8];
  memset(p, 0, sizeof p);
  p[0].buffer_type = MYSQL_TYPE_LONGLONG;
  p[0].buffer = &i_val;
  p[1].buffer_type = MYSQL_TYPE_DOUBLE;
  p[1].buffer = &d_val;
  p[2].buffer_type = MYSQL_TYPE_STRING;
  p[2].buffer = s_val;
  p[2].length = &s_len;
  p[3].buffer_type = MYSQL_TYPE_BLOB;
  p[3].buffer = b_val;
  p[3].length = &b_len;
  p[4].buffer_type = MYSQL_TYPE_DATETIME;
  p[4].buffer = &dt_val;
  p[5].buffer_type = MYSQL_TYPE_LONG;
  p[5].buffer = &n_val;
  p[5].is_null = &n_null;
  p[6].buffer_type = MYSQL_TYPE_NEWDECIMAL;
  p[6].buffer = dc_val;
  p[6].length = &dc_len;
  p[7].buffer_type = MYSQL_TYPE_TINY;
  p[7].buffer = &u_val;
  p[7].is_unsigned = 1;
  if (mysql_stmt_bind_param(ins, p)) die_stmt("bind_param", ins);

  for (int k = 0; k < 3; k++) {
    i_val = k == 2 ? -9223372036854775807LL - 1 : 1000000000000LL * (k + 1);
    d_val = k * 1.25 - 0.5;
    snprintf(s_val, sizeof s_val, "row %d caf\xc3\xa9 'quoted' \"dq\" \\ back", k);
    s_len = strlen(s_val);
    memset(b_val, 0, sizeof b_val);
    b_len = (unsigned long)(k * 7 + 1);
    for (unsigned long j = 0; j < b_len; j++) b_val[j] = (char)(j * 37 + k);
    memset(&dt_val, 0, sizeof dt_val);
    dt_val.year = 2024;
    dt_val.month = 2;
    dt_val.day = 29;
    dt_val.hour = 23;
    dt_val.minute = 59;
    dt_val.second = 58;
    dt_val.second_part = (unsigned long)(123456 * k);
    dt_val.time_type = MYSQL_TIMESTAMP_DATETIME;
    n_val = k * 10;
    n_null = (k == 1);
    snprintf(dc_val, sizeof dc_val, "%d.%03d", -k * 1234, k * 5);
    dc_len = strlen(dc_val);
    u_val = (unsigned char)(k == 2 ? 255 : k);
    if (mysql_stmt_execute(ins))
      print_stmt_err("execute insert", ins);
    else
      print_stmt_ok("execute insert", ins);
  }

  /* A value out of range for the column: a warning with sql_mode non-strict,
     an error in strict mode (the default). */
  u_val = 7;
  i_val = 1;
  snprintf(s_val, sizeof s_val, "%s", "this string is far too long for nothing? no: fits");
  s_len = strlen(s_val);
  snprintf(dc_val, sizeof dc_val, "%s", "123456789.5");
  dc_len = strlen(dc_val);
  if (mysql_stmt_execute(ins))
    print_stmt_err("execute insert out of range decimal", ins);
  else
    print_stmt_ok("execute insert out of range decimal", ins);
  query(m, "SHOW WARNINGS");

  out("stmt_reset rc=%d", (int)mysql_stmt_reset(ins));
  out("stmt_close rc=%d", (int)mysql_stmt_close(ins));

  /* Prepared SELECT with a parameter; columns fetched as strings. */
  MYSQL_STMT *sel = prepare(m, "SELECT id, i, d, s, HEX(b), b, dt, n, dc, u, "
                               "CAST(NULL AS CHAR) AS nul FROM ql_ps WHERE id >= ? ORDER BY id");
  if (!sel) return 2;
  int from = 1;
  MYSQL_BIND sp;
  memset(&sp, 0, sizeof sp);
  sp.buffer_type = MYSQL_TYPE_LONG;
  sp.buffer = &from;
  if (mysql_stmt_bind_param(sel, &sp)) die_stmt("bind_param", sel);
  for (int rep = 0; rep < 2; rep++) {
    from = rep + 1;
    if (mysql_stmt_execute(sel)) {
      print_stmt_err("execute select", sel);
    } else {
      out("execute select from=%d", from);
      stmt_print_rows(sel);
    }
  }
  mysql_stmt_close(sel);

  /* Statements whose prepare fails. */
  prepare(m, "SELEC 1");
  prepare(m, "SELECT * FROM ql_no_such_table");
  prepare(m, "SELECT ?, ? FROM DUAL WHERE");

  /* An execute that fails: duplicate key. */
  MYSQL_STMT *dup = prepare(m, "INSERT INTO ql_ps (id) VALUES (?)");
  if (!dup) return 2;
  int id = 1;
  MYSQL_BIND dp;
  memset(&dp, 0, sizeof dp);
  dp.buffer_type = MYSQL_TYPE_LONG;
  dp.buffer = &id;
  mysql_stmt_bind_param(dup, &dp);
  if (mysql_stmt_execute(dup))
    print_stmt_err("execute duplicate", dup);
  else
    print_stmt_ok("execute duplicate", dup);
  /* And the same statement works afterwards with another value. */
  id = 1000;
  if (mysql_stmt_execute(dup))
    print_stmt_err("execute after error", dup);
  else
    print_stmt_ok("execute after error", dup);
  mysql_stmt_close(dup);

  /* A prepared statement without parameters returning no rows, and a
     prepared UPDATE's affected rows. */
  MYSQL_STMT *upd = prepare(m, "UPDATE ql_ps SET n = 5 WHERE id <= 2");
  if (upd) {
    if (mysql_stmt_execute(upd))
      print_stmt_err("execute update", upd);
    else
      print_stmt_ok("execute update", upd);
    mysql_stmt_close(upd);
  }

  /* Many statements open at once, closed in another order. */
  MYSQL_STMT *many[20];
  for (int k = 0; k < 20; k++) {
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT %d + ? AS v", k);
    many[k] = mysql_stmt_init(m);
    if (mysql_stmt_prepare(many[k], sql, (unsigned long)strlen(sql))) die_stmt("prepare many", many[k]);
  }
  for (int k = 19; k >= 0; k -= 2) {
    int v = 100;
    MYSQL_BIND vb;
    memset(&vb, 0, sizeof vb);
    vb.buffer_type = MYSQL_TYPE_LONG;
    vb.buffer = &v;
    mysql_stmt_bind_param(many[k], &vb);
    if (mysql_stmt_execute(many[k])) die_stmt("execute many", many[k]);
    long long r = 0;
    MYSQL_BIND rb;
    memset(&rb, 0, sizeof rb);
    rb.buffer_type = MYSQL_TYPE_LONGLONG;
    rb.buffer = &r;
    mysql_stmt_bind_result(many[k], &rb);
    mysql_stmt_fetch(many[k]);
    mysql_stmt_free_result(many[k]);
    out("many[%d] = %lld", k, r);
  }
  for (int k = 0; k < 20; k++) mysql_stmt_close(many[k]);
  query(m, "SELECT COUNT(*) FROM ql_ps");
  info_session_status(m, "Com_stmt%");
  return 0;
}

/* COM_STMT_SEND_LONG_DATA, including a value larger than 16 MiB that comes
   back as a multi-frame binary row. */
/* A statement resolves its tables in the schema of its PREPARE: after
 * COM_INIT_DB of another schema (the integration tests' ql_st_other, which
 * has its own st_t) it still reads the first schema's st_t, wherever it
 * executes. */
static int scenario_prepared_schema(MYSQL *m) {
  MYSQL_STMT *s = prepare(m, "SELECT v FROM st_t WHERE id = ?");
  if (!s) return 2;
  if (mysql_select_db(m, "ql_st_other")) die("select_db ql_st_other", m);
  query(m, "SELECT DATABASE()");
  int id = 1;
  MYSQL_BIND p;
  memset(&p, 0, sizeof p);
  p.buffer_type = MYSQL_TYPE_LONG;
  p.buffer = &id;
  if (mysql_stmt_bind_param(s, &p)) die_stmt("bind_param", s);
  for (int round = 0; round < 3; round++) {
    if (mysql_stmt_execute(s)) {
      print_stmt_err("execute", s);
      continue;
    }
    stmt_print_rows(s);
  }
  /* Prepared in the other schema: its st_t. */
  MYSQL_STMT *t = prepare(m, "SELECT v FROM st_t WHERE id = ?");
  if (!t) return 2;
  if (mysql_select_db(m, g_db)) die("select_db", m);
  if (mysql_stmt_bind_param(t, &p)) die_stmt("bind_param", t);
  if (mysql_stmt_execute(t)) print_stmt_err("execute", t);
  else stmt_print_rows(t);
  mysql_stmt_close(s);
  mysql_stmt_close(t);
  return 0;
}

static int scenario_longdata(MYSQL *m) {
  must(m, "DROP TABLE IF EXISTS ql_ld");
  must(m, "CREATE TABLE ql_ld (id INT PRIMARY KEY, t TEXT, b LONGBLOB)");
  MYSQL_STMT *ins = prepare(m, "INSERT INTO ql_ld (id, t, b) VALUES (?, ?, ?)");
  if (!ins) return 2;
  int id = 1;
  char t_val[16] = "short";
  unsigned long t_len = 5;
  MYSQL_BIND p[3];
  memset(p, 0, sizeof p);
  p[0].buffer_type = MYSQL_TYPE_LONG;
  p[0].buffer = &id;
  p[1].buffer_type = MYSQL_TYPE_STRING;
  p[1].buffer = t_val;
  p[1].length = &t_len;
  p[2].buffer_type = MYSQL_TYPE_LONG_BLOB;
  p[2].buffer = NULL;
  p[2].buffer_length = 0;
  if (mysql_stmt_bind_param(ins, p)) die_stmt("bind_param", ins);

  /* Row 1: three small chunks for the blob, text bound normally. */
  const char *chunks[] = {"alpha-", "beta-", "gamma"};
  for (int k = 0; k < 3; k++)
    if (mysql_stmt_send_long_data(ins, 2, chunks[k], (unsigned long)strlen(chunks[k])))
      die_stmt("send_long_data", ins);
  if (mysql_stmt_execute(ins)) print_stmt_err("execute 1", ins); else print_stmt_ok("execute 1", ins);

  /* Row 2: long data for both the text and the blob column. */
  id = 2;
  if (mysql_stmt_send_long_data(ins, 1, "text-by-long-data", 17)) die_stmt("send_long_data", ins);
  if (mysql_stmt_send_long_data(ins, 2, "x", 1)) die_stmt("send_long_data", ins);
  if (mysql_stmt_execute(ins)) print_stmt_err("execute 2", ins); else print_stmt_ok("execute 2", ins);

  /* Long data sent, then the statement reset: the data must be discarded.
     Execute with the blob bound directly instead. */
  id = 3;
  if (mysql_stmt_send_long_data(ins, 2, "discard-me", 10)) die_stmt("send_long_data", ins);
  out("stmt_reset rc=%d", (int)mysql_stmt_reset(ins));
  char direct[] = "bound-after-reset";
  unsigned long direct_len = (unsigned long)strlen(direct);
  p[2].buffer = direct;
  p[2].buffer_length = direct_len;
  p[2].length = &direct_len;
  if (mysql_stmt_bind_param(ins, p)) die_stmt("bind_param", ins);
  if (mysql_stmt_execute(ins)) print_stmt_err("execute 3", ins); else print_stmt_ok("execute 3", ins);

  /* Row 4: 20 MiB in 1 MiB chunks. */
  size_t big = 20u << 20, chunk = 1u << 20;
  unsigned char *data = malloc(big);
  if (!data) die("malloc", NULL);
  fill_pattern(data, big, 12345);
  p[2].buffer = NULL;
  p[2].buffer_length = 0;
  p[2].length = NULL;
  if (mysql_stmt_bind_param(ins, p)) die_stmt("bind_param", ins);
  id = 4;
  for (size_t off = 0; off < big; off += chunk)
    if (mysql_stmt_send_long_data(ins, 2, (const char *)data + off, (unsigned long)chunk))
      die_stmt("send_long_data big", ins);
  if (mysql_stmt_execute(ins)) print_stmt_err("execute 4", ins); else print_stmt_ok("execute 4", ins);
  out("sent big len=%zu fnv=%016llx", big, (unsigned long long)fnv1a(data, big));
  mysql_stmt_close(ins);

  query(m, "SELECT id, t, LENGTH(b), IF(id < 4, b, SHA2(b, 256)) FROM ql_ld ORDER BY id");

  /* Read the big value back through the binary protocol. */
  MYSQL_STMT *sel = prepare(m, "SELECT b FROM ql_ld WHERE id = 4");
  if (!sel) return 2;
  if (mysql_stmt_execute(sel)) die_stmt("execute select big", sel);
  unsigned char *back = malloc(big + 16);
  unsigned long back_len = 0;
  my_bool is_null = 0;
  MYSQL_BIND rb;
  memset(&rb, 0, sizeof rb);
  rb.buffer_type = MYSQL_TYPE_LONG_BLOB;
  rb.buffer = back;
  rb.buffer_length = big + 16;
  rb.length = &back_len;
  rb.is_null = &is_null;
  if (mysql_stmt_bind_result(sel, &rb)) die_stmt("bind_result", sel);
  int rc = mysql_stmt_fetch(sel);
  if (rc == 1) die_stmt("fetch big", sel);
  out("fetched big rc=%d len=%lu fnv=%016llx", rc, back_len,
      (unsigned long long)fnv1a(back, back_len));
  out("fetch end rc=%d", mysql_stmt_fetch(sel));
  mysql_stmt_close(sel);
  free(data);
  free(back);
  return 0;
}

/* ---- cursors ------------------------------------------------------------------ */

static void cursor_fetch(MYSQL_STMT *s, const char *name, int limit) {
  int id = 0;
  char v[32];
  unsigned long vlen = 0;
  MYSQL_BIND rb[2];
  memset(rb, 0, sizeof rb);
  rb[0].buffer_type = MYSQL_TYPE_LONG;
  rb[0].buffer = &id;
  rb[1].buffer_type = MYSQL_TYPE_STRING;
  rb[1].buffer = v;
  rb[1].buffer_length = sizeof v;
  rb[1].length = &vlen;
  if (mysql_stmt_bind_result(s, rb)) die_stmt("bind_result", s);
  int n = 0, rc = 0;
  while ((limit < 0 || n < limit) && (rc = mysql_stmt_fetch(s)) == 0) {
    out("%s row %d %.*s", name, id, (int)vlen, v);
    n++;
  }
  if (rc == 1) print_stmt_err("  fetch", s);
  out("%s fetched %d rows, last rc=%d", name, n, rc);
}

static MYSQL_STMT *cursor_stmt(MYSQL *m, const char *sql, unsigned long prefetch) {
  MYSQL_STMT *s = prepare(m, sql);
  if (!s) die("prepare cursor", m);
  unsigned long type = CURSOR_TYPE_READ_ONLY;
  if (mysql_stmt_attr_set(s, STMT_ATTR_CURSOR_TYPE, &type)) die_stmt("attr cursor", s);
  if (mysql_stmt_attr_set(s, STMT_ATTR_PREFETCH_ROWS, &prefetch)) die_stmt("attr prefetch", s);
  return s;
}

static int scenario_cursor(MYSQL *m) {
  must(m, "DROP TABLE IF EXISTS ql_cur");
  must(m, "CREATE TABLE ql_cur (id INT PRIMARY KEY, v VARCHAR(20))");
  must(m, "INSERT INTO ql_cur SELECT seq, CONCAT('v', seq) FROM seq_1_to_100");

  MYSQL_STMT *a = cursor_stmt(m, "SELECT id, v FROM ql_cur WHERE id > ? ORDER BY id", 7);
  int from = 80;
  MYSQL_BIND pb;
  memset(&pb, 0, sizeof pb);
  pb.buffer_type = MYSQL_TYPE_LONG;
  pb.buffer = &from;
  mysql_stmt_bind_param(a, &pb);
  if (mysql_stmt_execute(a)) die_stmt("execute cursor", a);
  out("after execute: cursor_exists=%d", (m->server_status & SERVER_STATUS_CURSOR_EXISTS) ? 1 : 0);
  cursor_fetch(a, "a", -1);
  out("after fetch: last_row_sent=%d", (m->server_status & SERVER_STATUS_LAST_ROW_SENT) ? 1 : 0);

  /* Re-execute the same statement: the open cursor is closed and reopened. */
  from = 0;
  if (mysql_stmt_execute(a)) die_stmt("re-execute cursor", a);
  cursor_fetch(a, "a2", 5);

  /* A second cursor on the same connection, fetched interleaved with the first. */
  MYSQL_STMT *b = cursor_stmt(m, "SELECT id, v FROM ql_cur WHERE id <= 30 ORDER BY id DESC", 4);
  if (mysql_stmt_execute(b)) die_stmt("execute cursor b", b);
  cursor_fetch(b, "b", 6);
  cursor_fetch(a, "a2", 6);
  cursor_fetch(b, "b", -1);
  /* Abandon the first cursor half-way: reset closes it on the server. */
  out("stmt_reset a rc=%d", (int)mysql_stmt_reset(a));
  mysql_stmt_close(a);
  mysql_stmt_close(b);

  /* A cursor over an empty result, and one with prefetch 1. */
  MYSQL_STMT *c = cursor_stmt(m, "SELECT id, v FROM ql_cur WHERE id < 0", 1);
  if (mysql_stmt_execute(c)) die_stmt("execute empty cursor", c);
  cursor_fetch(c, "empty", -1);
  mysql_stmt_close(c);
  c = cursor_stmt(m, "SELECT id, v FROM ql_cur WHERE id BETWEEN 50 AND 53 ORDER BY id", 1);
  if (mysql_stmt_execute(c)) die_stmt("execute prefetch1 cursor", c);
  cursor_fetch(c, "p1", -1);
  mysql_stmt_close(c);

  /* The connection is still in sync afterwards. */
  query(m, "SELECT COUNT(*), SUM(id) FROM ql_cur");
  info_session_status(m, "Com_stmt_fetch");
  return 0;
}

/* ---- COM_CHANGE_USER ------------------------------------------------------- */

static int scenario_change_user(MYSQL *m) {
  must(m, "SET @uv = 'user variable'");
  must(m, "SET SESSION wait_timeout = 1234");
  must(m, "CREATE TEMPORARY TABLE ql_tmp_cu (a INT)");
  query(m, "SELECT CURRENT_USER(), USER() LIKE 'app@%', @uv, @@session.wait_timeout, DATABASE()");

  int rc = mysql_change_user(m, "app2", "app2_pass", "app");
  out("change_user app2 rc=%d", rc);
  if (rc) print_err("change_user app2", m);
  query(m, "SELECT CURRENT_USER(), @uv, @@session.wait_timeout = @@global.wait_timeout, DATABASE()");
  query(m, "SELECT * FROM ql_tmp_cu");
  query(m, "SELECT COUNT(*) FROM mysql.user");

  rc = mysql_change_user(m, "app", "app_pass", NULL);
  out("change_user app nodb rc=%d", rc);
  if (rc) print_err("change_user app", m);
  query(m, "SELECT CURRENT_USER(), DATABASE()");

  rc = mysql_change_user(m, "app", "app_pass", "mysql");
  out("change_user app mysql rc=%d", rc);
  if (rc) print_err("change_user app mysql", m);
  query(m, "SELECT CURRENT_USER(), DATABASE()");

  return 0;
}

/* A failing COM_CHANGE_USER: the server answers ERR 1045. MariaDB keeps the
   connection open afterwards (as the previous user); what follows shows it. */
static int scenario_change_user_fail(MYSQL *m) {
  int rc = mysql_change_user(m, "app2", "app2_pass", "app");
  out("change_user app2 rc=%d", rc);
  if (rc) print_err("change_user app2", m);
  rc = mysql_change_user(m, "app2", "wrong_password", "app");
  out("change_user wrong password rc=%d", rc);
  if (rc) print_err("change_user wrong", m);
  query(m, "SELECT CURRENT_USER(), DATABASE()");
  /* And a successful one after the failure. */
  rc = mysql_change_user(m, "app", "app_pass", "app");
  out("change_user app again rc=%d", rc);
  if (rc) print_err("change_user app again", m);
  query(m, "SELECT CURRENT_USER(), DATABASE()");
  return 0;
}

/* ---- COM_RESET_CONNECTION ---------------------------------------------------- */

static int scenario_reset(MYSQL *m) {
  must(m, "DROP TABLE IF EXISTS ql_rc");
  must(m, "CREATE TABLE ql_rc (a INT)");
  must(m, "SET @uv = 42");
  must(m, "SET SESSION sql_mode = 'ANSI_QUOTES'");
  must(m, "CREATE TEMPORARY TABLE ql_tmp_rc (a INT)");
  must(m, "PREPARE s1 FROM 'SELECT 1'");
  must(m, "SET autocommit = 0");
  must(m, "INSERT INTO ql_rc VALUES (1)");
  query(m, "SELECT @uv, @@session.sql_mode, @@autocommit, @@in_transaction, CURRENT_USER(), DATABASE()");
  MYSQL_STMT *s = prepare(m, "SELECT 2");

  int rc = mysql_reset_connection(m);
  out("reset_connection rc=%d", rc);
  if (rc) print_err("reset_connection", m);

  query(m, "SELECT @uv, @@session.sql_mode = @@global.sql_mode, @@autocommit, @@in_transaction, "
           "CURRENT_USER(), DATABASE()");
  query(m, "SELECT * FROM ql_tmp_rc");
  query(m, "EXECUTE s1");
  query(m, "SELECT COUNT(*) FROM ql_rc");
  if (s) {
    if (mysql_stmt_execute(s))
      print_stmt_err("execute statement prepared before reset", s);
    else
      out("execute statement prepared before reset: ok");
    mysql_stmt_close(s);
  }
  /* A new statement after the reset works. */
  s = prepare(m, "SELECT 3");
  if (s) {
    if (mysql_stmt_execute(s)) print_stmt_err("execute new statement", s);
    else stmt_print_rows(s);
    mysql_stmt_close(s);
  }
  return 0;
}

/* ---- small commands -------------------------------------------------------------- */

static int scenario_misc(MYSQL *m) {
  out("ping rc=%d", mysql_ping(m));

  out("select_db mysql rc=%d", mysql_select_db(m, "mysql"));
  query(m, "SELECT DATABASE()");
  int rc = mysql_select_db(m, "ql_no_such_db");
  out("select_db ql_no_such_db rc=%d", rc);
  if (rc) print_err("select_db", m);
  query(m, "SELECT DATABASE()");
  out("select_db app rc=%d", mysql_select_db(m, g_db));

  /* COM_STATISTICS: a text line whose values change; print its keys only. */
  const char *st = mysql_stat(m);
  if (!st) {
    print_err("stat", m);
  } else {
    char keys[512] = "";
    const char *p = st;
    while (*p) {
      const char *colon = strchr(p, ':');
      if (!colon) break;
      strncat(keys, "[", sizeof keys - strlen(keys) - 1);
      strncat(keys, p, (size_t)(colon - p) < sizeof keys - strlen(keys) - 1 ? (size_t)(colon - p)
                                                                          : sizeof keys - strlen(keys) - 1);
      strncat(keys, "]", sizeof keys - strlen(keys) - 1);
      const char *next = strstr(colon, "  ");
      if (!next) break;
      p = next + 2;
    }
    out("stat keys %s", keys);
    out("info stat %s", st);
  }
  out("ping rc=%d", mysql_ping(m));

  /* COM_FIELD_LIST. */
  must(m, "DROP TABLE IF EXISTS ql_fl");
  must(m, "CREATE TABLE ql_fl (id INT NOT NULL PRIMARY KEY, name VARCHAR(30) DEFAULT 'x', "
          "amount DECIMAL(8,2), created TIMESTAMP NULL, alpha TEXT)");
  MYSQL_RES *r = mysql_list_fields(m, "ql_fl", NULL);
  if (!r) {
    print_err("list_fields", m);
  } else {
    out("list_fields ql_fl: %u fields", mysql_num_fields(r));
    print_fields(mysql_fetch_fields(r), mysql_num_fields(r));
    mysql_free_result(r);
  }
  r = mysql_list_fields(m, "ql_fl", "a%");
  if (!r) {
    print_err("list_fields wild", m);
  } else {
    out("list_fields ql_fl a%%: %u fields", mysql_num_fields(r));
    print_fields(mysql_fetch_fields(r), mysql_num_fields(r));
    mysql_free_result(r);
  }
  r = mysql_list_fields(m, "ql_no_such_table", NULL);
  if (!r) print_err("list_fields missing", m);
  else { out("list_fields missing: unexpected result"); mysql_free_result(r); }
  query(m, "SELECT 'still in sync'");

  /* COM_SET_OPTION. */
  out("set_server_option multi on rc=%d",
      mysql_set_server_option(m, MYSQL_OPTION_MULTI_STATEMENTS_ON));
  query(m, "SELECT 1 AS one; SELECT 2 AS two");
  out("set_server_option multi off rc=%d",
      mysql_set_server_option(m, MYSQL_OPTION_MULTI_STATEMENTS_OFF));
  query(m, "SELECT 1 AS one; SELECT 2 AS two");
  query(m, "SELECT 'after multi off'");

  out("info server_info %s", mysql_get_server_info(m));
  out("info server_version %lu", mysql_get_server_version(m));
  out("info host_info %s", mysql_get_host_info(m));
  return 0;
}

/* ---- multiple result sets ---------------------------------------------------- */

static int scenario_multi(MYSQL *m) {
  must(m, "DROP TABLE IF EXISTS ql_multi");
  must(m, "CREATE TABLE ql_multi (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))");
  must(m, "DROP PROCEDURE IF EXISTS ql_two_sets");
  must(m, "CREATE PROCEDURE ql_two_sets(IN n INT) BEGIN "
          "SELECT n AS n, 'first' AS which; "
          "SELECT seq, seq * n AS product FROM seq_1_to_3; "
          "END");
  query(m, "SELECT 1 AS a; INSERT INTO ql_multi (v) VALUES ('x'), ('y'); SELECT 'b' AS b, 2 AS c");
  query(m, "SELECT 1; SELECT * FROM ql_no_such_table; SELECT 3");
  query(m, "CALL ql_two_sets(5)");

  /* Prepared CALL: several binary result sets, then the final OK. */
  MYSQL_STMT *s = prepare(m, "CALL ql_two_sets(?)");
  if (!s) return 2;
  int n = 7;
  MYSQL_BIND pb;
  memset(&pb, 0, sizeof pb);
  pb.buffer_type = MYSQL_TYPE_LONG;
  pb.buffer = &n;
  mysql_stmt_bind_param(s, &pb);
  if (mysql_stmt_execute(s)) die_stmt("execute call", s);
  int set = 0;
  for (;;) {
    if (mysql_stmt_field_count(s) > 0) {
      out("  stmt set %d:", set);
      stmt_print_rows(s);
      mysql_stmt_free_result(s);
    } else {
      out("  stmt set %d: ok affected=%llu", set, (unsigned long long)mysql_stmt_affected_rows(s));
    }
    set++;
    int rc = mysql_stmt_next_result(s);
    if (rc == -1) break;
    if (rc > 0) {
      print_stmt_err("  stmt_next_result", s);
      break;
    }
  }
  mysql_stmt_close(s);
  query(m, "SELECT 'in sync after prepared CALL'");
  return 0;
}

/* ---- LOAD DATA LOCAL INFILE from a client-side callback ----------------------

   The "file" exists only inside this process: the local-infile callbacks
   produce its content. A proxy that relays the exchange works; one that tried
   to open the name on its own host would fail. */

struct vfile {
  long long next_row, rows;
  char pending[128];
  size_t pending_len, pending_off;
};

static int vf_init(void **ptr, const char *filename, void *userdata) {
  struct vfile *f = calloc(1, sizeof *f);
  f->rows = *(long long *)userdata;
  f->next_row = 1;
  *ptr = f;
  out("infile callback opened %s", filename);
  return 0;
}

static int vf_read(void *ptr, char *buf, unsigned int buf_len) {
  struct vfile *f = ptr;
  unsigned int n = 0;
  while (n < buf_len) {
    if (f->pending_off == f->pending_len) {
      if (f->next_row > f->rows) break;
      f->pending_len = (size_t)snprintf(f->pending, sizeof f->pending, "%lld\tvirtual row %lld\n",
                                        f->next_row, f->next_row * 7);
      f->pending_off = 0;
      f->next_row++;
    }
    size_t take = f->pending_len - f->pending_off;
    if (take > buf_len - n) take = buf_len - n;
    memcpy(buf + n, f->pending + f->pending_off, take);
    f->pending_off += take;
    n += (unsigned int)take;
  }
  return (int)n;
}

static void vf_end(void *ptr) { free(ptr); }

static int vf_error(void *ptr, char *msg, unsigned int len) {
  (void)ptr;
  snprintf(msg, len, "virtual file error");
  return 1;
}

static int scenario_infile(MYSQL *m) {
  must(m, "DROP TABLE IF EXISTS ql_vinfile");
  must(m, "CREATE TABLE ql_vinfile (id INT PRIMARY KEY, v VARCHAR(40))");
  long long rows = 200000;
  mysql_set_local_infile_handler(m, vf_init, vf_read, vf_end, vf_error, &rows);
  query(m, "LOAD DATA LOCAL INFILE '/nonexistent-dir/ql-virtual-file.tsv' INTO TABLE ql_vinfile");
  mysql_set_local_infile_default(m);
  query(m, "SELECT COUNT(*), SUM(id), SUM(CRC32(v)) FROM ql_vinfile");
  return 0;
}

/* ---- authentication ------------------------------------------------------------ */

static int scenario_auth(void) {
  MYSQL *m = connect_as(g_user, "definitely-wrong", g_db, 0, 0);
  if (m) { out("wrong password: connected?!"); mysql_close(m); }
  m = connect_as("ql_no_such_user", "whatever", g_db, 0, 0);
  if (m) { out("unknown user: connected?!"); mysql_close(m); }
  m = connect_as(g_user, "", g_db, 0, 0);
  if (m) { out("empty password: connected?!"); mysql_close(m); }
  m = connect_as(g_user, g_password, "ql_no_such_db", 0, 0);
  if (m) { out("unknown db: connected?!"); mysql_close(m); }
  m = connect_as("app2", "app2_pass", "mysql", 0, 0);
  if (m) { out("app2 to mysql db: connected?!"); mysql_close(m); }
  m = connect_as(g_user, g_password, g_db, 0, 1);
  query(m, "SELECT CURRENT_USER(), DATABASE()");
  mysql_close(m);
  out("done rc=0");
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s HOST PORT USER PASSWORD DB SCENARIO\n", argv[0]);
    return 1;
  }
  g_host = argv[1];
  g_port = (unsigned int)atoi(argv[2]);
  g_user = argv[3];
  g_password = argv[4];
  g_db = argv[5];
  const char *scenario = argv[6];
  setvbuf(stdout, NULL, _IOLBF, 0);

  if (strcmp(scenario, "auth") == 0) return scenario_auth();

  MYSQL *m = connect_as(g_user, g_password, g_db, CLIENT_MULTI_STATEMENTS | CLIENT_LOCAL_FILES, 1);
  int rc;
  if (strcmp(scenario, "prepared") == 0) rc = scenario_prepared(m);
  else if (strcmp(scenario, "longdata") == 0) rc = scenario_longdata(m);
  else if (strcmp(scenario, "prepared_schema") == 0) rc = scenario_prepared_schema(m);
  else if (strcmp(scenario, "cursor") == 0) rc = scenario_cursor(m);
  else if (strcmp(scenario, "change_user") == 0) rc = scenario_change_user(m);
  else if (strcmp(scenario, "change_user_fail") == 0) rc = scenario_change_user_fail(m);
  else if (strcmp(scenario, "reset") == 0) rc = scenario_reset(m);
  else if (strcmp(scenario, "misc") == 0) rc = scenario_misc(m);
  else if (strcmp(scenario, "multi") == 0) rc = scenario_multi(m);
  else if (strcmp(scenario, "infile") == 0) rc = scenario_infile(m);
  else {
    fprintf(stderr, "unknown scenario %s\n", scenario);
    rc = 1;
  }
  mysql_close(m);
  out("done rc=%d", rc);
  return rc;
}
