import type pg from 'pg';

/** PostgreSQL's answer when a prepared statement's result columns changed under it (a migration added one). */
const RESULT_TYPE_CHANGED = '0A000';

type Query = (text: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * Makes the pool's clients run Kysely's parameterised queries as named
 * prepared statements: each distinct SQL text is parsed and analysed once per
 * connection instead of on every execution, and after a few runs PostgreSQL
 * may keep a generic plan too. Kysely generates a bounded set of texts (values
 * are always parameters), but `maxStatements` caps the names handed out all the
 * same; texts past it run unnamed, as before.
 *
 * A statement prepared before a migration changed its table can fail once with
 * "cached plan must not change result type"; its text then gets a fresh name,
 * so the next run prepares it again, and the failed query is retried at once
 * when no transaction was open (otherwise the caller's transaction has failed
 * and the error is its to handle, as for any other).
 */
export function preparingPool(pool: pg.Pool, maxStatements = 1000): pg.Pool {
  const names = new Map<string, string>();
  let serial = 0;
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < maxStatements) {
      name = `bima_${++serial}`;
      names.set(text, name);
    }
    return name;
  };
  const patched = new WeakSet<pg.PoolClient>();
  const patch = (client: pg.PoolClient): pg.PoolClient => {
    if (patched.has(client)) return client;
    patched.add(client);
    const query = client.query.bind(client) as Query;
    let inTransaction = false;
    const run = async (text: string, values: unknown[], retry: boolean): Promise<unknown> => {
      const name = nameOf(text);
      if (!name) return query(text, values);
      try {
        return await query({ name, text, values });
      } catch (error) {
        if ((error as { code?: string }).code !== RESULT_TYPE_CHANGED || names.get(text) !== name) throw error;
        names.set(text, `bima_${++serial}`);
        if (retry && !inTransaction) return run(text, values, false);
        throw error;
      }
    };
    (client as unknown as { query: Query }).query = (text: unknown, values?: unknown, callback?: unknown) => {
      if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined) {
        if (typeof text === 'string') {
          const verb = text.trimStart().slice(0, 8).toLowerCase();
          if (verb.startsWith('begin') || verb.startsWith('start')) inTransaction = true;
          else if (verb.startsWith('commit') || verb.startsWith('rollback')) inTransaction = false;
        }
        return query(text, values, callback);
      }
      return run(text, values, true);
    };
    return client;
  };
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property === 'connect') {
        return async (callback?: unknown) => {
          if (callback !== undefined) throw new Error('preparingPool: callback connect is not supported');
          return patch(await target.connect());
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
