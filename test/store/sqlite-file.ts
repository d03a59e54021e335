import Database from 'better-sqlite3';

/** Opens a SQLite file on its own connection for `use`, and closes it: to look under a store. */
export const withDb = <T>(path: string, use: (db: Database.Database) => T): T => {
  const db = new Database(path);
  try {
    return use(db);
  } finally {
    db.close();
  }
};
