import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalDocumentStore, MemoryDocumentStore, sha256Hex, type DocumentStore } from './document-store.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bima-documents-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each([
  ['local directory', () => createLocalDocumentStore(join(root, 'store'))],
  ['memory', () => new MemoryDocumentStore()],
] as [string, () => DocumentStore][])('the %s document store', (_name, make) => {
  it('keys content by its SHA-256 and gives the same bytes back', async () => {
    const store = make();
    const bytes = Buffer.from('%PDF-1.4 a licence');
    const key = await store.put(bytes);
    expect(key).toBe(sha256Hex(bytes));
    expect((await store.get(key))?.equals(bytes)).toBe(true);
    expect(await store.put(Buffer.from(bytes))).toBe(key);
  });

  it('answers null for unknown or malformed keys', async () => {
    const store = make();
    expect(await store.get('0'.repeat(64))).toBeNull();
    expect(await store.get('../../etc/passwd')).toBeNull();
  });
});

describe('the local directory store', () => {
  it('writes ab/cd/<sha256> with no temp file left behind', async () => {
    const dir = join(root, 'layout');
    const key = await createLocalDocumentStore(dir).put(Buffer.from('a pan card'));
    expect(await readdir(join(dir, key.slice(0, 2), key.slice(2, 4)))).toEqual([key]);
  });
});
