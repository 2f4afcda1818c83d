import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Broadcast } from '../../shared/broadcast.js';
import { SharedCache } from '../../shared/shared-cache.js';
import { findProductForSale, type ProductForSale } from './policies.repository.js';

export type ProductsForSale = SharedCache<ProductForSale>;

/**
 * Products as quotes read them (with the provider's code and status), cached
 * per instance on broadcast channel 'products'. A product's update drops it,
 * a provider's update or status change drops them all, on every instance, once
 * the change commits. Only quotes read through it: selling, issuing and
 * renewing read the product inside their own transaction.
 */
export function productsForSaleCache(db: Kysely<DB>, broadcast: Broadcast, ttlMs: number): ProductsForSale {
  return new SharedCache<ProductForSale>({ channel: 'products', broadcast, ttlMs, max: 10_000, load: async (id) => deepFreeze(await findProductForSale(db, id)) });
}

/** One cached row serves many requests at once: none of them may change it (a write throws in strict mode). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
