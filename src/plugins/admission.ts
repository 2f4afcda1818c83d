import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Starts at most `perTurn` requests per turn of the event loop, the others in
 * arrival order on the turns after.
 *
 * Why: libuv accepts one new connection per turn (libuv PR #3696: it relies
 * on level-triggered polling instead of accepting in a loop). When hundreds
 * of connections are busy and their requests are served from memory (cached
 * callers, tokens and pages), one turn runs hundreds of whole requests and
 * lasts 100-200 ms, so a new connection waits in the kernel's accept queue
 * for seconds, or for good while the load lasts: at 1000 connections the
 * benchmark saw only 383 of them ever answered. Short turns let connections
 * in at the rate turns go by, and every client is served in its turn. Reads
 * served from memory keep their throughput; routes that wait on the database
 * lose some at saturation, since fewer of their queries are in flight at
 * once (bench/README.md). Under light load no request waits: while the queue is
 * empty and fewer than `perTurn` have started this turn, a request goes on at
 * once.
 */
export class Admission {
  private readonly waiting: Array<() => void> = [];
  private startedThisTurn = 0;
  private turnEnding = false;

  constructor(private readonly perTurn: number) {}

  /** Calls `go` now, or on a coming turn when this one has had its share. */
  enter(go: () => void): void {
    if (this.waiting.length === 0 && this.startedThisTurn < this.perTurn) {
      this.startedThisTurn += 1;
      this.endTurnSoon();
      go();
      return;
    }
    this.waiting.push(go);
    this.endTurnSoon();
  }

  /** Requests waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  private endTurnSoon(): void {
    if (this.turnEnding) return;
    this.turnEnding = true;
    // setImmediate runs after this turn's I/O; one scheduled from it runs on the next turn, after that turn's I/O (and accept).
    setImmediate(() => this.nextTurn());
  }

  private nextTurn(): void {
    this.turnEnding = false;
    this.startedThisTurn = 0;
    while (this.startedThisTurn < this.perTurn && this.waiting.length > 0) {
      this.startedThisTurn += 1;
      this.waiting.shift()!();
    }
    if (this.waiting.length > 0 || this.startedThisTurn > 0) this.endTurnSoon();
  }
}

/** The first onRequest hook: every request, health checks included, takes its turn (`ADMISSION_PER_TURN`, 0: off). */
export default fp(
  async function admission(app: FastifyInstance, opts: { perTurn: number }) {
    if (opts.perTurn <= 0) return;
    const gate = new Admission(opts.perTurn);
    app.addHook('onRequest', (_request, _reply, done) => gate.enter(done));
  },
  { name: 'admission' },
);
