import type { Redis } from 'ioredis';
import type { KeyValueStore } from './kv-store.js';

type Handler = (payload: unknown) => void;

interface Listener {
  handler: Handler;
  /** Rebuilds whatever the listener derives from messages it may have missed. */
  resync?: () => Promise<void>;
}

/**
 * Messages to every instance (this one included) over Redis pub/sub, on one
 * subscriber connection per process. In-memory views built from messages
 * (revoked sessions, cached callers) are only trustworthy while `live`: with
 * Redis, from the end of each (re)subscribe plus resync until the connection
 * drops; without Redis there is one instance and messages are delivered in
 * process, so always.
 */
export class Broadcast {
  private subscriber: Redis | null = null;
  private subscribed = false;
  private readonly listeners = new Map<string, Listener>();
  private readonly echoes = new Map<string, () => void>();

  constructor(private readonly kv: KeyValueStore) {}

  get live(): boolean {
    return this.kv.redis === null || this.subscribed;
  }

  /** Registers a channel; call before start(). The channel name gets the store's prefix. */
  listen(channel: string, handler: Handler, resync?: () => Promise<void>): void {
    this.listeners.set(this.kv.prefix + channel, { handler, resync });
  }

  async start(): Promise<void> {
    if (!this.kv.redis || this.subscriber) return;
    const subscriber = this.kv.redis.duplicate({ keyPrefix: undefined, lazyConnect: true, enableOfflineQueue: true, enableAutoPipelining: false });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('close', () => (this.subscribed = false));
    subscriber.on('message', (channel, message) => this.accept(channel, message));
    subscriber.on('ready', () => void this.resubscribe().catch(() => undefined));
    await subscriber.connect();
    await this.resubscribe();
  }

  async stop(): Promise<void> {
    this.subscribed = false;
    this.subscriber?.disconnect();
    this.subscriber = null;
  }

  /**
   * Sends a payload to every instance. With awaitEcho, resolves once this
   * instance's own subscriber has seen it (at most 250 ms), by when Redis has
   * handed it to every other subscriber too.
   */
  async publish(channel: string, payload: unknown, awaitEcho = false): Promise<void> {
    const name = this.kv.prefix + channel;
    if (!this.kv.redis) {
      this.listeners.get(name)?.handler(payload);
      return;
    }
    const nonce = `${process.pid}:${Math.random().toString(36).slice(2)}`;
    const echoed = awaitEcho && this.subscribed
      ? new Promise<void>((resolve) => {
        this.echoes.set(nonce, resolve);
        setTimeout(resolve, 250).unref();
      })
      : undefined;
    try {
      await this.kv.redis.publish(name, JSON.stringify({ nonce, payload }));
      await echoed;
    } finally {
      this.echoes.delete(nonce);
    }
  }

  private accept(channel: string, message: string): void {
    let parsed: { nonce?: unknown; payload?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return; // not one of ours
    }
    this.listeners.get(channel)?.handler(parsed.payload);
    if (typeof parsed.nonce === 'string') this.echoes.get(parsed.nonce)?.();
  }

  /** Subscribe first, then resync, so nothing sent in between is missed. */
  private async resubscribe(): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber || subscriber.status !== 'ready' || this.listeners.size === 0) return;
    await subscriber.subscribe(...this.listeners.keys());
    for (const listener of this.listeners.values()) await listener.resync?.();
    if (this.subscriber === subscriber && subscriber.status === 'ready') this.subscribed = true;
  }
}
