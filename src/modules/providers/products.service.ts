import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import type { Clock } from '../../shared/clock.js';
import { AppError, forbidden, notFound } from '../../shared/errors.js';
import { runIdempotent, type StoredResponse } from '../../shared/idempotency.js';
import { newId } from '../../shared/ids.js';
import { decodeCursor, toPage } from '../../shared/pagination.js';
import { appendAuditEvent, type AuditContext } from '../audit/audit.repository.js';
import { validateRatingRules, type RatingRules } from '../policies/premium.js';
import type { Callers } from '../rbac/rbac.callers.js';
import { assertIfMatch } from '../../shared/etag.js';
import * as repo from './products.repository.js';
import { ratingRulesOf, toProductResponse, type CreateProductBody, type Product, type ProductListQuery, type ProductRow, type UpdateProductBody } from './products.schemas.js';
import { findProviderById } from './providers.repository.js';
import { CODE_PATTERN } from './providers.schemas.js';
import { uniqueViolation } from '../../db/errors.js';
import { managesProvider, type IdempotencyRequest } from './providers.service.js';
import type { ProductsForSale } from '../policies/policies.products.js';

/** Contradictory rules are refused as a whole, each violation named with its rule code. */
export function assertConsistentRules(rules: RatingRules): void {
  const violations = validateRatingRules(rules);
  if (violations.length === 0) return;
  throw new AppError('VALIDATION_FAILED', 422, `The product's rules contradict each other: ${[...new Set(violations.map((v) => v.rule))].join(', ')}.`, {
    errors: violations.map((v) => ({ path: v.path, message: `${v.rule}: ${v.message}` })),
  });
}

const productCodeTaken = (code: string) => new AppError('CODE_TAKEN', 409, `This provider already has a product with code ${code}.`);

/** A provider's products and their rating rules; readable by anyone signed in, written by whoever manages the provider. */
export class ProductsService {
  constructor(private readonly deps: { db: Kysely<DB>; clock: Clock; callers: Callers; productsForSale: ProductsForSale }) {}

  async create(principal: Principal, providerId: string, body: CreateProductBody, ctx: AuditContext, idempotency: IdempotencyRequest): Promise<StoredResponse<Product>> {
    const actor = await this.deps.callers.actor(principal);
    if (!(await findProviderById(this.deps.db, providerId))) throw notFound('Provider');
    if (!managesProvider(actor, providerId)) throw forbidden('Only a super_admin or this provider\'s own admin may add products.');
    const scope = { userId: actor.userId, key: idempotency.key, method: 'POST', path: idempotency.path, body };
    return runIdempotent(this.deps.db, scope, async (trx) => ({ status: 201, body: toProductResponse(await this.insert(trx, providerId, body, ctx)) }));
  }

  /** Creates inside the caller's transaction (the idempotency record's). */
  async insert(trx: Transaction<DB>, providerId: string, body: CreateProductBody, ctx: AuditContext): Promise<ProductRow> {
    const code = body.code.toUpperCase();
    if (!CODE_PATTERN.test(code)) throw new AppError('VALIDATION_FAILED', 422, 'The code is not valid.', { errors: [{ path: '/code', message: 'must match ^[A-Z][A-Z0-9_-]{1,19}$' }] });
    const { code: _code, name, ...rules } = body;
    assertConsistentRules(rules);
    if (await repo.isProductCodeTaken(trx, providerId, code)) throw productCodeTaken(code);
    const now = this.deps.clock.now();
    const row = await repo.insertProduct(trx, {
      id: newId(now.getTime()), provider_id: providerId, code, name: name.trim(), ...rules,
      rate_table: JSON.stringify(rules.rate_table), modal_factors: rules.modal_factors ? JSON.stringify(rules.modal_factors) : null,
      tax_rate_bp: rules.tax_rate_bp ?? null, created_at: now, updated_at: now,
    }).catch((error: unknown) => {
      throw uniqueViolation(error) === 'products_provider_code_key' ? productCodeTaken(code) : error;
    });
    await appendAuditEvent(trx, ctx, { action: 'product.created', entityType: 'product', entityId: row.id, changes: { provider_id: providerId, code, kind: row.kind } }, now);
    return row;
  }

  async list(providerId: string, query: ProductListQuery) {
    if (!(await findProviderById(this.deps.db, providerId))) throw notFound('Provider');
    const limit = query.limit ?? 20;
    const rows = await repo.listProducts(this.deps.db, providerId, { kind: query.kind, status: query.status }, decodeCursor(query.cursor, ['timestamp', 'uuid']), limit);
    const page = toPage(rows, limit, (row) => [row.cursor_at, row.id]);
    return { items: page.items.map(toProductResponse), next_cursor: page.next_cursor };
  }

  async get(providerId: string, productId: string): Promise<ProductRow> {
    const row = await repo.findProduct(this.deps.db, providerId, productId);
    if (!row) throw notFound('Product');
    return row;
  }

  /** For pricing and policies: a product by its id alone, with the provider it belongs to. */
  async findById(db: Kysely<DB> | Transaction<DB>, productId: string): Promise<ProductRow | undefined> {
    return repo.findProductById(db, productId);
  }

  async update(principal: Principal, providerId: string, productId: string, body: UpdateProductBody, ifMatch: string | undefined, ctx: AuditContext): Promise<ProductRow> {
    const actor = await this.deps.callers.actor(principal);
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const before = await repo.findProduct(trx, providerId, productId, true);
      if (!before) throw notFound('Product');
      if (!managesProvider(actor, providerId)) throw forbidden('Only a super_admin or this provider\'s own admin may change its products.');
      assertIfMatch(ifMatch, before.version);
      const { name, status, rate_table, modal_factors, ...limits } = body;
      assertConsistentRules({ ...ratingRulesOf(before), ...limits, ...(rate_table ? { rate_table } : {}), ...(modal_factors !== undefined ? { modal_factors } : {}) });
      const now = this.deps.clock.now();
      const row = await repo.updateProduct(trx, productId, {
        ...limits,
        ...(name !== undefined ? { name: name.trim() } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(rate_table !== undefined ? { rate_table: JSON.stringify(rate_table) } : {}),
        ...(modal_factors !== undefined ? { modal_factors: modal_factors ? JSON.stringify(modal_factors) : null } : {}),
        updated_at: now,
      }, before.version);
      await appendAuditEvent(trx, ctx, { action: 'product.updated', entityType: 'product', entityId: productId, changes: { fields: Object.keys(body).sort() } }, now);
      return row;
    });
    await this.deps.productsForSale.changed([productId]);
    return row;
  }
}
