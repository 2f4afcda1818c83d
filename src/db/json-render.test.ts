import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/app.js';
import { toIso } from '../shared/clock.js';
import { createDatabase, type Database } from './database.js';
import { date, integer, jsonb, nullable, number, object, renderedRows, renderObject, text, timestamp, uuid, type JsonFields } from './json-render.js';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase(testDb.url);
});
afterAll(async () => {
  await database.close();
  await testDb.drop();
});

/** Renders `fields` over each element of `values` (as jsonb `x`), in order. */
async function renderEach(fields: JsonFields, values: readonly unknown[]): Promise<(string | null)[]> {
  const { rows } = await sql<{ json: string | null }>`
    SELECT ${renderObject(fields)} AS json
    FROM jsonb_array_elements(${JSON.stringify(values)}::jsonb) WITH ORDINALITY AS v(x, n) ORDER BY n`.execute(database.db);
  return rows.map((row) => row.json);
}

describe('JSON rendered by PostgreSQL', () => {
  it('escapes any text as JSON does, quotes, backslashes, control characters and non-ASCII included', async () => {
    const tricky = fc.constantFrom('"', '\\', '\n', '\r', '\t', '\b', '\f', '\u0001', '\u001f', '\u007f', '\u2028', '/', 'é', 'न', '😀', '\'');
    const texts = fc.sample(fc.string({ unit: fc.oneof(tricky, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 30 }), 400)
      .map((value) => value.replace(/\0/g, '')); // PostgreSQL text cannot hold NUL
    const rendered = await renderEach({ v: text(`v.x->>'s'`) }, texts.map((s) => ({ s })));
    rendered.forEach((json, i) => expect(JSON.parse(json!)).toEqual({ v: texts[i] }));
  });

  it('writes integers up to 2^53 and fractional numbers as the JavaScript numbers they are', async () => {
    const integers = [0, -1, 42, 625_000, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    const asIntegers = await renderEach({ v: integer(`(v.x->>'i')::bigint`) }, integers.map((i) => ({ i: String(i) })));
    expect(asIntegers).toEqual(integers.map((i) => `{"v":${i}}`));
    const decimals = ['1.0000', '0.0875', '0.5200', '12.5', '-3.25', '0'];
    const asNumbers = await renderEach({ v: number(`(v.x->>'d')::numeric(8,4)`) }, decimals.map((d) => ({ d })));
    expect(asNumbers).toEqual(decimals.map((d) => JSON.stringify({ v: Number(d) })));
  });

  it('writes calendar dates as YYYY-MM-DD and uuids as their text', async () => {
    const rows = [{ d: '2026-11-26', u: '0192e476-f105-75a6-ae7a-851cd4c2d8d6' }, { d: '1000-01-01', u: '00000000-0000-0000-0000-000000000000' }, { d: '9999-12-31', u: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }];
    const rendered = await renderEach({ d: date(`(v.x->>'d')::date`), u: uuid(`(v.x->>'u')::uuid`) }, rows);
    expect(rendered).toEqual(rows.map((row) => JSON.stringify(row)));
  });

  it('writes an instant as toIso does (UTC, whole seconds), whatever the session\'s time zone', async () => {
    const instants = fc.sample(fc.record({
      ms: fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
      micro: fc.integer({ min: 0, max: 999 }),
    }), 300);
    // The microseconds past the millisecond a Date holds must not round the second up.
    instants.push({ ms: Date.UTC(2026, 10, 26, 9, 59, 59, 999), micro: 999 });
    const texts = instants.map(({ ms, micro }) => new Date(ms).toISOString().replace('Z', `${String(micro).padStart(3, '0')}Z`));
    const rendered = await database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL TIME ZONE 'Asia/Kolkata'`.execute(trx);
      const { rows } = await sql<{ json: string }>`
        SELECT ${renderObject({ v: timestamp(`(v.x->>'t')::timestamptz`) })} AS json
        FROM jsonb_array_elements(${JSON.stringify(texts.map((t) => ({ t })))}::jsonb) WITH ORDINALITY AS v(x, n) ORDER BY n`.execute(trx);
      return rows.map((row) => row.json);
    });
    expect(rendered).toEqual(instants.map(({ ms }) => JSON.stringify({ v: toIso(new Date(ms)) })));
  });

  it('keeps the keys in order, nests objects, and writes null for a nullable NULL or an object whose condition fails', async () => {
    const fields: JsonFields = {
      id: uuid(`(v.x->>'id')::uuid`),
      label: nullable(text(`v.x->>'label'`)),
      inner: object({ count: integer(`(v.x->>'count')::int`), at: nullable(timestamp(`(v.x->>'at')::timestamptz`)) }),
      extra: object({ name: jsonb(`v.x->'extra'->'name'`), share: jsonb(`v.x->'extra'->'share'`) }, `jsonb_typeof(v.x->'extra') = 'object'`),
    };
    const id = '0192e476-f105-75a6-ae7a-851cd4c2d8d6';
    const rendered = await renderEach(fields, [
      { id, label: 'a', count: 1, at: '2026-11-26T10:00:00.5Z', extra: { name: 'Ravi "R" Kumar', share: 100 } },
      { id, label: null, count: 2, at: null, extra: null },
    ]);
    expect(rendered).toEqual([
      JSON.stringify({ id, label: 'a', inner: { count: 1, at: '2026-11-26T10:00:00Z' }, extra: { name: 'Ravi "R" Kumar', share: 100 } }),
      JSON.stringify({ id, label: null, inner: { count: 2, at: null }, extra: null }),
    ]);
  });

  it('makes a row whose required value is NULL render as NULL, which the caller refuses rather than send broken JSON', async () => {
    const fields: JsonFields = { a: integer(`(v.x->>'a')::int`), o: object({ b: text(`v.x->>'b'`) }, 'true') };
    const rendered = await renderEach(fields, [{ a: 1, b: 'x' }, { a: null, b: 'x' }, { a: 1, b: null }]);
    expect(rendered).toEqual(['{"a":1,"o":{"b":"x"}}', null, null]);
    expect(() => renderedRows([{ json: rendered[0]! }, { json: rendered[1]! }], 'policy')).toThrow(/policy row has a NULL/);
    expect(renderedRows([{ json: rendered[0]! }], 'policy')).toEqual(['{"a":1,"o":{"b":"x"}}']);
  });

  it('refuses keys that are not plain names, and nullable() on an object', () => {
    expect(() => renderObject({ 'a\'b': integer('1') })).toThrow(/plain name/);
    expect(() => renderObject({ o: object({ 'x"': integer('1') }) })).toThrow(/plain name/);
    expect(() => nullable(object({ a: integer('1') }))).toThrow(/when/);
  });
});
