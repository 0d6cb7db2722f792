#include <sqlite3.h>

/// sqlite3_db_config is variadic, which Swift cannot call: a connection that rolls back an
/// interrupted write must not also checkpoint a WAL file into the database when it closes.
static inline int dataset_sqlite3_no_checkpoint_on_close(sqlite3 *db) {
  return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
