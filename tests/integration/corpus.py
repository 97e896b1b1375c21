"""Statements that every client test runs directly and through the proxy.

Each script starts by (re)creating its tables, so that running it twice in a
row gives the same results (same AUTO_INCREMENT values, same warnings).
Nothing here depends on time, connection ids or server uptime.
"""

TYPES_TABLE = """CREATE TABLE ql_types (
  id INT AUTO_INCREMENT PRIMARY KEY,
  ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT UNSIGNED,
  de DECIMAL(20,6), fl FLOAT, db DOUBLE, bt BIT(10),
  d DATE, dt DATETIME(3), ts TIMESTAMP(6) NULL DEFAULT NULL, tm TIME(2), yr YEAR,
  ch CHAR(5), vc VARCHAR(50) CHARACTER SET utf8mb4, vb VARBINARY(16),
  tx TEXT CHARACTER SET utf8mb4, bl BLOB,
  en ENUM('a','b','c'), st SET('x','y','z'), js JSON,
  ip INET6, uu UUID,
  UNIQUE KEY uk_ch (ch)
) ENGINE=InnoDB"""

BASIC = [
    "DROP TABLE IF EXISTS ql_types",          # a note (1051) the first time
    "DROP TABLE IF EXISTS ql_types",
    TYPES_TABLE,
    "INSERT INTO ql_types (ti, si, mi, bi, de, fl, db, bt, d, dt, ts, tm, yr, ch, vc, vb, tx, bl,"
    " en, st, js, ip, uu) VALUES"
    " (-128, 65535, -8388608, 18446744073709551615, -12345678901234.123456, 1.5, -2.25e100,"
    "  b'1010101010', '2024-02-29', '2024-02-29 23:59:59.999', '2038-01-19 03:14:07.123456',"
    "  '-838:59:59.99', 2155, 'abc', 'caf\u00e9 \u2603 \U0001F600', x'00ff10', 'long text',"
    "  x'deadbeef', 'b', 'x,z', '{\"k\": [1, 2, null]}', '::1', '123e4567-e89b-12d3-a456-426614174000'),"
    " (127, 0, 8388607, 0, 0.000001, -0.0, 0, b'0', '1000-01-01', '1000-01-01 00:00:00',"
    "  NULL, '00:00:00', 1901, 'd', '', '', '', '', 'a', '', '[]', '::ffff:192.0.2.1', NULL),"
    " (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "SELECT * FROM ql_types ORDER BY id",
    "SELECT id, HEX(bt), bt + 0, CAST(js AS CHAR), LENGTH(vc), CHAR_LENGTH(vc) FROM ql_types ORDER BY id",
    "SELECT LAST_INSERT_ID(), ROW_COUNT()",
    "INSERT INTO ql_types (ch, vc) VALUES ('e', 'returning') RETURNING id, ch, vc",
    "INSERT IGNORE INTO ql_types (ch) VALUES ('abc'), ('f')",     # duplicate: warning 1062
    "SHOW WARNINGS",
    "INSERT INTO ql_types (ch, ti) VALUES ('abc', 1) ON DUPLICATE KEY UPDATE ti = ti + 1",
    "REPLACE INTO ql_types (id, ch) VALUES (2, 'g')",
    "UPDATE ql_types SET ti = 5 WHERE id <= 3",
    "UPDATE ql_types SET ti = 5 WHERE id <= 3",                   # matched, not changed
    "DELETE FROM ql_types WHERE ch = 'f'",
    "SELECT 1/0, CAST('12abc' AS SIGNED), 'a' + 1",               # warnings 1365, 1292
    "SELECT 1 AS one, 1.5 AS dec_val, 1e0 AS dbl, 'str' AS s, NULL AS n, 0x414243 AS hx,"
    " b'101' AS bits, 18446744073709551615 AS maxu, -9223372036854775808 AS mins,"
    " _utf8mb4'\U0001F600' AS emoji, _latin1'caf\u00e9' AS latin, CAST('2024-01-02' AS DATE) AS d,"
    " CAST('10:11:12.5' AS TIME(1)) AS t, TIMESTAMP'2024-01-02 03:04:05.678' AS ts",
    "SELECT * FROM ql_types WHERE 1 = 0",
    "SELECT seq, REPEAT(CHAR(65 + seq % 26), seq % 50) FROM seq_1_to_2000",
    "SELECT REPEAT('x', 100000) AS wide",
    "SELECT COUNT(*), SUM(ti), GROUP_CONCAT(ch ORDER BY ch) FROM ql_types",
    "DO 1",
    "SET @ql_var = 'v1', @ql_num = 42",
    "SELECT @ql_var, @ql_num, @ql_undefined",
    "BEGIN",
    "INSERT INTO ql_types (ch) VALUES ('tx')",
    "SELECT @@in_transaction, @@autocommit",
    "ROLLBACK",
    "SELECT COUNT(*) FROM ql_types WHERE ch = 'tx'",
    "SET autocommit = 0",
    "INSERT INTO ql_types (ch) VALUES ('ac')",
    "COMMIT",
    "SET autocommit = 1",
    "SELECT COUNT(*) FROM ql_types WHERE ch = 'ac'",
    "CREATE TEMPORARY TABLE ql_tmp (a INT)",
    "INSERT INTO ql_tmp VALUES (1), (2), (3)",
    "SELECT SUM(a) FROM ql_tmp",
    "DROP TEMPORARY TABLE ql_tmp",
    "USE mysql",
    "SELECT DATABASE()",
    "USE app",
    "SELECT DATABASE()",
    "SET NAMES utf8mb4",
    "SELECT 'caf\u00e9', CHARSET('x'), @@character_set_client, @@character_set_results",
    "SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES'",
    "SELECT \"ch\" FROM ql_types WHERE id = 1",
    "SET SESSION sql_mode = DEFAULT",
    # errors
    "SELEC 1",
    "SELECT * FROM ql_no_such_table",
    "SELECT no_such_column FROM ql_types",
    "INSERT INTO ql_types (id, ch) VALUES (1, 'dup')",
    "INSERT INTO ql_types (ch) VALUES ('much too long')",
    "INSERT INTO ql_types (en) VALUES ('not-in-enum')",
    "BEGIN NOT ATOMIC SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'custom failure', MYSQL_ERRNO = 1644; END",
    "SELECT * FROM mysql.no_such_table",
    "KILL 999999999",
    # after the errors, the session is still usable
    "SELECT 'still here'",
    "SHOW CREATE TABLE ql_types",
    "SHOW COLUMNS FROM ql_types",
    "DROP TABLE ql_types",
]

# A smaller script for the TLS and authentication variants.
SHORT = [
    "DROP TABLE IF EXISTS ql_short",
    "CREATE TABLE ql_short (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) CHARACTER SET utf8mb4)",
    "INSERT INTO ql_short (v) VALUES ('a'), ('caf\u00e9'), (NULL)",
    "SELECT * FROM ql_short ORDER BY id",
    "SELECT 1/0",
    "SELECT * FROM ql_no_such_table",
    "UPDATE ql_short SET v = 'b' WHERE id > 1",
    "SELECT seq FROM seq_1_to_500",
    "DROP TABLE ql_short",
]
