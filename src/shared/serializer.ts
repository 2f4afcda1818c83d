import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyReply, FastifyServerOptions } from 'fastify';

/**
 * Response serializers built from schemas rewritten for speed, not meaning.
 *
 * The route schemas say "X or null" the JSON Schema 2020-12 way, as
 * `anyOf: [X, { type: 'null' }]`, and that is what OpenAPI shows. But
 * fast-json-stringify serializes an anyOf by running an Ajv validation of each
 * branch against the value (format checks included) to choose one: on a
 * policy list that was about 3% of the API's CPU, for 20 rows with six
 * nullable fields each. Its own `nullable: true` keyword means the same thing
 * and costs one `=== null` test, so the serializers get that instead. The
 * rewrite touches copies; the schemas the docs and the validators see are
 * unchanged.
 */
export function serializerFriendly<T>(schema: T): T {
  return rewrite(schema, new WeakMap()) as T;
}

/**
 * Branches left as they are: compositions and references, and branches that
 * pin values (const, enum), which fast-json-stringify would write as the
 * constant whatever the value is, where Ajv refused a value outside them.
 */
const KEEP = ['anyOf', 'oneOf', 'allOf', 'not', 'if', '$ref', 'const', 'enum'] as const;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
/** `{ type: 'null' }`, give or take annotations. */
const isNullSchema = (value: unknown) => isObject(value) && value.type === 'null' && Object.keys(value).every((k) => k === 'type' || k === 'description' || k === 'title');

function rewrite(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (Array.isArray(value)) return value.map((item) => rewrite(item, seen));
  if (!isObject(value)) return value;
  const done = seen.get(value);
  if (done !== undefined) return done;
  const out: Json = {};
  seen.set(value, out);
  for (const [key, child] of Object.entries(value)) out[key] = rewrite(child, seen);
  const branches = out.anyOf;
  if (Array.isArray(branches) && branches.length === 2) {
    const nullAt = branches.findIndex(isNullSchema);
    const other = branches[1 - nullAt];
    if (nullAt !== -1 && isObject(other) && typeof other.type === 'string' && other.type !== 'null' && !KEEP.some((k) => k in other)) {
      const { anyOf: _replaced, ...annotations } = out;
      const merged = { ...other, ...annotations, nullable: true };
      seen.set(value, merged);
      return merged;
    }
  }
  return out;
}

/** Fastify's `schemaController` option: its own serializer factory, fed rewritten schemas. */
export function serializerController(): NonNullable<FastifyServerOptions['schemaController']> {
  const factory = SerializerSelector();
  return {
    compilersFactory: {
      buildSerializer(externalSchemas, options) {
        const compile = factory(serializerFriendly(externalSchemas as Json), options);
        return (route) => compile({ ...route, schema: serializerFriendly(route.schema) });
      },
    },
  };
}

/**
 * The serializer a route answering `schema` gets (the same rewrite, the same
 * compiler, Fastify's default options), for a service that keeps answers as
 * text: what it writes is what the route would have written from the object.
 * Compiled on first use, not at import, so start-up does not pay for it.
 */
export function lazySerializer<T>(schema: object): (value: T) => string {
  let compiled: ((value: T) => string) | undefined;
  return (value) => {
    compiled ??= SerializerSelector()(undefined, undefined)({ schema: serializerFriendly(schema) as Json, method: 'GET', url: '', httpStatus: '200' }) as (value: T) => string;
    return compiled(value);
  };
}

/**
 * Answers with JSON text that PostgreSQL rendered in the shape of the route's
 * response schema (db/json-render.ts). Fastify sends a string under a JSON
 * content type as it is, so it is not serialised a second time; the schema
 * still documents the answer, and tests hold the rendering to it.
 */
export function sendRendered(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json as never);
}
