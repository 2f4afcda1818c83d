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

export interface DB {
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
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type SessionRow = Selectable<UserSessionsTable>;
