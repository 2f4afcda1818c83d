import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config/config.js';
import type { Database } from './db/database.js';
import { AgentDocumentsService } from './modules/agents/agents.documents.service.js';
import { AgentsService } from './modules/agents/agents.service.js';
import { AuditService } from './modules/audit/audit.service.js';
import { type SigningKeys } from './modules/auth/auth.keys.js';
import { OtpService } from './modules/auth/auth.otp.js';
import { OtpSendLimits } from './modules/auth/auth.send-limits.js';
import { PasswordHasher } from './modules/auth/auth.passwords.js';
import { RevocationStore } from './modules/auth/auth.revocation.js';
import { productsForSaleCache } from './modules/policies/policies.products.js';
import { Callers } from './modules/rbac/rbac.callers.js';
import { Broadcast } from './shared/broadcast.js';
import { AuthService } from './modules/auth/auth.service.js';
import { CustomersService } from './modules/customers/customers.service.js';
import { FeatureFlagsService } from './modules/feature-flags/feature-flags.service.js';
import { PoliciesService, type PolicyPages } from './modules/policies/policies.service.js';
import { ProductsService } from './modules/providers/products.service.js';
import { ProvidersService } from './modules/providers/providers.service.js';
import { RegionsService } from './modules/regions/regions.service.js';
import { createLogAlertSink, createWebhookAlertSink, type AlertSink } from './modules/security/security.alerts.js';
import { SecurityService } from './modules/security/security.service.js';
import { UsersService } from './modules/users/users.service.js';
import type { Clock } from './shared/clock.js';
import { createLocalDocumentStore, MemoryDocumentStore, type DocumentStore } from './shared/document-store.js';
import type { KeyValueStore } from './shared/kv-store.js';
import { Generation, PageCache, type PageCacheOutcome } from './shared/page-cache.js';
import type { SmsSender } from './shared/sms.js';

/** What the outside world hands the app: built by server.ts, or by tests with fakes for SMS and the clock. */
export interface Infrastructure {
  database: Database;
  kv: KeyValueStore;
  sms: SmsSender;
  clock: Clock;
  keys: SigningKeys;
  log: FastifyBaseLogger;
  /** Where agents' documents are kept; default DATA_DIR/documents (in memory for tests). */
  documents?: DocumentStore;
  /** Where security alerts go; default from ALERT_WEBHOOK_URL, else the log. */
  alerts?: AlertSink;
}

export interface Services {
  auth: AuthService;
  users: UsersService;
  regions: RegionsService;
  audit: AuditService;
  featureFlags: FeatureFlagsService;
  policies: PoliciesService;
  providers: ProvidersService;
  products: ProductsService;
  agents: AgentsService;
  agentDocuments: AgentDocumentsService;
  customers: CustomersService;
  hasher: PasswordHasher;
  broadcast: Broadcast;
  revocations: RevocationStore;
  callers: Callers;
  otp: OtpService;
  security: SecurityService;
}

export type AuthEventHook = (event: string, method: string, outcome: string) => void;

/** Where services report what metrics count. */
export interface Observers {
  authEvent?: AuthEventHook;
  pageCache?: (cache: string, outcome: PageCacheOutcome) => void;
}

/** Wires the services once per app; modules get what they need from here, never from globals. */
export function buildServices(config: Config, infra: Infrastructure, observers: Observers = {}): Services {
  const { database, kv, sms, clock, keys } = infra;
  const db = database.db;
  const hasher = new PasswordHasher(config.HASH_CONCURRENCY, config.HASH_QUEUE_MAX);
  const broadcast = new Broadcast(kv);
  const revocations = new RevocationStore(kv, broadcast, config.ACCESS_TOKEN_TTL_S);
  const callers = new Callers(db, broadcast, config.CALLER_CACHE_TTL_S * 1000);
  // Quotes read a product and its provider on every request; products change rarely (policies.products.ts).
  const productsForSale = productsForSaleCache(db, broadcast, config.PRODUCT_CACHE_TTL_S * 1000);
  const alerts = infra.alerts ?? (config.ALERT_WEBHOOK_URL && config.ALERT_WEBHOOK_SECRET
    ? createWebhookAlertSink({ url: config.ALERT_WEBHOOK_URL, secret: config.ALERT_WEBHOOK_SECRET, log: infra.log })
    : createLogAlertSink(infra.log));
  const security = new SecurityService(db, kv, clock, alerts);
  const otp = new OtpService(db, kv, sms, clock, config, resolveOtpSecret(config),
    (phone) => security.record('otp_brute_force', 'high', { ip: null, userId: null, details: { phone_last4: phone.slice(-4) } }),
    new OtpSendLimits({ perPhoneHour: config.OTP_SENDS_PER_PHONE_HOUR, perPhoneDay: config.OTP_SENDS_PER_PHONE_DAY, perIpHour: config.OTP_SENDS_PER_IP_HOUR,
      smsBudgetHour: config.SMS_BUDGET_PER_HOUR }, kv.redis, kv.prefix));
  // One counter, named for the first view it served, covers every policy view (migrations 0009 and 0010);
  // the two caches share its one query per event-loop turn.
  const policyViews = new Generation(db, 'policy_list');
  const policyPages: PolicyPages = {
    list: new PageCache({ generation: policyViews, maxSize: config.POLICY_LIST_CACHE_MB * 1_000_000, textOf: (page) => page,
      observe: (outcome) => observers.pageCache?.('policy_list', outcome) }),
    detail: new PageCache({ generation: policyViews, maxSize: config.POLICY_DETAIL_CACHE_MB * 1_000_000, textOf: (policy) => policy.body,
      observe: (outcome) => observers.pageCache?.('policy_detail', outcome) }),
  };
  const customers = new CustomersService({ db, clock, callers });
  const auth = new AuthService({ db, clock, config, hasher, keys, otp, revocations, callers, onAuthEvent: observers.authEvent, security,
    onPhoneVerified: (trx, user) => customers.linkVerifiedPolicyholder(trx, user) });
  const users = new UsersService({ db, clock, hasher, auth, callers });
  const providers = new ProvidersService({ db, clock, callers, productsForSale });
  const agents = new AgentsService({ db, clock, auth, otp, providers, callers });
  const agentDocuments = new AgentDocumentsService({ db, clock, agents, store: infra.documents ?? defaultDocumentStore(config), callers });
  const directory = { providers, products: new ProductsService({ db, clock, callers, productsForSale }), agents, agentDocuments, customers };
  return { ...directory, auth, users, regions: new RegionsService(db, clock), audit: new AuditService(db, users), featureFlags: new FeatureFlagsService(db, clock), policies: new PoliciesService(db, clock, callers, productsForSale, policyPages), hasher, broadcast, revocations, callers, otp, security };
}

/** Production sets OTP_SECRET; development keeps a generated one beside its keys; tests get a random one. */
function resolveOtpSecret(config: Config): string {
  if (config.OTP_SECRET) return config.OTP_SECRET;
  if (config.NODE_ENV === 'test' || config.DATABASE_URL === 'pglite://memory') return randomBytes(32).toString('hex');
  const file = join(config.DATA_DIR, 'otp-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** Documents live outside any served directory; throwaway instances keep them in memory. */
function defaultDocumentStore(config: Config): DocumentStore {
  if (config.NODE_ENV === 'test' || config.DATABASE_URL === 'pglite://memory') return new MemoryDocumentStore();
  return createLocalDocumentStore(join(config.DATA_DIR, 'documents'));
}
