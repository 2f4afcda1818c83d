import { Type, type Static } from 'typebox';
import { ROLES, USER_STATUSES, type UserRow } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { EmailSchema, NameSchema, PageSchema, PaginationQuerySchema, PhoneInputSchema, PhoneSchema, TextSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';

export const RoleSchema = Type.Enum(ROLES, { description: 'Role, highest first: ' + ROLES.join(' > ') });
export const UserStatusSchema = Type.Enum(USER_STATUSES);

export const UserSchema = Type.Object(
  {
    id: UuidSchema,
    phone_number: PhoneSchema,
    email: Type.Union([EmailSchema, Type.Null()]),
    full_name: NameSchema,
    role: RoleSchema,
    status: UserStatusSchema,
    provider_id: Type.Union([UuidSchema, Type.Null()]),
    region_id: Type.Union([UuidSchema, Type.Null()]),
    phone_verified: Type.Boolean(),
    last_login_at: Type.Union([TimestampSchema, Type.Null()]),
    created_at: TimestampSchema,
    updated_at: TimestampSchema,
  },
  { description: 'A user account.' },
);
export type User = Static<typeof UserSchema>;

/** The only way a user row leaves the service: picked fields, never the hash or lock state. */
export function toUserResponse(row: UserRow): User {
  return {
    id: row.id,
    phone_number: row.phone_number,
    email: row.email,
    full_name: row.full_name,
    role: row.role,
    status: row.status,
    provider_id: row.provider_id,
    region_id: row.region_id,
    phone_verified: row.phone_verified_at !== null,
    last_login_at: row.last_login_at ? toIso(row.last_login_at) : null,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

const closed = { additionalProperties: false } as const;
// Not auth.schemas' PasswordSchema: that module imports this one, and the cycle would leave one side undefined.
const InitialPasswordSchema = Type.String({ minLength: 8, maxLength: 128, description: 'Optional; checked for strength like any password.' });
const NullableUuid = Type.Union([UuidSchema, Type.Null()]);
const ReasonSchema = TextSchema(500, { description: 'Why; kept with the account and in the audit trail.', examples: ['Left the agency'] });

/** Statuses an administrator may set directly; deletion has its own endpoint, verification its own flow. */
export const SETTABLE_STATUSES = ['active', 'inactive', 'suspended'] as const;
export type SettableStatus = (typeof SETTABLE_STATUSES)[number];

export const CreateUserBodySchema = Type.Object(
  {
    phone_number: PhoneInputSchema,
    full_name: NameSchema,
    role: RoleSchema,
    password: Type.Optional(InitialPasswordSchema),
    email: Type.Optional(EmailSchema),
    provider_id: Type.Optional(UuidSchema),
    region_id: Type.Optional(UuidSchema),
  },
  {
    ...closed,
    description: 'Without a password the user signs in by OTP. A provider_admin creates users of its provider; a regional_manager of its region or sub-regions.',
    examples: [{ phone_number: '+91 98765 43210', full_name: 'Asha Verma', role: 'junior_agent', email: 'asha@example.in' }],
  },
);
export type CreateUserBody = Static<typeof CreateUserBodySchema>;

/** Profile fields anyone may change on themselves; the rest are administrators' and never one's own. */
export const PROFILE_FIELDS = ['full_name', 'email'] as const;
export const ADMIN_FIELDS = ['role', 'status', 'provider_id', 'region_id'] as const;

export const UpdateUserBodySchema = Type.Object(
  {
    full_name: Type.Optional(NameSchema),
    email: Type.Optional(Type.Union([EmailSchema, Type.Null()])),
    role: Type.Optional(RoleSchema),
    status: Type.Optional(Type.Enum(SETTABLE_STATUSES)),
    provider_id: Type.Optional(NullableUuid),
    region_id: Type.Optional(NullableUuid),
  },
  {
    ...closed,
    minProperties: 1,
    description: 'Only the given fields change. role, status, provider_id and region_id are for administrators, never on their own account.',
    examples: [{ full_name: 'Asha V. Verma' }],
  },
);
export type UpdateUserBody = Static<typeof UpdateUserBodySchema>;

export const UserStatusBodySchema = Type.Object(
  { status: Type.Enum(SETTABLE_STATUSES), reason: ReasonSchema },
  { ...closed, examples: [{ status: 'suspended', reason: 'Complaint under review' }] },
);
export type UserStatusBody = Static<typeof UserStatusBodySchema>;

export const BULK_ACTIONS = ['activate', 'deactivate', 'suspend', 'delete'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export const BulkBodySchema = Type.Object(
  {
    action: Type.Enum(BULK_ACTIONS),
    user_ids: Type.Array(UuidSchema, { minItems: 1, maxItems: 500, uniqueItems: true }),
  },
  { ...closed, examples: [{ action: 'suspend', user_ids: ['01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12'] }] },
);
export type BulkBody = Static<typeof BulkBodySchema>;

export const BulkResultSchema = Type.Object({
  results: Type.Array(
    Type.Object({
      user_id: UuidSchema,
      ok: Type.Boolean(),
      code: Type.Optional(Type.String({ description: 'Why this one was not changed: NOT_FOUND, FORBIDDEN or INVALID_TRANSITION.' })),
    }),
  ),
});
export type BulkResult = Static<typeof BulkResultSchema>;

export const USER_SORTS = ['full_name', '-full_name', 'created_at', '-created_at'] as const;

export const SearchQuerySchema = Type.Object(
  {
    q: Type.Optional(TextSchema(100, { description: 'Matches the name (anywhere), the phone (prefix, digits only is fine), the email (prefix) or an agent code (prefix).' })),
    role: Type.Optional(RoleSchema),
    status: Type.Optional(UserStatusSchema),
    provider_id: Type.Optional(UuidSchema),
    region_id: Type.Optional(UuidSchema),
    created_from: Type.Optional(TimestampSchema),
    created_to: Type.Optional(TimestampSchema),
    sort: Type.Optional(Type.Enum(USER_SORTS, { description: 'Default -created_at (newest first).' })),
    ...PaginationQuerySchema,
  },
  closed,
);
export type SearchQuery = Static<typeof SearchQuerySchema>;

export const UserPageSchema = PageSchema(UserSchema);

/** BCP 47 tags of the languages the apps are translated into. */
export const LANGUAGES = ['en', 'hi', 'bn', 'te', 'mr', 'ta', 'ur', 'gu', 'kn', 'ml', 'or', 'pa', 'as'] as const;
const ClockTimeSchema = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, 24-hour, in the user\'s timezone.', examples: ['22:00'] });
const QuietHoursSchema = Type.Union([Type.Object({ start: ClockTimeSchema, end: ClockTimeSchema }, closed), Type.Null()], {
  description: 'No notifications between start and end (may cross midnight); null: none.',
});
const TimezoneSchema = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone.', examples: ['Asia/Kolkata'] });
const channels = (optional: boolean) => {
  const flag = optional ? Type.Optional(Type.Boolean()) : Type.Boolean();
  return Type.Object({ sms: flag, email: flag, push: flag, whatsapp: flag }, closed);
};

export const PreferencesSchema = Type.Object({
  user_id: UuidSchema,
  language: Type.Enum(LANGUAGES),
  timezone: TimezoneSchema,
  notifications: channels(false),
  quiet_hours: QuietHoursSchema,
});
export type Preferences = Static<typeof PreferencesSchema>;

export const PreferencesBodySchema = Type.Object(
  {
    language: Type.Optional(Type.Enum(LANGUAGES, { description: 'One of ' + LANGUAGES.join(', ') })),
    timezone: Type.Optional(TimezoneSchema),
    notifications: Type.Optional(channels(true)),
    quiet_hours: Type.Optional(QuietHoursSchema),
  },
  { ...closed, minProperties: 1, examples: [{ language: 'hi', notifications: { whatsapp: false }, quiet_hours: { start: '22:00', end: '07:00' } }] },
);
export type PreferencesBody = Static<typeof PreferencesBodySchema>;

