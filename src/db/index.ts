import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration, type MigrationProvider, type SqliteDatabase } from 'kysely';
import type { Database } from './schema.js';
import { migrations } from './migrations/index.js';

export type Db = Kysely<Database>;

class StaticProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(migrations);
  }
}

/**
 * `value REGEXP pattern` as MySQL and PostgreSQL (`~*`) offer it: a search,
 * case-insensitive. Nova's regex filters (name, ip, ...) rely on it.
 */
function registerRegexp(sqlite: SQLite.Database): void {
  const cache = new Map<string, RegExp | null>();
  sqlite.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
    if (typeof pattern !== 'string' || value === null || value === undefined) return 0;
    let re = cache.get(pattern);
    if (re === undefined) {
      try {
        re = new RegExp(pattern, 'i');
      } catch {
        re = null;
      }
      if (cache.size > 1000) cache.clear();
      cache.set(pattern, re);
    }
    return re !== null && re.test(String(value)) ? 1 : 0;
  });
}

/**
 * Kysely prepares every statement it runs; preparing is a large share of a
 * small query's cost, so prepared statements are kept by SQL text.
 */
function withStatementCache(sqlite: SQLite.Database, max = 1000): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (text: string) => {
      let stmt = cache.get(text);
      if (stmt === undefined) {
        stmt = sqlite.prepare(text);
        if (cache.size >= max) cache.clear();
        cache.set(text, stmt);
      }
      return stmt as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}

/**
 * Opens the embedded database (a file path, or ':memory:' for tests) and runs
 * every pending numbered migration. Queries go through Kysely so that the
 * PostgreSQL dialect can be added without rewriting them.
 */
export async function openDatabase(path: string): Promise<Db> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  registerRegexp(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed) {
    await db.destroy();
    throw new Error(`database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`);
  }
  return db;
}
