"""The cases' history: every version a case had, kept by the database.

A trigger on `case_record` copies the row as it was into `case_history` whenever an update gives
the case a new version (an event; the sweep's and the seal's bookkeeping keep the version and
write nothing). Kept by the database rather than by the writers, so that the ORM path, the event
lane's prepared statements and batched events all keep it alike, and none can forget it.

A case's version valid at instant t is the case row if `updated_at` <= t, else the history row
with `valid_from` <= t < `valid_to`; reports for a past date read these (storage.reports).
"""

from __future__ import annotations

_COLUMNS = ("case_id, version, campaign_id, type, unit_id, org_path, found_by_path, state, "
            "final, data, next_due, opened_at, valid_from, valid_to")
_OLD = ("OLD.id, OLD.version, OLD.campaign_id, OLD.type, OLD.unit_id, OLD.org_path, "
        "OLD.found_by_path, OLD.state, OLD.final, OLD.data, OLD.next_due, OLD.opened_at, "
        "OLD.updated_at, NEW.updated_at")

SQLITE_CREATE = [f"""
CREATE TRIGGER case_history_keep AFTER UPDATE ON case_record
WHEN OLD.version <> NEW.version
BEGIN
  INSERT INTO case_history ({_COLUMNS}) VALUES ({_OLD});
END
"""]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS case_history_keep"]

POSTGRESQL_CREATE = [f"""
CREATE FUNCTION case_history_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO case_history ({_COLUMNS}) VALUES ({_OLD});
  RETURN NULL;
END
$$
""", """
CREATE TRIGGER case_history_keep AFTER UPDATE ON case_record
FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version)
EXECUTE FUNCTION case_history_keep()
"""]
POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS case_history_keep ON case_record",
                   "DROP FUNCTION IF EXISTS case_history_keep()"]


def create_statements(dialect: str) -> list[str]:
    return POSTGRESQL_CREATE if dialect == "postgresql" else SQLITE_CREATE


def drop_statements(dialect: str) -> list[str]:
    return POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP
