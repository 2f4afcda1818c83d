import { sql, type Kysely, type Transaction } from 'kysely';
import { POLICY_STATUSES, type AgentStatus, type DB } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import type { Clock } from '../../shared/clock.js';
import { AppError, forbidden, notFound, validationFailed, type FieldError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { decodeCursor, toPage } from '../../shared/pagination.js';
import { isIndividualPan, isValidLicenceNumber, isValidPan } from '../../shared/validators.js';
import { appendAuditEvent, type AuditContext } from '../audit/audit.repository.js';
import type { OtpService } from '../auth/auth.otp.js';
import type { AuthService } from '../auth/auth.service.js';
import { kolkataDate } from '../../shared/clock.js';
import { countsByStatus, type ProvidersService } from '../providers/providers.service.js';
import { hasPermission } from '../rbac/rbac.permissions.js';
import { agentScope, teamOf, type Actor } from '../rbac/rbac.scope.js';
import type { Callers } from '../rbac/rbac.callers.js';
import { assertIfMatch } from '../../shared/etag.js';
import { verifiedDocumentTypes } from './agents.documents.repository.js';
import * as repo from './agents.repository.js';
import { toAgentResponse, type Agent, type AgentDetailRow, type AgentListQuery, type AgentMetrics, type RegisterAgentBody, type UpdateAgentBody } from './agents.schemas.js';

export interface AgentsServiceDeps {
  db: Kysely<DB>;
  clock: Clock;
  auth: AuthService;
  otp: OtpService;
  providers: ProvidersService;
  callers: Callers;
}

export type LifecycleAction = 'approve' | 'reject' | 'suspend' | 'reinstate' | 'deactivate';

/** DOMAIN.md's agent lifecycle; any other move is INVALID_TRANSITION. */
const LIFECYCLE: Record<LifecycleAction, { from: AgentStatus; to: AgentStatus; audit: string }> = {
  approve: { from: 'pending_approval', to: 'active', audit: 'agent.approved' },
  reject: { from: 'pending_approval', to: 'rejected', audit: 'agent.rejected' },
  suspend: { from: 'active', to: 'suspended', audit: 'agent.suspended' },
  reinstate: { from: 'suspended', to: 'active', audit: 'agent.reinstated' },
  deactivate: { from: 'active', to: 'inactive', audit: 'agent.deactivated' },
};

/** Approval needs these documents verified. */
const REQUIRED_DOCUMENTS = ['license', 'pan'] as const;

/** Only letters and digits of a region code reach an agent code, so it always fits the agent_code sign-in pattern. */
export function formatAgentCode(regionCode: string | null, sequence: number): string {
  const region = (regionCode ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '') || 'IN';
  return `AG-${region}-${String(sequence).padStart(6, '0')}`;
}

/** Agents: self-registration, profile, hierarchy, lifecycle and their numbers. Documents live in AgentDocumentsService. */
export class AgentsService {
  constructor(private readonly deps: AgentsServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  actor(principal: Principal): Promise<Actor> {
    return this.deps.callers.actor(principal);
  }

  private today(): string {
    return kolkataDate(this.deps.clock.now());
  }

  /**
   * One transaction creates the user (junior_agent, pending_verification),
   * the agent (pending_approval) and its provider links; the OTP that verifies
   * the phone goes out only after the commit, as for any registration.
   */
  async register(body: RegisterAgentBody, ctx: AuditContext) {
    const { pan, licence } = this.checkRegistration(body);
    const account = await this.deps.auth.prepareNewAccount(body);
    const created = await this.db.transaction().execute(async (trx) => {
      const providers = await this.deps.providers.resolveForLinking(trx, body.provider_ids);
      if (body.region_id && !(await repo.findRegionRef(trx, body.region_id))) throw validationFailed([{ path: '/region_id', message: 'is not a known region' }]);
      const user = await this.deps.auth.insertPendingUser(trx, account, 'junior_agent', ctx);
      const now = this.deps.clock.now();
      const agent = await repo.insertAgent(trx, {
        id: newId(now.getTime()), user_id: user.id, status: 'pending_approval', license_number: licence, license_expiry: body.license_expiry, pan,
        region_id: body.region_id ?? null, created_at: now, updated_at: now,
      });
      await this.deps.providers.insertLinks(trx, agent.id, providers, now);
      await appendAuditEvent(trx, { ...ctx, actorId: user.id }, { action: 'agent.registered', entityType: 'agent', entityId: agent.id,
        changes: { user_id: user.id, provider_ids: body.provider_ids, region_id: body.region_id ?? null } }, now);
      return { agent_id: agent.id, user_id: user.id };
    });
    const otp = await this.deps.otp.issue(account.phone, 'register', true, ctx.ip);
    return { ...created, status: 'pending_approval' as const, otp };
  }

  private checkRegistration(body: RegisterAgentBody): { pan: string; licence: string } {
    const pan = body.pan.toUpperCase();
    const licence = body.license_number.trim();
    const errors: FieldError[] = [...this.licenceErrors(licence, body.license_expiry)];
    if (!isValidPan(pan)) errors.push({ path: '/pan', message: 'is not a valid PAN' });
    else if (!isIndividualPan(pan)) errors.push({ path: '/pan', message: 'must be an individual\'s PAN (4th letter P)' });
    if (errors.length) throw validationFailed(errors);
    return { pan, licence };
  }

  private licenceErrors(licence: string | undefined, expiry: string | undefined): FieldError[] {
    const errors: FieldError[] = [];
    if (licence !== undefined && !isValidLicenceNumber(licence)) errors.push({ path: '/license_number', message: 'must be 5 to 30 letters, digits, / or -' });
    if (expiry !== undefined && expiry <= this.today()) errors.push({ path: '/license_expiry', message: 'must be in the future' });
    return errors;
  }

  /** The agent if the actor's scope covers it (agents always see themselves); otherwise 404. */
  async findVisible(db: Kysely<DB> | Transaction<DB>, actor: Actor, agentId: string, lock = false): Promise<AgentDetailRow> {
    const row = await repo.findAgentInScope(db, agentId, agentScope(actor, sql.ref('agents.id')), lock);
    if (!row) throw notFound('Agent');
    return row;
  }

  async get(principal: Principal, agentId: string): Promise<{ agent: Agent; version: number }> {
    const row = await this.findVisible(this.db, await this.actor(principal), agentId);
    return { agent: await this.withProviders(row), version: row.version };
  }

  private async withProviders(row: AgentDetailRow): Promise<Agent> {
    const links = await repo.providersOfAgents(this.db, [row.id]);
    return toAgentResponse(row, links.map(({ provider_id, code, name, type }) => ({ provider_id, code, name, type })));
  }

  async list(principal: Principal, query: AgentListQuery) {
    const actor = await this.actor(principal);
    const limit = query.limit ?? 20;
    const { q, status, region_id, provider_id } = query;
    const rows = await repo.listAgents(this.db, agentScope(actor, sql.ref('agents.id')), { q, status, region_id, provider_id }, decodeCursor(query.cursor, ['timestamp', 'uuid']), limit);
    return toPage(rows, limit, (row) => [row.cursor_at, row.id]);
  }

  async team(principal: Principal, agentId: string) {
    const actor = await this.actor(principal);
    await this.findVisible(this.db, actor, agentId);
    return repo.listTeam(this.db, agentId, agentScope(actor, sql.ref('agents.id')));
  }

  async update(principal: Principal, agentId: string, body: UpdateAgentBody, ifMatch: string | undefined, ctx: AuditContext) {
    const actor = await this.actor(principal);
    const isAdmin = hasPermission(actor.role, 'agent.update');
    await this.db.transaction().execute(async (trx) => {
      const before = await this.findVisible(trx, actor, agentId, true);
      if (actor.agentId !== agentId && !isAdmin) throw forbidden('Only the agent itself or an administrator may change this profile.');
      if (!isAdmin && (body.manager_agent_id !== undefined || body.region_id !== undefined)) throw forbidden('Only administrators set manager_agent_id and region_id.');
      assertIfMatch(ifMatch, before.version);
      const errors = [...this.licenceErrors(body.license_number?.trim(), body.license_expiry), ...(await this.hierarchyErrors(trx, actor, agentId, body))];
      if (errors.length) throw validationFailed(errors);
      const patch = {
        ...(body.license_number !== undefined ? { license_number: body.license_number.trim() } : {}),
        ...(body.license_expiry !== undefined ? { license_expiry: body.license_expiry } : {}),
        ...(body.manager_agent_id !== undefined ? { manager_agent_id: body.manager_agent_id } : {}),
        ...(body.region_id !== undefined ? { region_id: body.region_id } : {}),
      };
      const now = this.deps.clock.now();
      await repo.updateAgent(trx, agentId, { ...patch, updated_at: now }, before.version);
      const changes = Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, [before[k as keyof typeof patch], v]]));
      await appendAuditEvent(trx, ctx, { action: 'agent.updated', entityType: 'agent', entityId: agentId, changes }, now);
    });
    // A new manager or region changes teams and scopes beyond this agent's own.
    await this.deps.callers.changedAll();
    return this.get(principal, agentId);
  }

  /** A manager is an active senior agent of a common provider, visible to the actor, and not the agent or anyone below it. */
  private async hierarchyErrors(trx: Transaction<DB>, actor: Actor, agentId: string, body: UpdateAgentBody): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    const managerId = body.manager_agent_id;
    if (managerId) {
      const candidate = await repo.findManagerCandidate(trx, managerId, agentId, agentScope(actor, sql.ref('agents.id')));
      const below = (await teamOf(trx, agentId)).rows.some((r) => r.id === managerId);
      if (managerId === agentId) errors.push({ path: '/manager_agent_id', message: 'cannot be the agent itself' });
      else if (!candidate) errors.push({ path: '/manager_agent_id', message: 'is not a known agent' });
      else if (candidate.status !== 'active' || candidate.role !== 'senior_agent') errors.push({ path: '/manager_agent_id', message: 'must be an active senior agent' });
      else if (!candidate.shares_provider) errors.push({ path: '/manager_agent_id', message: 'must represent at least one of the agent\'s providers' });
      else if (below) errors.push({ path: '/manager_agent_id', message: 'reports (directly or not) to this agent: that would make a cycle' });
    }
    if (body.region_id === null && actor.role === 'regional_manager') errors.push({ path: '/region_id', message: 'cannot be cleared by a regional manager' });
    if (body.region_id) {
      const region = await repo.findRegionRef(trx, body.region_id);
      if (!region) errors.push({ path: '/region_id', message: 'is not a known region' });
      else if (actor.role === 'regional_manager' && !region.path.startsWith(actor.regionPath ?? '\u0000')) errors.push({ path: '/region_id', message: 'is outside your region' });
    }
    return errors;
  }

  async transition(principal: Principal, agentId: string, action: LifecycleAction, reason: string | undefined, ctx: AuditContext) {
    const actor = await this.actor(principal);
    const step = LIFECYCLE[action];
    await this.db.transaction().execute(async (trx) => {
      const agent = await this.findVisible(trx, actor, agentId, true);
      if (agent.status !== step.from) {
        throw new AppError('INVALID_TRANSITION', 409, `An agent that is ${agent.status} cannot be ${step.audit.replace('agent.', '')}; this needs ${step.from}.`);
      }
      const now = this.deps.clock.now();
      const approval = action === 'approve' ? await this.approval(trx, agent, actor, now) : {};
      await repo.updateAgent(trx, agentId, { status: step.to, status_reason: reason ?? null, updated_at: now, ...approval }, agent.version);
      await appendAuditEvent(trx, ctx, { action: step.audit, entityType: 'agent', entityId: agentId,
        changes: { status: [agent.status, step.to], ...(reason ? { reason } : {}), ...('agent_code' in approval ? { agent_code: approval.agent_code } : {}) } }, now);
      // The agent's next sign-in sees its new standing; a suspended one is out at once.
      if (action !== 'reinstate') await this.deps.auth.endSessions(agent.user_id, step.audit, ctx, {}, 'auth.session_ended', trx);
    });
    await this.deps.callers.changedAll();
    return this.get(principal, agentId);
  }

  /** Checks the documents and the licence, then draws the agent's code from its sequence. */
  private async approval(trx: Transaction<DB>, agent: AgentDetailRow, actor: Actor, now: Date) {
    const verified = await verifiedDocumentTypes(trx, agent.id);
    const errors: FieldError[] = REQUIRED_DOCUMENTS.filter((type) => !verified.has(type)).map((type) => ({ path: `/documents/${type}`, message: `needs a verified ${type} document` }));
    if (agent.license_expiry < this.today()) errors.push({ path: '/license_expiry', message: 'has passed: the licence must be renewed first' });
    if (errors.length) {
      throw new AppError('BUSINESS_RULE_VIOLATED', 422, `The agent cannot be approved yet: ${errors.map((e) => e.message).join('; ')}.`, { errors });
    }
    const region = agent.region_id ? await repo.findRegionRef(trx, agent.region_id) : undefined;
    const agentCode = formatAgentCode(region?.code ?? null, await repo.nextAgentCodeNumber(trx));
    return { agent_code: agentCode, approved_at: now, approved_by: actor.userId };
  }

  /** Provider admins see only their own provider's business in an agent's numbers. */
  private providerFilter(actor: Actor): string | null {
    return actor.role === 'provider_admin' ? actor.providerId : null;
  }

  async metrics(principal: Principal, agentId: string): Promise<AgentMetrics> {
    const actor = await this.actor(principal);
    await this.findVisible(this.db, actor, agentId);
    const providerId = this.providerFilter(actor);
    const byStatus = await repo.agentPoliciesByStatus(this.db, agentId, providerId);
    const totals = await repo.agentPolicyTotals(this.db, agentId, providerId);
    return {
      agent_id: agentId,
      customers: await repo.countCustomers(this.db, agentId),
      policies_by_status: countsByStatus(POLICY_STATUSES, byStatus),
      premium_paise: totals.premium_paise,
      commissions_earned_paise: await repo.sumCommissionsEarned(this.db, agentId, providerId),
      conversion: totals.conversion,
    };
  }

  async commissions(principal: Principal, agentId: string, query: { limit?: number; cursor?: string }) {
    const actor = await this.actor(principal);
    await this.findVisible(this.db, actor, agentId);
    const limit = query.limit ?? 20;
    const rows = await repo.listCommissions(this.db, agentId, this.providerFilter(actor), decodeCursor(query.cursor, ['timestamp', 'uuid']), limit);
    return toPage(rows, limit, (row) => [row.cursor_at, row.id]);
  }
}
