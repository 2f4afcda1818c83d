import { sql, type OperationNodeSource } from 'kysely';

/**
 * The member a per-member page query is written for: `perMember` in
 * mergedPageKeys refers to it, as in `.where(sql\`policies.agent_id = ${PAGE_MEMBER}\`)`.
 */
export const PAGE_MEMBER = sql<string>`member.id`;

export interface MergedPage<K extends string> {
  /** The ids (uuid) of the scope's members: a senior's team, a small region's agents or users. */
  members: readonly string[];
  /** One member's page: selects `keys` with the page's filters, cursor, order and limit, for PAGE_MEMBER. */
  perMember: OperationNodeSource;
  /** The sort key, most significant first, ending in a unique column. */
  keys: readonly K[];
  direction: 'asc' | 'desc';
  take: number;
  /** When one row can belong to two members (an event by one user about another). */
  distinct?: boolean;
}

/**
 * The keys of one keyset page over the rows a short list of members owns.
 *
 * Asked as `owner = ANY(list)` (or through a subquery naming the members),
 * PostgreSQL reads every row the members own and sorts them for one page, or
 * walks the table in sort order throwing away the rows of everyone else;
 * either grows with the books, not the page. Here each member's next `take`
 * keys come from its own index range (owner, sort key), in order, and only
 * those are merged: at most members × take index entries per page however
 * large the books. The caller joins the page's own rows back by key.
 */
export function mergedPageKeys<K extends string>(page: MergedPage<K>) {
  const order = sql.raw(page.direction === 'desc' ? ' DESC' : ' ASC');
  const columns = page.keys.map((key) => sql.ref(`keys.${key}`));
  return sql<Record<K, unknown>>`(
    SELECT ${sql.raw(page.distinct ? 'DISTINCT ' : '')}${sql.join(columns)}
    FROM unnest(${page.members}::uuid[]) AS member(id)
    CROSS JOIN LATERAL (${page.perMember}) AS keys
    ORDER BY ${sql.join(columns.map((column) => sql`${column}${order}`))}
    LIMIT ${page.take})`;
}
