import { Type, type Static } from 'typebox';
import { ROLES, USER_STATUSES, type UserRow } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { EmailSchema, NameSchema, PhoneSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';

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
