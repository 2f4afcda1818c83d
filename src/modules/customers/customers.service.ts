import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import type { Clock } from '../../shared/clock.js';
import { forbidden, notFound, validationFailed, type FieldError } from '../../shared/errors.js';
import { runIdempotent, type StoredResponse } from '../../shared/idempotency.js';
import { newId } from '../../shared/ids.js';
import { decodeSortedCursor, parseSort, sortName, toPage } from '../../shared/pagination.js';
import { normalizePhone } from '../../shared/phone.js';
import { isValidPan } from '../../shared/validators.js';
import { appendAuditEvent, type AuditContext } from '../audit/audit.repository.js';
import { kolkataDate } from '../../shared/clock.js';
import { hasPermission } from '../rbac/rbac.permissions.js';
import { agentScope, assertActiveAgent, shortAgentList, type Actor } from '../rbac/rbac.scope.js';
import type { Callers } from '../rbac/rbac.callers.js';
import { assertIfMatch } from '../../shared/etag.js';
import * as repo from './customers.repository.js';
import { CUSTOMER_SORTS, toCustomerResponse, type CreateCustomerBody, type Customer, type CustomerListQuery, type CustomerRow, type UpdateCustomerBody } from './customers.schemas.js';

const MAX_AGE_YEARS = 120;
const PHONE_LIKE = /^[0-9+()\-. ]+$/;

/** Normalised, validated values of the fields a create or update carries. */
interface CheckedFields {
  phone?: string;
  pan?: string | null;
}

/**
 * Customers belong to the agent that created them; managers (its team) and
 * scoped admins see them. Only an active agent touches them at all: a pending
 * or suspended one gets 403 on every customer endpoint.
 */
export class CustomersService {
  constructor(private readonly deps: { db: Kysely<DB>; clock: Clock; callers: Callers }) {}

  /** A policyholder who has just proved its phone becomes the login of every customer record with that phone. */
  async linkVerifiedPolicyholder(trx: Transaction<DB>, user: { id: string; role: string; phone_number: string }): Promise<void> {
    if (user.role === 'policyholder') await repo.linkCustomersToUser(trx, user.id, user.phone_number);
  }

  private async sellerActor(principal: Principal): Promise<Actor> {
    const actor = await this.deps.callers.actor(principal);
    assertActiveAgent(actor);
    return actor;
  }

  async create(principal: Principal, body: CreateCustomerBody, ctx: AuditContext, idempotency: { key: string | undefined; path: string }): Promise<StoredResponse<Customer>> {
    const actor = await this.sellerActor(principal);
    if (!actor.agentId) throw forbidden('Only agents create customers; a customer belongs to the agent that brings it in.');
    const scope = { userId: actor.userId, key: idempotency.key, method: 'POST', path: idempotency.path, body };
    return runIdempotent(this.deps.db, scope, async (trx) => ({ status: 201, body: toCustomerResponse(await this.insert(trx, actor.agentId!, body, ctx)) }));
  }

  /** Creates inside the caller's transaction (the idempotency record's) for the given agent. */
  async insert(trx: Transaction<DB>, agentId: string, body: CreateCustomerBody, ctx: AuditContext): Promise<CustomerRow> {
    const checked = this.check(body);
    const now = this.deps.clock.now();
    const row = await repo.insertCustomer(trx, {
      id: newId(now.getTime()), agent_id: agentId, full_name: body.full_name.trim(), date_of_birth: body.date_of_birth, gender: body.gender,
      phone_number: checked.phone!, email: body.email?.trim().toLowerCase() ?? null, pan: checked.pan ?? null,
      address: body.address ? JSON.stringify(body.address) : null, created_at: now, updated_at: now,
    });
    await appendAuditEvent(trx, ctx, { action: 'customer.created', entityType: 'customer', entityId: row.id, changes: { agent_id: agentId } }, now);
    return (await this.linkPolicyholder(trx, row)) ?? row;
  }

  /** A policyholder login with the customer's phone owns the record too. */
  private async linkPolicyholder(trx: Transaction<DB>, row: CustomerRow): Promise<CustomerRow | undefined> {
    const holder = await repo.findPolicyholderIdByPhone(trx, row.phone_number);
    if (!holder) return undefined;
    await repo.linkCustomersToUser(trx, holder.id, row.phone_number);
    return repo.findCustomerInScope(trx, row.id, sql<boolean>`true`);
  }

  private check(body: Partial<Pick<CreateCustomerBody, 'phone_number' | 'date_of_birth'>> & { pan?: string | null }): CheckedFields {
    const errors: FieldError[] = [];
    const checked: CheckedFields = {};
    if (body.phone_number !== undefined) {
      const phone = normalizePhone(body.phone_number);
      if (phone) checked.phone = phone;
      else errors.push({ path: '/phone_number', message: 'is not a valid phone number' });
    }
    if (body.date_of_birth !== undefined) errors.push(...this.birthDateErrors(body.date_of_birth));
    if (body.pan !== undefined && body.pan !== null) {
      checked.pan = body.pan.toUpperCase();
      if (!isValidPan(checked.pan)) errors.push({ path: '/pan', message: 'is not a valid PAN' });
    } else if (body.pan === null) checked.pan = null;
    if (errors.length) throw validationFailed(errors);
    return checked;
  }

  private birthDateErrors(dateOfBirth: string): FieldError[] {
    const today = kolkataDate(this.deps.clock.now());
    const oldest = `${String(Number(today.slice(0, 4)) - MAX_AGE_YEARS).padStart(4, '0')}${today.slice(4)}`;
    if (dateOfBirth >= today) return [{ path: '/date_of_birth', message: 'must be in the past' }];
    if (dateOfBirth < oldest) return [{ path: '/date_of_birth', message: `gives an age over ${MAX_AGE_YEARS}` }];
    return [];
  }

  async list(principal: Principal, query: CustomerListQuery) {
    const actor = await this.sellerActor(principal);
    const sort = parseSort(query.sort, CUSTOMER_SORTS, 'created_at', 'desc');
    const limit = query.limit ?? 20;
    const q = query.q?.trim();
    const phone = q && PHONE_LIKE.test(q) ? normalizePhone(q) : null;
    const filters = { ...(phone ? { phone } : q ? { name: q } : {}), agentId: query.agent_id };
    const scope = agentScope(actor, sql.ref('customers.agent_id'));
    const cursor = decodeSortedCursor(query.cursor, sort);
    const rows = await repo.listCustomers(this.deps.db, scope, await shortAgentList(this.deps.db, actor), { filters, sort, cursor, limit });
    const page = toPage(rows, limit, (row) => [sortName(sort), sort.field === 'created_at' ? row.cursor_at : row.full_name, row.id]);
    return { items: page.items.map(toCustomerResponse), next_cursor: page.next_cursor };
  }

  async get(principal: Principal, customerId: string): Promise<CustomerRow> {
    const actor = await this.sellerActor(principal);
    const row = await repo.findCustomerInScope(this.deps.db, customerId, agentScope(actor, sql.ref('customers.agent_id')));
    if (!row) throw notFound('Customer');
    return row;
  }

  async update(principal: Principal, customerId: string, body: UpdateCustomerBody, ifMatch: string | undefined, ctx: AuditContext): Promise<CustomerRow> {
    const actor = await this.sellerActor(principal);
    return this.deps.db.transaction().execute(async (trx) => {
      const before = await repo.findCustomerInScope(trx, customerId, agentScope(actor, sql.ref('customers.agent_id')), true);
      if (!before) throw notFound('Customer');
      if (!hasPermission(actor.role, 'customer.update')) throw forbidden('This needs the customer.update permission.');
      assertIfMatch(ifMatch, before.version);
      const checked = this.check(body);
      const now = this.deps.clock.now();
      const patch = {
        ...(body.full_name !== undefined ? { full_name: body.full_name.trim() } : {}),
        ...(body.date_of_birth !== undefined ? { date_of_birth: body.date_of_birth } : {}),
        ...(body.gender !== undefined ? { gender: body.gender } : {}),
        ...(checked.phone !== undefined && checked.phone !== before.phone_number ? { phone_number: checked.phone, user_id: null } : {}),
        ...(body.email !== undefined ? { email: body.email?.trim().toLowerCase() ?? null } : {}),
        ...(checked.pan !== undefined ? { pan: checked.pan } : {}),
        ...(body.address !== undefined ? { address: body.address ? JSON.stringify(body.address) : null } : {}),
      };
      const row = await repo.updateCustomer(trx, customerId, { ...patch, updated_at: now }, before.version);
      await appendAuditEvent(trx, ctx, { action: 'customer.updated', entityType: 'customer', entityId: customerId, changes: { fields: Object.keys(patch).sort() } }, now);
      return 'phone_number' in patch ? ((await this.linkPolicyholder(trx, row)) ?? row) : row;
    });
  }
}
