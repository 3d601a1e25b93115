PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE data (id INTEGER PRIMARY KEY, s TEXT, b BLOB);
INSERT INTO data VALUES(1,'semi;colon ''quoted'' back\slash',X'00ff');
INSERT INTO data VALUES(2,replace('new\nline	tab -- no /* comment */','\n',char(10)),NULL);
INSERT INTO data VALUES(3,'ü€😀','');
CREATE TABLE IF NOT EXISTS "log;" ([msg;] TEXT);
CREATE TRIGGER data_trg AFTER INSERT ON data BEGIN
  INSERT INTO "log;" VALUES ('trg;' || new.id);
  SELECT CASE WHEN new.id > 100 THEN RAISE(ABORT, 'end; too big') END;
END;
CREATE VIEW v AS SELECT id FROM data WHERE s LIKE '%;%';
COMMIT;
