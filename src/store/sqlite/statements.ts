import type Database from 'better-sqlite3';

export type Prepare = (sql: string) => Database.Statement;

/**
 * Prepared statements, compiled once per connection and SQL text: compiling costs more than running
 * most of these statements. Bounded, because searches build SQL from their number of filters.
 */
export function statementCache(db: Database.Database): Prepare {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      if (cache.size >= 500) cache.clear();
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
}
