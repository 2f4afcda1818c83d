/**
 * How long a cluster primary waits before replacing a worker that exited.
 *
 * A worker that had been serving a while is replaced at once. One that died
 * young, most likely because its start failed (the database unreachable, a
 * migration refused), is replaced after a delay that doubles with each young
 * death in a row, up to a ceiling: a fault that outlives restarts then costs
 * one start attempt per `maxMs` instead of a tight loop of forks, each
 * opening connections and taking the migration lock.
 */
export class RespawnBackoff {
  private delayMs = 0;

  constructor(private readonly limits: { youngMs: number; firstMs: number; maxMs: number } = { youngMs: 10_000, firstMs: 1_000, maxMs: 30_000 }) {}

  /** The delay before replacing a worker that lived `livedMs`. */
  next(livedMs: number): number {
    if (livedMs >= this.limits.youngMs) {
      this.delayMs = 0;
      return 0;
    }
    this.delayMs = this.delayMs === 0 ? this.limits.firstMs : Math.min(this.delayMs * 2, this.limits.maxMs);
    return this.delayMs;
  }
}
