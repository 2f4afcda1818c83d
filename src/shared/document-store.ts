import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where uploaded documents' bytes live. Content-addressed: the key is the
 * SHA-256 of the bytes, so a re-upload of the same file stores nothing new and
 * a stored file can be checked against its key at any time.
 */
export interface DocumentStore {
  /** Stores the bytes; returns their SHA-256 (hex), the key to get them back. */
  put(bytes: Buffer): Promise<string>;
  get(sha256: string): Promise<Buffer | null>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * Files under `root/ab/cd/<sha256>`. The two directory levels keep any one
 * directory small; a write goes to a temp file in the target directory and is
 * renamed into place, so a reader never sees half a file. `root` must sit
 * outside any served directory: documents are only ever read through the API.
 */
export function createLocalDocumentStore(root: string): DocumentStore {
  const pathOf = (hash: string) => join(root, hash.slice(0, 2), hash.slice(2, 4), hash);
  return {
    async put(bytes) {
      const hash = sha256Hex(bytes);
      const target = pathOf(hash);
      if (await exists(target)) return hash;
      await mkdir(join(root, hash.slice(0, 2), hash.slice(2, 4)), { recursive: true, mode: 0o700 });
      const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(temp, bytes, { mode: 0o600, flag: 'wx' });
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      return hash;
    },
    async get(hash) {
      // The key is checked before it becomes a path, so no value can walk out of the root.
      if (!SHA256_HEX.test(hash)) return null;
      try {
        return await readFile(pathOf(hash));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** For tests and throwaway instances: nothing touches the disk. */
export class MemoryDocumentStore implements DocumentStore {
  readonly files = new Map<string, Buffer>();

  async put(bytes: Buffer): Promise<string> {
    const hash = sha256Hex(bytes);
    this.files.set(hash, Buffer.from(bytes));
    return hash;
  }

  async get(hash: string): Promise<Buffer | null> {
    const bytes = this.files.get(hash);
    return bytes ? Buffer.from(bytes) : null;
  }
}
