/*
 * qlbind: server-side prepared statements with values chosen by the test,
 * through MariaDB Connector/C (libmariadb). qlclient.c runs fixed scenarios;
 * the tests of what the proxy keeps out of its logs and metrics need bound
 * parameter values they pick themselves (random secrets), so this client
 * reads a small script from stdin, one command per line, fields separated by
 * a TAB:
 *
 *   Q <sql>              text query (COM_QUERY); results drained
 *   P <sql>              COM_STMT_PREPARE; the statement becomes the current one
 *   E [<param> ...]      COM_STMT_EXECUTE of the current statement; each param
 *                        is s:<text> (string), i:<int64>, d:<double>, n: (NULL)
 *   C                    COM_STMT_CLOSE of the current statement
 *
 * Usage: qlbind HOST PORT USER PASSWORD DB < script
 * Output: one line per command: "ok ...", "rows N" (then "row ..." lines) or
 * "ERR <code> (<sqlstate>) <message>"; errors are printed, not fatal. Exit
 * status 0 when the script ran to the end, 2 on a connection failure, 1 on a
 * bad script or usage.
 */
#include <mysql.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 32
#define MAX_LINE 65536

static void drain_text(MYSQL *m) {
  do {
    MYSQL_RES *res = mysql_store_result(m);
    if (res) {
      printf("rows %llu\n", (unsigned long long)mysql_num_rows(res));
      mysql_free_result(res);
    } else if (mysql_field_count(m) == 0) {
      printf("ok affected=%llu\n", (unsigned long long)mysql_affected_rows(m));
    } else {
      printf("ERR %u (%s) %s\n", mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
      return;
    }
  } while (mysql_next_result(m) == 0);
}

/* Fetches every row of an executed statement as strings and prints them. */
static void print_stmt_rows(MYSQL_STMT *s) {
  MYSQL_RES *meta = mysql_stmt_result_metadata(s);
  if (!meta) {
    printf("ok affected=%llu\n", (unsigned long long)mysql_stmt_affected_rows(s));
    return;
  }
  unsigned int n = mysql_num_fields(meta);
  MYSQL_BIND *b = calloc(n, sizeof *b);
  char(*buf)[512] = calloc(n, 512);
  unsigned long *len = calloc(n, sizeof *len);
  my_bool *isnull = calloc(n, sizeof *isnull);
  for (unsigned int i = 0; i < n; i++) {
    b[i].buffer_type = MYSQL_TYPE_STRING;
    b[i].buffer = buf[i];
    b[i].buffer_length = sizeof buf[i] - 1;
    b[i].length = &len[i];
    b[i].is_null = &isnull[i];
  }
  mysql_stmt_bind_result(s, b);
  mysql_stmt_store_result(s);
  printf("rows %llu\n", (unsigned long long)mysql_stmt_num_rows(s));
  int rc;
  while ((rc = mysql_stmt_fetch(s)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
    printf("row");
    for (unsigned int i = 0; i < n; i++) {
      unsigned long l = len[i] < sizeof buf[i] - 1 ? len[i] : sizeof buf[i] - 1;
      buf[i][l] = 0;
      printf("\t%s", isnull[i] ? "NULL" : buf[i]);
    }
    printf("\n");
  }
  mysql_stmt_free_result(s);
  free(b);
  free(buf);
  free(len);
  free(isnull);
  mysql_free_result(meta);
}

/* Binds the TAB-separated params of an E line and executes. */
static int execute(MYSQL_STMT *s, char *params) {
  MYSQL_BIND b[MAX_PARAMS];
  long long ints[MAX_PARAMS];
  double doubles[MAX_PARAMS];
  unsigned long lens[MAX_PARAMS];
  my_bool nulls[MAX_PARAMS];
  unsigned int n = 0;
  memset(b, 0, sizeof b);
  for (char *p = params; p && *p && n < MAX_PARAMS;) {
    char *next = strchr(p, '\t');
    if (next) *next++ = 0;
    if (strlen(p) < 2 || p[1] != ':') return 1;
    char *v = p + 2;
    switch (p[0]) {
      case 's':
        b[n].buffer_type = MYSQL_TYPE_STRING;
        b[n].buffer = v;
        lens[n] = (unsigned long)strlen(v);
        b[n].length = &lens[n];
        break;
      case 'i':
        ints[n] = strtoll(v, NULL, 10);
        b[n].buffer_type = MYSQL_TYPE_LONGLONG;
        b[n].buffer = &ints[n];
        break;
      case 'd':
        doubles[n] = strtod(v, NULL);
        b[n].buffer_type = MYSQL_TYPE_DOUBLE;
        b[n].buffer = &doubles[n];
        break;
      case 'n':
        nulls[n] = 1;
        b[n].buffer_type = MYSQL_TYPE_NULL;
        b[n].is_null = &nulls[n];
        break;
      default:
        return 1;
    }
    n++;
    p = next;
  }
  if (n != mysql_stmt_param_count(s)) {
    printf("ERR client: %u params given, the statement has %lu\n", n, mysql_stmt_param_count(s));
    return 0;
  }
  if (n > 0 && mysql_stmt_bind_param(s, b)) {
    printf("ERR %u (%s) %s\n", mysql_stmt_errno(s), mysql_stmt_sqlstate(s), mysql_stmt_error(s));
    return 0;
  }
  if (mysql_stmt_execute(s)) {
    printf("ERR %u (%s) %s\n", mysql_stmt_errno(s), mysql_stmt_sqlstate(s), mysql_stmt_error(s));
    return 0;
  }
  print_stmt_rows(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: qlbind HOST PORT USER PASSWORD DB < script\n");
    return 1;
  }
  MYSQL *m = mysql_init(NULL);
  unsigned int timeout = 30;
  unsigned int proto = MYSQL_PROTOCOL_TCP;
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
  const char *db = argv[5][0] ? argv[5] : NULL;
  if (!mysql_real_connect(m, argv[1], argv[3], argv[4], db, (unsigned int)atoi(argv[2]), NULL,
                          CLIENT_MULTI_RESULTS)) {
    printf("FATAL connect: %u (%s) %s\n", mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
    return 2;
  }
  static char line[MAX_LINE];
  MYSQL_STMT *current = NULL;
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0]) continue;
    char *arg = strchr(line, '\t');
    if (arg) *arg++ = 0;
    if (strcmp(line, "Q") == 0 && arg) {
      if (mysql_query(m, arg))
        printf("ERR %u (%s) %s\n", mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
      else
        drain_text(m);
    } else if (strcmp(line, "P") == 0 && arg) {
      if (current) mysql_stmt_close(current);
      current = mysql_stmt_init(m);
      if (mysql_stmt_prepare(current, arg, (unsigned long)strlen(arg))) {
        printf("ERR %u (%s) %s\n", mysql_stmt_errno(current), mysql_stmt_sqlstate(current),
               mysql_stmt_error(current));
        mysql_stmt_close(current);
        current = NULL;
      } else {
        printf("ok prepared params=%lu\n", mysql_stmt_param_count(current));
      }
    } else if (strcmp(line, "E") == 0) {
      if (!current) {
        printf("ERR client: no prepared statement\n");
      } else if (execute(current, arg)) {
        fprintf(stderr, "bad parameter in: %s\n", arg ? arg : "");
        return 1;
      }
    } else if (strcmp(line, "C") == 0) {
      if (current) mysql_stmt_close(current);
      current = NULL;
      printf("ok closed\n");
    } else {
      fprintf(stderr, "bad script line: %s\n", line);
      return 1;
    }
    fflush(stdout);
  }
  if (current) mysql_stmt_close(current);
  mysql_close(m);
  return 0;
}
