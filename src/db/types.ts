import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Table types: the columns as the database holds them (snake_case, like the wire). */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export const ROLES = ['super_admin', 'provider_admin', 'regional_manager', 'senior_agent', 'junior_agent', 'policyholder'] as const;
export type Role = (typeof ROLES)[number];
export const USER_STATUSES = ['pending_verification', 'active', 'inactive', 'suspended', 'deleted'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
export const OTP_PURPOSES = ['register', 'login', 'reset_password'] as const;
export type OtpPurpose = (typeof OTP_PURPOSES)[number];

export interface UsersTable {
  id: string;
  phone_number: string;
  email: string | null;
  full_name: string;
  password_hash: string | null;
  role: Role;
  status: UserStatus;
  status_reason: string | null;
  provider_id: string | null;
  region_id: string | null;
  phone_verified_at: Timestamp | null;
  last_login_at: Timestamp | null;
  failed_login_attempts: Generated<number>;
  account_locked_until: Timestamp | null;
  password_changed_at: Timestamp | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  version: Generated<number>;
}

export interface UserSessionsTable {
  id: string;
  user_id: string;
  created_at: DefaultTimestamp;
  last_used_at: DefaultTimestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
  ip_address: string | null;
  user_agent: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface OtpCodesTable {
  id: string;
  phone_number: string;
  purpose: OtpPurpose;
  code_hmac: string;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
  attempts: Generated<number>;
  consumed_at: Timestamp | null;
}

export interface PasswordResetTokensTable {
  token_hash: string;
  user_id: string;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface LoginThrottlesTable {
  identifier: string;
  failures: Generated<number>;
  locked_until: Timestamp | null;
  updated_at: DefaultTimestamp;
}

export interface FeatureFlagsTable {
  key: string;
  enabled: Generated<boolean>;
  roles: string[] | null;
  percentage: number | null;
  description: string | null;
  updated_at: DefaultTimestamp;
  updated_by: string | null;
}

export interface AuditEventsTable {
  seq: number;
  id: string;
  occurred_at: Timestamp;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  changes: unknown;
  request_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditChainHeadTable {
  id: Generated<boolean>;
  seq: number;
  hash: string;
}

/** One of a view's counter rows (migration 0009); bigints read as text. */
export interface CacheGenerationsTable {
  name: string;
  slot: number;
  generation: Generated<string>;
  token: Generated<string>;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  method: string;
  path: string;
  request_hash: string;
  status_code: number | null;
  response_body: unknown;
  created_at: DefaultTimestamp;
}

export const PROVIDER_TYPES = ['life', 'health', 'general'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];
export const AGENT_STATUSES = ['pending_approval', 'active', 'rejected', 'suspended', 'inactive'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export interface RegionsTable {
  id: string;
  code: string;
  name: string;
  parent_id: string | null;
  path: string;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  version: Generated<number>;
}

export interface ProvidersTable {
  id: string;
  code: string;
  name: string;
  type: ProviderType;
  status: Generated<'active' | 'inactive' | 'suspended'>;
  status_reason: string | null;
  irdai_registration_number: string | null;
  contact_email: string | null;
  contact_phone: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  version: Generated<number>;
}

export interface AgentsTable {
  id: string;
  user_id: string;
  agent_code: string | null;
  status: AgentStatus;
  status_reason: string | null;
  license_number: string;
  license_expiry: string;
  pan: string;
  region_id: string | null;
  manager_agent_id: string | null;
  approved_at: Timestamp | null;
  approved_by: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  version: Generated<number>;
}

export interface AgentProvidersTable {
  agent_id: string;
  provider_id: string;
  provider_type: ProviderType;
  created_at: DefaultTimestamp;
}

export interface UserPreferencesTable {
  user_id: string;
  language: Generated<string>;
  timezone: Generated<string>;
  notifications: ColumnType<{ sms: boolean; email: boolean; push: boolean; whatsapp: boolean }, string | undefined, string>;
  quiet_hours: ColumnType<{ start: string; end: string } | null, string | null | undefined, string | null>;
  updated_at: DefaultTimestamp;
  version: Generated<number>;
}

// The premium engine owns what a product kind, a premium mode and a rate band are; the tables store them.
export { PREMIUM_MODES, PRODUCT_KINDS, type PremiumMode, type ProductKind, type RateBand as RateBandJson } from '../modules/policies/premium.js';
import type { PremiumMode, ProductKind, RateBand as RateBandJson } from '../modules/policies/premium.js';

export interface ProductsTable {
  id: string;
  provider_id: string;
  code: string;
  name: string;
  kind: ProductKind;
  status: Generated<'active' | 'inactive'>;
  min_entry_age: number;
  max_entry_age: number;
  max_maturity_age: number;
  min_sum_assured_paise: number;
  max_sum_assured_paise: number;
  min_term_years: number;
  max_term_years: number;
  premium_modes: PremiumMode[];
  modal_factors: ColumnType<Partial<Record<PremiumMode, string>> | null, string | null, string | null>;
  rate_table: ColumnType<RateBandJson[], string, string>;
  tax_rate_bp: number | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  version: Generated<number>;
}

export interface CommissionRulesTable {
  id: string;
  provider_id: string;
  product_kind: ProductKind | null;
  first_year_bp: number;
  renewal_bp: number;
  override_bp: number | null;
  updated_at: DefaultTimestamp;
  updated_by: string | null;
  version: Generated<number>;
}

export const DOCUMENT_TYPES = ['license', 'pan', 'aadhaar', 'photo', 'education', 'bank_proof'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export interface AgentDocumentsTable {
  id: string;
  agent_id: string;
  type: DocumentType;
  content_type: 'application/pdf' | 'image/jpeg' | 'image/png';
  size_bytes: number;
  sha256: string;
  original_name: string | null;
  aadhaar_masked: string | null;
  status: Generated<'pending' | 'verified' | 'rejected'>;
  review_notes: string | null;
  reviewed_by: string | null;
  reviewed_at: Timestamp | null;
  uploaded_by: string;
  created_at: DefaultTimestamp;
}

export interface CustomersTable {
  id: string;
  agent_id: string;
  user_id: string | null;
  full_name: string;
  date_of_birth: string;
  gender: 'female' | 'male' | 'other';
  phone_number: string;
  email: string | null;
  pan: string | null;
  address: ColumnType<Record<string, string> | null, string | null, string | null>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  version: Generated<number>;
}

export const POLICY_STATUSES = ['draft', 'submitted', 'approved', 'rejected', 'active', 'lapsed', 'surrendered', 'matured', 'cancelled', 'terminated'] as const;
export type PolicyStatus = (typeof POLICY_STATUSES)[number];

export interface PoliciesTable {
  id: string;
  policy_number: string | null;
  product_id: string;
  provider_id: string;
  customer_id: string;
  agent_id: string;
  created_by: string;
  status: PolicyStatus;
  sum_assured_paise: number;
  term_years: number;
  premium_mode: PremiumMode;
  age_at_entry: number;
  base_annual_paise: number;
  /** numeric: read back as a decimal string, never a float. */
  modal_factor: ColumnType<string, string, string>;
  installment_paise: number;
  tax_rate_bp: number;
  tax_paise: number;
  total_installment_paise: number;
  annualized_total_paise: number;
  nominee: ColumnType<{ name: string; relationship: string; share_percent: number } | null, string | null, string | null>;
  start_date: string | null;
  maturity_date: string | null;
  issued_at: Timestamp | null;
  next_due_date: string | null;
  grace_end_date: string | null;
  status_changed_at: DefaultTimestamp;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  version: Generated<number>;
}

export interface PolicyStatusHistoryTable {
  id: string;
  policy_id: string;
  from_status: PolicyStatus | null;
  to_status: PolicyStatus;
  reason: string | null;
  actor_id: string | null;
  created_at: DefaultTimestamp;
}

export interface CommissionsTable {
  id: string;
  policy_id: string;
  agent_id: string;
  kind: 'first_year' | 'renewal' | 'override';
  policy_year: Generated<number>;
  basis_paise: number;
  rate_bp: number;
  amount_paise: number;
  status: Generated<'earned' | 'paid' | 'clawed_back'>;
  earned_at: DefaultTimestamp;
  clawed_back_at: Timestamp | null;
  created_at: DefaultTimestamp;
}

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface SecurityEventsTable {
  id: string;
  occurred_at: Timestamp;
  kind: string;
  severity: Severity;
  user_id: string | null;
  ip_address: string | null;
  details: unknown;
}

export interface DB {
  security_events: SecurityEventsTable;
  user_preferences: UserPreferencesTable;
  products: ProductsTable;
  commission_rules: CommissionRulesTable;
  agent_documents: AgentDocumentsTable;
  customers: CustomersTable;
  policies: PoliciesTable;
  policy_status_history: PolicyStatusHistoryTable;
  commissions: CommissionsTable;
  regions: RegionsTable;
  providers: ProvidersTable;
  agents: AgentsTable;
  agent_providers: AgentProvidersTable;
  users: UsersTable;
  user_sessions: UserSessionsTable;
  refresh_tokens: RefreshTokensTable;
  otp_codes: OtpCodesTable;
  password_reset_tokens: PasswordResetTokensTable;
  login_throttles: LoginThrottlesTable;
  feature_flags: FeatureFlagsTable;
  audit_events: AuditEventsTable;
  audit_chain_head: AuditChainHeadTable;
  idempotency_keys: IdempotencyKeysTable;
  cache_generations: CacheGenerationsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type SessionRow = Selectable<UserSessionsTable>;
