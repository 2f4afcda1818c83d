import { LRUCache } from 'lru-cache';
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { DB } from '../db/types.js';

/**
 * A counter that PostgreSQL advances in the transaction of every change to
 * the rows one cached view is built from (the triggers of migration 0009),
 * read as `<count>:<fingerprint>`: the count rises with every committed
 * change, and the fingerprint (the XOR of a token drawn at each bump) tells
 * apart two states with the same count across a restore or a failover that
 * lost commits.
 *
 * read() answers the counter as of a moment after it was called. Callers in
 * the same turn of the event loop share one query, sent once all of them have
 * asked; a caller never joins a query already on its way, whose snapshot could
 * predate a change that caller has already seen commit.
 */
export class Generation {
  /** The value the last read answered (null before the first). */
  latest: string | null = null;
  private next: Promise<string> | null = null;
  private readonly query: CompiledQuery<{ generation: string | null }>;

  constructor(private readonly db: Kysely<DB>, private readonly name: string) {
    this.query = sql<{ generation: string | null }>`
      SELECT sum(generation)::text || ':' || bit_xor(token)::text AS generation FROM cache_generations WHERE name = ${name}`.compile(db);
  }

  read(): Promise<string> {
    this.next ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.next = null;
      const generation = (await this.db.executeQuery(this.query)).rows[0]?.generation;
      if (!generation) throw new Error(`No cache generation named ${this.name}: are the migrations applied?`);
      this.latest = generation;
      return generation;
    });
    return this.next;
  }
}

export type PageCacheOutcome = 'hit' | 'miss' | 'stale';

export interface PageCacheOptions<V> {
  generation: Generation;
  /** About the bytes of answers kept (characters, plus an allowance per entry); 0 turns caching off. */
  maxSize: number;
  /** The text an answer holds, which is what it weighs against maxSize. */
  textOf: (answer: V) => string;
  observe?: (outcome: PageCacheOutcome) => void;
}

interface Entry<V> {
  generation: string;
  answer: V;
}

/** What an entry costs beyond its text: the key, the entry and LRU bookkeeping. */
const ENTRY_OVERHEAD = 256;

/**
 * Rendered answers (JSON text, with what the route sends beside it) that are
 * expensive to build and asked for far more often than the rows under them
 * change: the first page of an agent's policies, which the app loads on every
 * visit to its home screen, and the policy a user opens again and again.
 *
 * An answer is served from here only if the view's generation, read after the
 * request arrived, equals the one read before the answer was rendered: then no
 * change to anything it was built from has committed since, and the answer is
 * exactly what rendering it now would give. That costs one tiny query shared
 * by every request of the same turn, where a miss renders in full. There is no
 * time to live and nothing to broadcast: the database is the only judge, on
 * every instance, whoever made the change.
 *
 * The key must name everything the answer depends on besides those rows: the
 * caller's scope and the query.
 */
export class PageCache<V> {
  private readonly entries: LRUCache<string, Entry<V>> | null;
  /** Renders in flight, so requests for the same page at the same generation share one. */
  private readonly rendering = new Map<string, { generation: string; answer: Promise<V> }>();
  private readonly generation: Generation;
  private readonly observe: (outcome: PageCacheOutcome) => void;

  constructor(options: PageCacheOptions<V>) {
    this.generation = options.generation;
    this.observe = options.observe ?? (() => undefined);
    const { textOf } = options;
    this.entries = options.maxSize > 0
      ? new LRUCache<string, Entry<V>>({ maxSize: options.maxSize, sizeCalculation: (entry, key) => textOf(entry.answer).length + key.length + ENTRY_OVERHEAD })
      : null;
  }

  /** The answer for `key`, from the cache if it is still exact, else from `render` (whose failure is not kept). */
  async get(key: string, render: () => Promise<V>): Promise<V> {
    const entries = this.entries;
    if (!entries) return render();
    const generation = await this.generation.read();
    const entry = entries.get(key);
    if (entry?.generation === generation) {
      this.observe('hit');
      return entry.answer;
    }
    this.observe(entry ? 'stale' : 'miss');
    // A render started at this generation read the rows after the generation
    // did; if they changed since, the generation has moved on too and this
    // caller would not have read the same one.
    const inFlight = this.rendering.get(key);
    if (inFlight?.generation === generation) return inFlight.answer;
    const answer = render();
    const mine = { generation, answer };
    this.rendering.set(key, mine);
    try {
      const rendered = await answer;
      // Kept only if it can still be served: a render from before the latest
      // change (which may have finished after a newer one) must not replace it.
      if (generation === this.generation.latest) entries.set(key, { generation, answer: rendered });
      return rendered;
    } finally {
      if (this.rendering.get(key) === mine) this.rendering.delete(key);
    }
  }
}
