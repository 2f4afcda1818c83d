import type { Kysely, Transaction, Updateable } from 'kysely';
import type { DB, PoliciesTable, PolicyStatus } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import type { Clock } from '../../shared/clock.js';
import { AppError, forbidden, notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { runIdempotent, type StoredResponse } from '../../shared/idempotency.js';
import { renderedRows } from '../../db/json-render.js';
import { decodeCursor, renderPage, toPage } from '../../shared/pagination.js';
import { appendAuditEvent, SYSTEM_CONTEXT, type AuditContext } from '../audit/audit.repository.js';
import { ratingRulesOf } from '../providers/products.schemas.js';
import { assertActiveAgent, scopeKey, type Actor } from '../rbac/rbac.scope.js';
import type { Callers } from '../rbac/rbac.callers.js';
import { assertIfMatch } from '../../shared/etag.js';
import type { PageCache } from '../../shared/page-cache.js';
import { lazySerializer } from '../../shared/serializer.js';
import { formatPolicyNumber } from './policy-number.js';
import { computePremium, checkEligibility } from './premium.js';
import { earnCommissions } from './policies.commissions.js';
import { addYears, kolkataDate, nextDueDates, yearOf } from './policies.dates.js';
import {
  assertNoViolations, availabilityViolations, pickTerms, premiumColumns, pricePolicy, sellerViolations, type Terms,
} from './policies.eligibility.js';
import * as repo from './policies.repository.js';
import {
  PolicyDetailSchema, toCommissionResponse, toPolicyDetail,
  type CreatePolicyBody, type PolicyDetail, type PolicyListQuery, type PolicyRow, type Quote, type QuoteBody,
  type RenewalResult, type TransitionBody, type UpdatePolicyBody,
} from './policies.schemas.js';
import { allowedTargets, findTransition, guardRefusal, type Effect, type Mover, type TransitionRule } from './policies.state-machine.js';
import type { ProductsForSale } from './policies.products.js';

/** A cached page's key: the caller's scope and the query, everything the page depends on besides the rows. */
function pageKey(actor: Actor, query: PolicyListQuery): string {
  return `${scopeKey(actor)}\n${JSON.stringify(query)}`;
}

/** One policy as the read answers it: PolicyDetailSchema's JSON text, and the version its ETag names. */
export interface RenderedPolicy {
  version: number;
  body: string;
}

/**
 * Rendered answers kept per instance, both on the generation that migrations
 * 0009 and 0010 advance with every change to a policy, its status history or
 * anything a caller's scope resolves through.
 */
export interface PolicyPages {
  list: PageCache<string>;
  detail: PageCache<RenderedPolicy>;
}

const serializeDetail = lazySerializer<PolicyDetail>(PolicyDetailSchema);


/** What a transition's side effect adds to the row and to the audit entry. */
interface EffectResult {
  patch: Updateable<PoliciesTable>;
  details: Record<string, unknown>;
}

/**
 * Policies: quotes, drafts, the lifecycle and the commissions it earns.
 * Every change runs in one transaction with its status history and audit
 * event; changes to an existing policy lock its row first.
 */
export class PoliciesService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    private readonly callers: Callers,
    private readonly productsForSale: ProductsForSale,
    private readonly pages: PolicyPages,
  ) {}

  async quote(principal: Principal, body: QuoteBody): Promise<Quote> {
    await this.actorOf(principal);
    const product = await this.productsForSale.get(body.product_id);
    if (!product) throw notFound('Product');
    const startDate = body.start_date ?? kolkataDate(this.clock.now());
    const rules = ratingRulesOf(product);
    const input = { date_of_birth: body.date_of_birth, start_date: startDate, ...pickTerms(body) };
    assertNoViolations([...availabilityViolations(product), ...checkEligibility(rules, input)]);
    const { instalments_per_year, ...breakdown } = computePremium(rules, input);
    return { product_id: product.id, start_date: startDate, ...pickTerms(body), instalments_per_year, ...breakdown };
  }

  /** A draft sold by the caller's agent record; an Idempotency-Key retry replays the first answer. */
  async create(principal: Principal, body: CreatePolicyBody, idempotencyKey: string | undefined, ctx: AuditContext): Promise<StoredResponse<PolicyDetail>> {
    const actor = await this.actorOf(principal);
    if (!actor.agentId) throw forbidden('Only agents sell policies.');
    const scope = { userId: actor.userId, key: idempotencyKey, method: 'POST', path: '/api/v1/policies', body };
    return runIdempotent(this.db, scope, async (trx) => {
      const policy = await this.insertDraft(trx, actor, actor.agentId!, body, ctx);
      return { status: 201, body: toPolicyDetail(policy, await repo.listStatusHistory(trx, policy.id)) };
    });
  }

  /** One policy in the caller's scope with its status history, as JSON text (a 404 if the caller may not see it). */
  async get(principal: Principal, id: string): Promise<RenderedPolicy> {
    const actor = await this.actorOf(principal);
    return this.pages.detail.get(`${scopeKey(actor)}\n${id}`, async () => {
      const found = await repo.findPolicyWithHistory(this.db, actor, id);
      if (!found) throw notFound('Policy');
      const detail = toPolicyDetail(found.policy, found.history);
      return { version: detail.version, body: serializeDetail(detail) };
    });
  }

  /** A page of the policies in the caller's scope as JSON text (PageSchema of PolicySchema, the items rendered by PostgreSQL). */
  async list(principal: Principal, query: PolicyListQuery): Promise<string> {
    const actor = await this.actorOf(principal);
    return this.pages.list.get(pageKey(actor, query), () => this.renderList(actor, query));
  }

  private async renderList(actor: Actor, query: PolicyListQuery): Promise<string> {
    const limit = query.limit ?? 20;
    const direction = query.sort === 'created_at' ? 'asc' : 'desc';
    const rows = await repo.listPolicies(this.db, actor, { filters: query, direction, after: readCursor(query.cursor), limit });
    const page = toPage(rows, limit, (row) => [row.created_at.toISOString(), row.id]);
    return renderPage(renderedRows(page.items, 'policy'), page.next_cursor);
  }

  /** Drafts only: the given terms change and the premium is priced again as of today. */
  async update(principal: Principal, id: string, body: UpdatePolicyBody, ifMatch: string | undefined, ctx: AuditContext): Promise<PolicyDetail> {
    const actor = await this.actorOf(principal);
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const policy = await lockInScope(trx, actor, id);
      if (actor.role !== 'super_admin' && actor.agentId !== policy.agent_id) throw forbidden('Only the selling agent may edit this draft.');
      assertIfMatch(ifMatch, policy.version);
      if (policy.status !== 'draft') throw new AppError('CONFLICT', 409, `Only draft policies can be edited; this one is ${policy.status}.`);
      const terms: Terms = { ...pickTerms(policy), ...pickDefined(body) };
      const premium = await this.priceExisting(trx, policy, terms, kolkataDate(now));
      const nominee = body.nominee === undefined ? {} : { nominee: body.nominee === null ? null : nomineeJson(body.nominee) };
      const updated = await repo.updatePolicy(trx, id, { ...terms, ...premium, ...nominee, updated_at: now });
      await appendAuditEvent(trx, ctx, { action: 'policy.updated', entityType: 'policy', entityId: id, changes: diff(policy, updated) }, now);
      return toPolicyDetail(updated, await repo.listStatusHistory(trx, id));
    });
  }

  /**
   * Moves a policy along the state machine. The row lock makes concurrent
   * moves queue: the second sees the status the first left, so of two racing
   * moves from the same status only one can succeed.
   */
  async transition(principal: Principal, id: string, body: TransitionBody, ifMatch: string | undefined, ctx: AuditContext): Promise<PolicyDetail> {
    const actor = await this.actorOf(principal);
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const policy = await lockInScope(trx, actor, id);
      assertIfMatch(ifMatch, policy.version);
      const rule = findTransition(policy.status, body.to);
      if (!rule) throw invalidTransition(policy.status, body.to);
      assertMover(actor, policy, rule);
      const refusal = guardRefusal(rule.guard, policy, now);
      if (refusal) throw new AppError('INVALID_TRANSITION', 409, refusal, { errors: [{ path: '/to', message: refusal }] });
      const effect = await this.applyEffect(trx, policy, rule.effect, now);
      const updated = await repo.updatePolicy(trx, id, { ...effect.patch, status: body.to, status_changed_at: now, updated_at: now });
      await repo.insertStatusChange(trx, { id: newId(now.getTime()), policy_id: id, from_status: policy.status, to_status: body.to, reason: body.reason ?? null, actor_id: actor.userId, created_at: now });
      const changes = { status: [policy.status, body.to], reason: body.reason ?? null, ...effect.details };
      await appendAuditEvent(trx, ctx, { action: 'policy.status_changed', entityType: 'policy', entityId: id, changes }, now);
      return toPolicyDetail(updated, await repo.listStatusHistory(trx, id));
    });
  }

  /**
   * The renewal premium of `policyYear` was paid: earns that year's renewal
   * (and override) commissions. Safe to repeat; `created` is false when the
   * year was already recorded. For system callers (payments); people go through recordRenewalAs.
   */
  async recordRenewal(policyId: string, policyYear: number, ctx: AuditContext = SYSTEM_CONTEXT): Promise<{ created: boolean; result: RenewalResult }> {
    return this.db.transaction().execute(async (trx) => {
      const policy = await repo.lockPolicy(trx, policyId, null);
      if (!policy) throw notFound('Policy');
      return this.renew(trx, policy, policyYear, ctx);
    });
  }

  /** recordRenewal for a provider_admin (own provider) or super_admin. */
  async recordRenewalAs(principal: Principal, policyId: string, policyYear: number, ctx: AuditContext): Promise<{ created: boolean; result: RenewalResult }> {
    const actor = await this.actorOf(principal);
    return this.db.transaction().execute(async (trx) => {
      const policy = await lockInScope(trx, actor, policyId);
      if (actor.role !== 'provider_admin' && actor.role !== 'super_admin') throw forbidden('Only the provider\'s admins record renewals.');
      return this.renew(trx, policy, policyYear, ctx);
    });
  }

  private async actorOf(principal: Principal): Promise<Actor> {
    const actor = await this.callers.actor(principal);
    assertActiveAgent(actor);
    return actor;
  }

  private async insertDraft(trx: Transaction<DB>, actor: Actor, agentId: string, body: CreatePolicyBody, ctx: AuditContext): Promise<PolicyRow> {
    const now = this.clock.now();
    const today = kolkataDate(now);
    const product = await repo.findProductForSale(trx, body.product_id);
    if (!product) throw notFound('Product');
    const customer = await repo.findCustomerInScope(trx, actor, body.customer_id);
    if (!customer) throw notFound('Customer');
    const seller = await repo.findSeller(trx, agentId, product.provider_id);
    const selling = await sellerViolations(trx, seller, product.provider_code, today, '/product_id');
    const pricing = pricePolicy(product, customer.date_of_birth, body, today);
    assertNoViolations([...availabilityViolations(product), ...selling, ...pricing.violations]);
    const policy = await repo.insertPolicy(trx, {
      id: newId(now.getTime()), product_id: product.id, provider_id: product.provider_id, customer_id: customer.id, agent_id: agentId, created_by: actor.userId,
      status: 'draft', ...pickTerms(body), ...premiumColumns(pricing.breakdown!), nominee: body.nominee ? nomineeJson(body.nominee) : null,
      status_changed_at: now, created_at: now, updated_at: now,
    });
    await repo.insertStatusChange(trx, { id: newId(now.getTime()), policy_id: policy.id, from_status: null, to_status: 'draft', reason: null, actor_id: actor.userId, created_at: now });
    const changes = { status: [null, 'draft'], ...pickTerms(body), total_installment_paise: policy.total_installment_paise, customer_id: customer.id };
    await appendAuditEvent(trx, ctx, { action: 'policy.created', entityType: 'policy', entityId: policy.id, changes }, now);
    return policy;
  }

  private async priceExisting(trx: Transaction<DB>, policy: PolicyRow, terms: Terms, startDate: string) {
    const product = await repo.findProductForSale(trx, policy.product_id);
    if (!product) throw notFound('Product');
    const { date_of_birth } = await repo.findCustomerBirthDate(trx, policy.customer_id);
    const pricing = pricePolicy(product, date_of_birth, terms, startDate);
    assertNoViolations([...availabilityViolations(product), ...pricing.violations]);
    return premiumColumns(pricing.breakdown!);
  }

  private async applyEffect(trx: Transaction<DB>, policy: PolicyRow, effect: Effect | undefined, now: Date): Promise<EffectResult> {
    if (effect === 'issue') return this.issue(trx, policy, now);
    if (effect === 'revive') return { patch: nextDueDates(policy.start_date!, policy.premium_mode, kolkataDate(now)), details: {} };
    if (effect === 'claw_back') {
      const rows = await repo.clawBackCommissions(trx, policy.id, now);
      return { patch: {}, details: { clawed_back: rows.map((c) => ({ commission_id: c.id, agent_id: c.agent_id, kind: c.kind, amount_paise: c.amount_paise })) } };
    }
    return { patch: {}, details: {} };
  }

  /**
   * Issue: the cover starts today, so the premium is priced again at today's
   * age and tax; the seller must still be allowed to sell. Then the number,
   * the dates and the first-year commissions.
   */
  private async issue(trx: Transaction<DB>, policy: PolicyRow, now: Date): Promise<EffectResult> {
    const today = kolkataDate(now);
    const product = await repo.findProductForSale(trx, policy.product_id);
    if (!product) throw notFound('Product');
    const { date_of_birth } = await repo.findCustomerBirthDate(trx, policy.customer_id);
    const seller = await repo.findSeller(trx, policy.agent_id, policy.provider_id);
    const selling = await sellerViolations(trx, seller, product.provider_code, today, '/to');
    const pricing = pricePolicy(product, date_of_birth, policy, today);
    assertNoViolations([...selling, ...pricing.violations], 'BUSINESS_RULE_VIOLATED');
    const premium = premiumColumns(pricing.breakdown!);
    const policyNumber = formatPolicyNumber(product.provider_code, yearOf(today), await repo.nextPolicySequence(trx));
    const earned = await earnCommissions(trx, { ...policy, ...premium }, product.kind, 'first_year', 1, now);
    const dates = { start_date: today, maturity_date: addYears(today, policy.term_years), ...nextDueDates(today, policy.premium_mode, today) };
    return {
      patch: { ...premium, ...dates, policy_number: policyNumber, issued_at: now },
      details: { policy_number: policyNumber, total_installment_paise: premium.total_installment_paise, commissions: earned.map((c) => ({ agent_id: c.agent_id, kind: c.kind, amount_paise: c.amount_paise })) },
    };
  }

  private async renew(trx: Transaction<DB>, policy: PolicyRow, policyYear: number, ctx: AuditContext): Promise<{ created: boolean; result: RenewalResult }> {
    if (policy.status !== 'active') throw new AppError('CONFLICT', 409, `Renewals are recorded on active policies; this one is ${policy.status}.`);
    if (!Number.isInteger(policyYear) || policyYear < 2 || policyYear > policy.term_years) {
      throw new AppError('VALIDATION_FAILED', 422, `A renewal is for policy year 2..${policy.term_years}.`, { errors: [{ path: '/policy_year', message: `must be 2..${policy.term_years}` }] });
    }
    const now = this.clock.now();
    const product = await repo.findProductForSale(trx, policy.product_id);
    const earned = await earnCommissions(trx, policy, product!.kind, 'renewal', policyYear, now);
    if (earned.length > 0) {
      const changes = { policy_year: policyYear, commissions: earned.map((c) => ({ agent_id: c.agent_id, kind: c.kind, amount_paise: c.amount_paise })) };
      await appendAuditEvent(trx, ctx, { action: 'policy.renewal_recorded', entityType: 'policy', entityId: policy.id, changes }, now);
    }
    const rows = await repo.listCommissionsForYear(trx, policy.id, policyYear);
    return { created: earned.length > 0, result: { policy_id: policy.id, policy_year: policyYear, commissions: rows.map(toCommissionResponse) } };
  }
}

async function lockInScope(trx: Transaction<DB>, actor: Actor, id: string): Promise<PolicyRow> {
  const policy = await repo.lockPolicy(trx, id, actor);
  if (!policy) throw notFound('Policy');
  return policy;
}

function invalidTransition(from: PolicyStatus, to: PolicyStatus): AppError {
  const allowed = allowedTargets(from);
  const detail = `A ${from} policy cannot become ${to}; ${allowed.length ? `it can become ${allowed.join(' or ')}` : 'it is final'}.`;
  return new AppError('INVALID_TRANSITION', 409, detail, { errors: [{ path: '/to', message: detail }] });
}

function isMover(actor: Actor, policy: PolicyRow, mover: Mover): boolean {
  if (mover === 'super_admin') return actor.role === 'super_admin';
  if (mover === 'provider_admin') return actor.role === 'provider_admin' && actor.providerId === policy.provider_id;
  return actor.agentId !== null && actor.agentId === policy.agent_id;
}

function assertMover(actor: Actor, policy: PolicyRow, rule: TransitionRule): void {
  if (rule.movers.some((mover) => isMover(actor, policy, mover))) return;
  const who = rule.movers.map((m) => (m === 'selling_agent' ? 'its selling agent' : m === 'provider_admin' ? 'an admin of its provider' : 'a super_admin')).join(' or ');
  throw forbidden(`Only ${who} may make this change.`);
}

function readCursor(cursor: string | undefined): { createdAt: string; id: string } | null {
  const values = decodeCursor(cursor, ['timestamp', 'uuid']);
  return values ? { createdAt: String(values[0]), id: String(values[1]) } : null;
}

function pickDefined(body: UpdatePolicyBody): Partial<Terms> {
  const terms: Partial<Terms> = {};
  if (body.sum_assured_paise !== undefined) terms.sum_assured_paise = body.sum_assured_paise;
  if (body.term_years !== undefined) terms.term_years = body.term_years;
  if (body.premium_mode !== undefined) terms.premium_mode = body.premium_mode;
  return terms;
}

function nomineeJson(nominee: NonNullable<CreatePolicyBody['nominee']>): string {
  return JSON.stringify({ name: nominee.name, relationship: nominee.relationship, share_percent: nominee.share_percent ?? 100 });
}

const AUDITED_FIELDS = ['sum_assured_paise', 'term_years', 'premium_mode', 'installment_paise', 'total_installment_paise', 'nominee'] as const;

function diff(before: PolicyRow, after: PolicyRow): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const field of AUDITED_FIELDS) {
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) changes[field] = [before[field], after[field]];
  }
  return changes;
}
