import type { Selectable } from 'kysely';
import { Type, type Static, type TSchema } from 'typebox';
import type { CustomersTable } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { DateSchema, EmailSchema, NameSchema, PaginationQuerySchema, PhoneInputSchema, PhoneSchema, TextSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';

export type CustomerRow = Selectable<CustomersTable>;

const closed = { additionalProperties: false } as const;
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const GENDERS = ['female', 'male', 'other'] as const;
const PanSchema = Type.String({ minLength: 10, maxLength: 10, pattern: '^[A-Za-z]{5}[0-9]{4}[A-Za-z]$', description: 'PAN; upper-cased.', examples: ['ABCPE1234F'] });

export const AddressSchema = Type.Object(
  {
    line1: TextSchema(200),
    line2: Type.Optional(TextSchema(200)),
    city: TextSchema(100),
    state: TextSchema(100),
    pincode: Type.String({ pattern: '^[1-9][0-9]{5}$', description: 'Indian PIN code: 6 digits, not starting with 0.', examples: ['411001'] }),
  },
  { ...closed, examples: [{ line1: '14 MG Road', city: 'Pune', state: 'Maharashtra', pincode: '411001' }] },
);
export type Address = Static<typeof AddressSchema>;

export const CustomerSchema = Type.Object(
  {
    id: UuidSchema,
    agent_id: UuidSchema,
    user_id: nullable(UuidSchema),
    full_name: Type.String(),
    date_of_birth: DateSchema,
    gender: Type.Enum(GENDERS),
    phone_number: PhoneSchema,
    email: nullable(Type.String()),
    pan: nullable(Type.String()),
    address: nullable(Type.Object({
      line1: Type.String(), line2: Type.Optional(Type.String()), city: Type.String(), state: Type.String(), pincode: Type.String(),
    })),
    created_at: TimestampSchema,
    updated_at: TimestampSchema,
  },
  { description: 'A customer of the agent that created it; user_id links its policyholder login (same phone), when one exists.' },
);
export type Customer = Static<typeof CustomerSchema>;

export function toCustomerResponse(row: CustomerRow): Customer {
  const address = row.address as Address | null;
  return {
    id: row.id,
    agent_id: row.agent_id,
    user_id: row.user_id,
    full_name: row.full_name,
    date_of_birth: row.date_of_birth,
    gender: row.gender,
    phone_number: row.phone_number,
    email: row.email,
    pan: row.pan,
    address: address ? { line1: address.line1, ...(address.line2 ? { line2: address.line2 } : {}), city: address.city, state: address.state, pincode: address.pincode } : null,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

const customerFields = {
  full_name: NameSchema,
  date_of_birth: DateSchema,
  gender: Type.Enum(GENDERS),
  phone_number: PhoneInputSchema,
  email: Type.Optional(EmailSchema),
  pan: Type.Optional(PanSchema),
  address: Type.Optional(AddressSchema),
};

export const CreateCustomerBodySchema = Type.Object(customerFields, {
  ...closed,
  examples: [{ full_name: 'Meera Iyer', date_of_birth: '1988-07-14', gender: 'female', phone_number: '98765 43210', address: { line1: '14 MG Road', city: 'Pune', state: 'Maharashtra', pincode: '411001' } }],
});
export type CreateCustomerBody = Static<typeof CreateCustomerBodySchema>;

export const UpdateCustomerBodySchema = Type.Object(
  {
    full_name: Type.Optional(NameSchema),
    date_of_birth: Type.Optional(DateSchema),
    gender: Type.Optional(Type.Enum(GENDERS)),
    phone_number: Type.Optional(PhoneInputSchema),
    email: Type.Optional(nullable(EmailSchema)),
    pan: Type.Optional(nullable(PanSchema)),
    address: Type.Optional(nullable(AddressSchema)),
  },
  { ...closed, minProperties: 1, description: 'Only the given fields change; null clears an optional one.', examples: [{ email: 'meera@example.in' }] },
);
export type UpdateCustomerBody = Static<typeof UpdateCustomerBodySchema>;

export const CUSTOMER_SORTS = ['created_at', 'full_name'] as const;
export const CustomerListQuerySchema = Type.Object(
  {
    q: Type.Optional(TextSchema(100, { description: 'A name (anywhere, case-insensitive) or a phone number (any common form).' })),
    agent_id: Type.Optional(UuidSchema),
    sort: Type.Optional(Type.String({ maxLength: 20, description: 'created_at (default, newest first) or full_name; prefix - for descending.' })),
    ...PaginationQuerySchema,
  },
  closed,
);
export type CustomerListQuery = Static<typeof CustomerListQuerySchema>;

export const CustomerParamsSchema = Type.Object({ customer_id: UuidSchema }, closed);
