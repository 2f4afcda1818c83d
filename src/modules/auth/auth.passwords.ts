import type { Algorithm } from '@node-rs/argon2';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { AppError } from '../../shared/errors.js';
import { HashWorkers } from './auth.hash-workers.js';

/** OWASP's argon2id recommendation: m=19456 KiB, t=2, p=1. */
// Algorithm.Argon2id is an ambient const enum, which verbatimModuleSyntax cannot read; 2 is its value.
export const ARGON2_PARAMS = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const PARAMS_TAG = `m=${ARGON2_PARAMS.memoryCost},t=${ARGON2_PARAMS.timeCost},p=${ARGON2_PARAMS.parallelism}`;

/** A place in the hashing line, held from admission until the sign-in is answered. */
export interface HashTicket {
  release(): void;
}

/**
 * Argon2 runs on low-priority worker threads (HashWorkers), `concurrency` at
 * a time, so a login storm gets only the CPU nobody else needs; at most `queueMax`
 * more are admitted to wait. A sign-in takes its place (admit) before any
 * database or Redis work, so past the bound the caller gets 503 with
 * Retry-After (after HASH_SHED_DELAY_MS, see AuthService) and a flood costs no
 * I/O; callers without a ticket (registration, password change) are admitted per hash.
 */
export class PasswordHasher {
  private running = 0;
  private admitted = 0;
  private readonly waiting: Array<() => void> = [];
  private dummyHash: Promise<string> | undefined;
  private readonly workers: HashWorkers;

  constructor(private readonly concurrency = 2, private readonly queueMax = 64) {
    this.workers = new HashWorkers(concurrency);
  }

  async hash(password: string, ticket?: HashTicket): Promise<string> {
    return this.run(() => this.workers.hash(password, ARGON2_PARAMS), ticket);
  }

  /** Verifies; with no stored hash, verifies against a dummy so unknown users cost the same time. */
  async verify(storedHash: string | null, password: string, ticket?: HashTicket): Promise<boolean> {
    const target = storedHash ?? (await this.getDummyHash());
    const ok = await this.run(() => this.workers.verify(target, password).catch(() => false), ticket);
    return ok && storedHash !== null;
  }

  /** Stops the hashing threads; for shutdown. */
  close(): Promise<void> {
    return this.workers.close();
  }

  needsRehash(storedHash: string): boolean {
    return !storedHash.startsWith('$argon2id$') || !storedHash.includes(PARAMS_TAG);
  }

  /** Takes a place in line, or refuses (503) when the line is full. Release it when done, on every path. */
  admit(): HashTicket {
    if (this.admitted >= this.concurrency + this.queueMax) throw this.busy();
    this.admitted++;
    let held = true;
    return {
      release: () => {
        if (held) this.admitted--;
        held = false;
      },
    };
  }

  get queueDepth(): number {
    return this.waiting.length;
  }

  private busy(): AppError {
    // Expected under a flood, so not logged one by one: the 503 count is in the HTTP metrics.
    return new AppError('SERVICE_UNAVAILABLE', 503, 'Too many sign-ins at once; try again in a moment.', { retryAfterS: 2, quiet: true });
  }

  private getDummyHash(): Promise<string> {
    this.dummyHash ??= this.workers.hash('dummy-password-for-timing-equality', ARGON2_PARAMS);
    return this.dummyHash;
  }

  private async run<T>(task: () => Promise<T>, ticket?: HashTicket): Promise<T> {
    const own = ticket ? null : this.admit();
    try {
      if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
      else this.running++;
      try {
        return await task();
      } finally {
        const next = this.waiting.shift();
        if (next) next();
        else this.running--;
      }
    } finally {
      own?.release();
    }
  }
}

let estimator: Promise<ZxcvbnFactory> | undefined;
/**
 * Loaded on first use: the dictionaries are megabytes of heap that an instance
 * serving reads never needs (the check runs on registration and password change only).
 */
function getEstimator(): Promise<ZxcvbnFactory> {
  estimator ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]);
    return new ZxcvbnFactory({
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary },
      translations: en.translations,
    });
  })();
  return estimator;
}

/**
 * NIST 800-63B / ASVS 6.2: length 8..128, any characters, no composition rules,
 * but refuse passwords an attacker would guess early: common-password lists,
 * keyboard walks, and the user's own phone, name or email (score below 3).
 */
export async function checkPasswordStrength(password: string, userInputs: string[] = []): Promise<void> {
  if ([...password].length < 8 || [...password].length > 128) {
    throw new AppError('WEAK_PASSWORD', 422, 'Use 8 to 128 characters.', { errors: [{ path: '/password', message: 'must be 8 to 128 characters' }] });
  }
  const inputs = userInputs.flatMap((s) => [s, ...s.split(/[\s@.+]+/)]).filter((s) => s.length >= 3);
  const result = await (await getEstimator()).checkAsync(password, inputs);
  if (result.score < 3) {
    const hint = result.feedback.warning || 'It is too easy to guess.';
    throw new AppError('WEAK_PASSWORD', 422, `Choose a harder password: ${hint}`, {
      errors: [{ path: '/password', message: [hint, ...result.feedback.suggestions].join(' ').trim() }],
    });
  }
}
