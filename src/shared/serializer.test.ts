import Fastify from 'fastify';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { serializerController, serializerFriendly } from './serializer.js';

describe('serializerFriendly', () => {
  it('turns "X or null" into X with nullable: true, keeping the annotations', () => {
    const schema = Type.Object({
      issued_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it was issued.' }),
      reason: Type.Union([Type.Null(), Type.String()]),
    });
    const out = serializerFriendly(schema) as unknown as { properties: Record<string, unknown> };
    expect(out.properties.issued_at).toEqual({ type: 'string', format: 'date-time', description: 'When it was issued.', nullable: true });
    expect(out.properties.reason).toEqual({ type: 'string', nullable: true });
  });

  it('leaves "X or null" alone when X pins its values (const, enum)', () => {
    const pinned = Type.Object({ kind: Type.Union([Type.Literal('term'), Type.Null()]), mode: Type.Union([Type.String({ enum: ['annual', 'monthly'] }), Type.Null()]) });
    const out = serializerFriendly(pinned) as unknown as { properties: Record<string, { anyOf?: unknown[] }> };
    expect(out.properties.kind!.anyOf).toHaveLength(2);
    expect(out.properties.mode!.anyOf).toHaveLength(2);
  });

  it('leaves other unions, references and the original schema alone', () => {
    const either = Type.Union([Type.String(), Type.Integer()]);
    const referenced = { anyOf: [{ $ref: 'Problem' }, { type: 'null' }] };
    const schema = Type.Object({ either, referenced: referenced as never, nested: Type.Union([Type.Union([Type.String(), Type.Integer()]), Type.Null()]) });
    const copy = JSON.parse(JSON.stringify(schema)) as unknown;
    const out = serializerFriendly(schema) as unknown as { properties: Record<string, unknown> };
    expect(out.properties.either).toEqual(JSON.parse(JSON.stringify(either)));
    expect(out.properties.referenced).toEqual(referenced);
    expect((out.properties.nested as { anyOf: unknown[] }).anyOf).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(copy);
  });

  it('serializes the same JSON as before, for values and for nulls', async () => {
    const Row = Type.Object({
      when: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      count: Type.Union([Type.Integer(), Type.Null()]),
      nominee: Type.Union([Type.Object({ name: Type.String() }), Type.Null()]),
    });
    const rows = [
      { when: '2026-11-25T10:00:00Z', count: 3, nominee: { name: 'Asha', extra: 'dropped' } },
      { when: null, count: null, nominee: null },
    ];
    const answers: string[] = [];
    for (const options of [{}, { schemaController: serializerController() }]) {
      const app = Fastify(options);
      app.get('/', { schema: { response: { 200: Type.Array(Row) } } }, async () => rows);
      answers.push((await app.inject({ method: 'GET', url: '/' })).body);
      await app.close();
    }
    expect(answers[1]).toBe(answers[0]);
    expect(JSON.parse(answers[1]!)).toEqual([
      { when: '2026-11-25T10:00:00Z', count: 3, nominee: { name: 'Asha' } },
      { when: null, count: null, nominee: null },
    ]);
  });
});
