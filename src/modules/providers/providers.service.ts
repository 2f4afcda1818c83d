import { sql, type Kysely, type Transaction } from 'kysely';
import { uniqueViolation } from '../../db/errors.js';
import { AGENT_STATUSES, POLICY_STATUSES, type AgentStatus, type DB, type ProductKind, type ProviderType } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import type { Clock } from '../../shared/clock.js';
import { AppError, forbidden, notFound } from '../../shared/errors.js';
import { runIdempotent, type StoredResponse } from '../../shared/idempotency.js';
import { newId } from '../../shared/ids.js';
import { decodeCursor, decodeSortedCursor, parseSort, sortName, toPage } from '../../shared/pagination.js';
import { appendAuditEvent, type AuditContext } from '../audit/audit.repository.js';
import { requirePhone } from '../auth/auth.service.js';
import { agentScope, type Actor } from '../rbac/rbac.scope.js';
import type { Callers } from '../rbac/rbac.callers.js';
import { assertIfMatch } from '../../shared/etag.js';
import * as repo from './providers.repository.js';
import type { ProductsForSale } from '../policies/policies.products.js';
import {
  CODE_PATTERN, PROVIDER_SORTS, toCommissionRuleResponse, toProviderResponse,
  type CommissionRuleBody, type CreateProviderBody, type Provider, type ProviderListQuery, type ProviderMetrics, type ProviderRow,
  type ProviderStatusBody, type UpdateProviderBody,
} from './providers.schemas.js';

type Db = Kysely<DB> | Transaction<DB>;

export interface IdempotencyRequest {
  key: string | undefined;
  path: string;
}

/** super_admin, or the provider_admin whose own provider it is (users.provider_id). */
export function managesProvider(actor: Actor, providerId: string): boolean {
  return actor.role === 'super_admin' || (actor.role === 'provider_admin' && actor.providerId === providerId);
}

const IRDAI_ONE_PER_TYPE = 'An agent may represent at most one provider of each type (life, health, general) at a time (IRDAI appointment regulations, 2016).';

/** Insurers, their commission schedules, their agents and their metrics. Products live in ProductsService. */
export class ProvidersService {
  constructor(private readonly deps: { db: Kysely<DB>; clock: Clock; callers: Callers; productsForSale: ProductsForSale }) {}

  private get db() {
    return this.deps.db;
  }

  actor(principal: Principal): Promise<Actor> {
    return this.deps.callers.actor(principal);
  }

  async create(principal: Principal, body: CreateProviderBody, ctx: AuditContext, idempotency: IdempotencyRequest): Promise<StoredResponse<Provider>> {
    const actor = await this.actor(principal);
    if (actor.role !== 'super_admin') throw forbidden('Only a super_admin creates providers.');
    const scope = { userId: actor.userId, key: idempotency.key, method: 'POST', path: idempotency.path, body };
    return runIdempotent(this.db, scope, async (trx) => ({ status: 201, body: toProviderResponse(await this.insert(trx, body, ctx)) }));
  }

  /** Creates inside the caller's transaction (the idempotency record's). */
  async insert(trx: Transaction<DB>, body: CreateProviderBody, ctx: AuditContext): Promise<ProviderRow> {
    const code = body.code.toUpperCase();
    if (!CODE_PATTERN.test(code)) throw new AppError('VALIDATION_FAILED', 422, 'The code is not valid.', { errors: [{ path: '/code', message: 'must match ^[A-Z][A-Z0-9_-]{1,19}$' }] });
    if (await repo.isProviderCodeTaken(trx, code)) throw codeTaken(code);
    const now = this.deps.clock.now();
    const row = await repo.insertProvider(trx, {
      id: newId(now.getTime()), code, name: body.name.trim(), type: body.type,
      irdai_registration_number: body.irdai_registration_number?.trim() ?? null,
      contact_email: body.contact_email?.trim().toLowerCase() ?? null,
      contact_phone: body.contact_phone === undefined ? null : requirePhone(body.contact_phone, '/contact_phone'),
      created_at: now, updated_at: now,
    }).catch((error: unknown) => {
      throw uniqueViolation(error) === 'providers_code_key' ? codeTaken(code) : error;
    });
    await appendAuditEvent(trx, ctx, { action: 'provider.created', entityType: 'provider', entityId: row.id, changes: { code, name: row.name, type: row.type } }, now);
    return row;
  }

  async list(query: ProviderListQuery) {
    const sort = parseSort(query.sort, PROVIDER_SORTS, 'name', 'asc');
    const limit = query.limit ?? 20;
    const cursor = decodeSortedCursor(query.cursor, sort);
    const rows = await repo.listProviders(this.db, { q: query.q, type: query.type, status: query.status }, sort, cursor, limit);
    const page = toPage(rows, limit, (row) => [sortName(sort), sort.field === 'created_at' ? row.cursor_at : row[sort.field], row.id]);
    return { items: page.items.map(toProviderResponse), next_cursor: page.next_cursor };
  }

  async get(providerId: string): Promise<ProviderRow> {
    const row = await repo.findProviderById(this.db, providerId);
    if (!row) throw notFound('Provider');
    return row;
  }

  async update(principal: Principal, providerId: string, body: UpdateProviderBody, ifMatch: string | undefined, ctx: AuditContext): Promise<ProviderRow> {
    const actor = await this.actor(principal);
    const updated = await this.db.transaction().execute(async (trx) => {
      const before = await this.lockManaged(trx, actor, providerId);
      assertIfMatch(ifMatch, before.version);
      const now = this.deps.clock.now();
      const patch = {
        ...(body.name !== undefined ? { name: body.name.trim() } : {}),
        ...(body.irdai_registration_number !== undefined ? { irdai_registration_number: body.irdai_registration_number?.trim() ?? null } : {}),
        ...(body.contact_email !== undefined ? { contact_email: body.contact_email?.trim().toLowerCase() ?? null } : {}),
        ...(body.contact_phone !== undefined ? { contact_phone: body.contact_phone === null ? null : requirePhone(body.contact_phone, '/contact_phone') } : {}),
      };
      const row = await repo.updateProvider(trx, providerId, { ...patch, updated_at: now }, before.version);
      const changes = Object.fromEntries(Object.keys(patch).map((k) => [k, [before[k as keyof typeof patch], row[k as keyof typeof patch]]]));
      await appendAuditEvent(trx, ctx, { action: 'provider.updated', entityType: 'provider', entityId: providerId, changes }, now);
      return row;
    });
    // Quotes see a provider's code and status through each product's cache entry.
    await this.deps.productsForSale.changedAll();
    return updated;
  }

  async setStatus(principal: Principal, providerId: string, body: ProviderStatusBody, ctx: AuditContext): Promise<ProviderRow> {
    const actor = await this.actor(principal);
    const updated = await this.db.transaction().execute(async (trx) => {
      const before = await repo.lockProviderById(trx, providerId);
      if (!before) throw notFound('Provider');
      if (actor.role !== 'super_admin') throw forbidden('Only a super_admin changes a provider\'s status.');
      const now = this.deps.clock.now();
      const row = await repo.updateProvider(trx, providerId, { status: body.status, status_reason: body.reason, updated_at: now }, before.version);
      await appendAuditEvent(trx, ctx, { action: 'provider.status_changed', entityType: 'provider', entityId: providerId,
        changes: { status: [before.status, row.status], reason: body.reason } }, now);
      return row;
    });
    await this.deps.productsForSale.changedAll();
    return updated;
  }

  /** Locks a provider the actor may change: 404 when it does not exist, 403 when it is someone else's. */
  private async lockManaged(trx: Transaction<DB>, actor: Actor, providerId: string): Promise<ProviderRow> {
    const row = await repo.lockProviderById(trx, providerId);
    if (!row) throw notFound('Provider');
    if (!managesProvider(actor, providerId)) throw forbidden('Only a super_admin or this provider\'s own admin may change it.');
    return row;
  }

  /** Internals (commission schedules, metrics) are visible only to those who manage the provider; to others it is a 404. */
  private async assertSeesInternals(actor: Actor, providerId: string): Promise<void> {
    if (!managesProvider(actor, providerId) || !(await repo.findProviderById(this.db, providerId))) throw notFound('Provider');
  }

  // --- commission rules ------------------------------------------------------

  async getCommissionRule(principal: Principal, providerId: string, kind: ProductKind | undefined) {
    await this.assertSeesInternals(await this.actor(principal), providerId);
    const row = await repo.findEffectiveCommissionRule(this.db, providerId, kind ?? null);
    if (!row) throw notFound('Commission schedule');
    return row;
  }

  async setCommissionRule(principal: Principal, providerId: string, body: CommissionRuleBody, queryKind: ProductKind | undefined, ifMatch: string | undefined, ctx: AuditContext) {
    if (queryKind && body.product_kind && queryKind !== body.product_kind) {
      throw new AppError('VALIDATION_FAILED', 422, 'product_kind differs between the query and the body.', { errors: [{ path: '/product_kind', message: 'must equal the product_kind query parameter' }] });
    }
    const kind = body.product_kind ?? queryKind ?? null;
    const actor = await this.actor(principal);
    return this.db.transaction().execute(async (trx) => {
      await this.lockManaged(trx, actor, providerId);
      const before = await repo.findCommissionRule(trx, providerId, kind, true);
      const now = this.deps.clock.now();
      const values = pickDefined({ first_year_bp: body.first_year_bp, renewal_bp: body.renewal_bp, override_bp: body.override_bp });
      if (before) assertIfMatch(ifMatch, before.version);
      const row = before
        ? await repo.updateCommissionRule(trx, before.id, { ...values, updated_at: now, updated_by: actor.userId }, before.version)
        : await this.insertCommissionRule(trx, providerId, kind, body, actor.userId, now);
      await appendAuditEvent(trx, ctx, { action: 'provider.commission_rules_set', entityType: 'provider', entityId: providerId,
        changes: { product_kind: kind, before: before ? toCommissionRuleResponse(before) : null, after: toCommissionRuleResponse(row) } }, now);
      return row;
    });
  }

  private async insertCommissionRule(trx: Transaction<DB>, providerId: string, kind: ProductKind | null, body: CommissionRuleBody, userId: string, now: Date) {
    const missing = (['first_year_bp', 'renewal_bp'] as const).filter((field) => body[field] === undefined);
    if (missing.length) {
      throw new AppError('VALIDATION_FAILED', 422, 'A new commission schedule needs first_year_bp and renewal_bp.', { errors: missing.map((f) => ({ path: `/${f}`, message: 'is required for a new schedule' })) });
    }
    return repo.insertCommissionRule(trx, {
      id: newId(now.getTime()), provider_id: providerId, product_kind: kind, first_year_bp: body.first_year_bp!, renewal_bp: body.renewal_bp!,
      override_bp: body.override_bp ?? null, updated_at: now, updated_by: userId,
    }).catch((error: unknown) => {
      throw uniqueViolation(error) ? new AppError('CONFLICT', 409, 'The schedule was created concurrently; read it and retry.') : error;
    });
  }

  // --- agent links -----------------------------------------------------------

  /**
   * Appoints an agent to a provider: the agency's act (super_admin), or the
   * agent's own at registration. Not a provider admin's: a link opens the
   * agent's documents (PAN and Aadhaar scans), its customers and its account
   * to the provider's admin, and an admin could otherwise link any agent whose
   * id it had seen, without the agent's say.
   */
  async linkAgent(principal: Principal, providerId: string, agentId: string, ctx: AuditContext) {
    const actor = await this.actor(principal);
    if (actor.role !== 'super_admin') throw forbidden('Agents are appointed by the agency (a super_admin) or choose their providers when they register.');
    return this.db.transaction().execute(async (trx) => {
      const provider = await this.lockManaged(trx, actor, providerId);
      if (provider.status !== 'active') throw new AppError('BUSINESS_RULE_VIOLATED', 422, 'Agents can only be linked to an active provider.');
      const existing = await repo.findAgentLinks(trx, agentId);
      if (existing.some((link) => link.provider_id === providerId)) throw new AppError('CONFLICT', 409, 'The agent already represents this provider.');
      const sameType = existing.find((link) => link.provider_type === provider.type);
      if (sameType) throw new AppError('CONFLICT', 409, `${IRDAI_ONE_PER_TYPE} The agent already represents ${sameType.name} (${provider.type}).`);
      const now = this.deps.clock.now();
      const [link] = await this.insertLinks(trx, agentId, [provider], now);
      await appendAuditEvent(trx, ctx, { action: 'agent.provider_linked', entityType: 'agent', entityId: agentId, changes: { provider_id: providerId, provider_type: provider.type } }, now);
      return link!;
    });
  }

  /**
   * Writes agent–provider links. The unique index (agent_id, provider_type)
   * is the last word on the IRDAI rule, so a concurrent link of the same type
   * that passed the checks still ends here as a 409.
   */
  async insertLinks(trx: Transaction<DB>, agentId: string, providers: readonly Pick<ProviderRow, 'id' | 'type'>[], now: Date) {
    const rows = providers.map((p) => ({ agent_id: agentId, provider_id: p.id, provider_type: p.type, created_at: now }));
    return repo.insertAgentLinks(trx, rows).catch((error: unknown) => {
      if (error instanceof Error && (error as { code?: string }).code === '23503') throw notFound('Agent');
      const constraint = uniqueViolation(error);
      if (constraint === 'agent_providers_one_per_type') throw new AppError('CONFLICT', 409, IRDAI_ONE_PER_TYPE);
      if (constraint !== null) throw new AppError('CONFLICT', 409, 'The agent already represents this provider.');
      throw error;
    });
  }

  /** Providers an agent may be linked to: each must exist and be active, and at most one per type (422 naming the rule). */
  async resolveForLinking(db: Db, providerIds: readonly string[], path = '/provider_ids'): Promise<ProviderRow[]> {
    const rows = await repo.findProvidersByIds(db, providerIds);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const errors = providerIds.flatMap((id, i) => {
      const row = byId.get(id);
      if (!row) return [{ path: `${path}/${i}`, message: 'is not a known provider' }];
      return row.status === 'active' ? [] : [{ path: `${path}/${i}`, message: `is ${row.status}, not active` }];
    });
    const seen = new Map<ProviderType, number>();
    providerIds.forEach((id, i) => {
      const type = byId.get(id)?.type;
      if (type && seen.has(type)) errors.push({ path: `${path}/${i}`, message: `is a second ${type} provider: ${IRDAI_ONE_PER_TYPE}` });
      if (type) seen.set(type, i);
    });
    if (errors.length) throw new AppError('VALIDATION_FAILED', 422, 'The providers cannot all be represented by this agent.', { errors });
    return providerIds.map((id) => byId.get(id)!);
  }

  async listAgents(principal: Principal, providerId: string, query: { status?: AgentStatus; limit?: number; cursor?: string }) {
    const actor = await this.actor(principal);
    await this.get(providerId);
    const limit = query.limit ?? 20;
    const rows = await repo.listProviderAgents(this.db, providerId, agentScope(actor, sql.ref('agents.id')), query.status, decodeCursor(query.cursor, ['timestamp', 'uuid']), limit);
    const page = toPage(rows, limit, (row) => [row.cursor_at, row.agent_id]);
    return { items: page.items, next_cursor: page.next_cursor };
  }

  async metrics(principal: Principal, providerId: string): Promise<ProviderMetrics> {
    await this.assertSeesInternals(await this.actor(principal), providerId);
    const agents = await repo.countProviderAgentsByStatus(this.db, providerId);
    const policies = await repo.countPoliciesByStatus(this.db, 'provider_id', providerId);
    const totals = await repo.providerPolicyTotals(this.db, providerId);
    return {
      provider_id: providerId,
      agents_by_status: countsByStatus(AGENT_STATUSES, agents),
      policies_by_status: countsByStatus(POLICY_STATUSES, policies),
      premium_in_force_paise: totals.premium_in_force_paise,
      lapse_ratio: totals.lapse_ratio,
    };
  }
}

/** Every status present, zero where the database had no row for it. */
export function countsByStatus(statuses: readonly string[], rows: readonly { status: string; count: number }[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(statuses.map((s) => [s, 0]));
  for (const row of rows) counts[row.status] = row.count;
  return counts;
}

function pickDefined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function codeTaken(code: string): AppError {
  return new AppError('CODE_TAKEN', 409, `A provider with code ${code} exists.`);
}
