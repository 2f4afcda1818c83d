import { Type, type Static } from 'typebox';
import { OTP_PURPOSES } from '../../db/types.js';
import { EmailSchema, NameSchema, PhoneInputSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';
import { UserSchema } from '../users/users.schemas.js';

const closed = { additionalProperties: false } as const;

export const PasswordSchema = Type.String({ minLength: 8, maxLength: 128, description: '8 to 128 characters, spaces allowed, no composition rules; common or guessable passwords are refused.', examples: ['monsoon tea on the ghats'] });
const LoginPasswordSchema = Type.String({ minLength: 1, maxLength: 128 });
const OtpCodeSchema = Type.String({ pattern: '^[0-9]{6}$', description: 'The 6-digit code from the SMS.', examples: ['483920'] });
// Loose on purpose: any wrong token, even an access token, gets the same 401 from the service, not a 422.
const RefreshTokenSchema = Type.String({ minLength: 1, maxLength: 4096 });
export const OtpPurposeSchema = Type.Enum(OTP_PURPOSES);

export const OtpTicketSchema = Type.Object({
  expires_in: Type.Integer({ description: 'Seconds the code stays valid.', examples: [300] }),
  resend_after: Type.Integer({ description: 'Seconds before another code may be requested.', examples: [30] }),
});

export const RegisterBodySchema = Type.Object(
  { phone_number: PhoneInputSchema, full_name: NameSchema, password: PasswordSchema, email: Type.Optional(EmailSchema) },
  { ...closed, examples: [{ phone_number: '+91 98765 43210', full_name: 'Asha Verma', password: 'monsoon tea on the ghats' }] },
);
export const RegisterResponseSchema = Type.Object({ user: UserSchema, otp: OtpTicketSchema });

export const LoginBodySchema = Type.Union(
  [
    Type.Object({ method: Type.Literal('password'), phone_number: PhoneInputSchema, password: LoginPasswordSchema }, closed),
    Type.Object({ method: Type.Literal('password'), email: EmailSchema, password: LoginPasswordSchema }, closed),
    Type.Object({ method: Type.Literal('agent_code'), agent_code: Type.String({ minLength: 3, maxLength: 40, pattern: '^[A-Za-z0-9-]+$' }), password: LoginPasswordSchema }, closed),
    Type.Object({ method: Type.Literal('otp'), phone_number: PhoneInputSchema }, closed),
  ],
  { examples: [{ method: 'password', phone_number: '9876543210', password: 'monsoon tea on the ghats' }] },
);
export type LoginBody = Static<typeof LoginBodySchema>;

export const TokenPairSchema = Type.Object(
  {
    access_token: Type.String({ description: 'EdDSA JWT; send as Authorization: Bearer.' }),
    refresh_token: Type.String({ description: 'Opaque, single use: each refresh returns a new one.' }),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'Access token lifetime in seconds.' }),
    refresh_expires_in: Type.Integer({ description: 'Seconds until the session (and its refresh tokens) expires.' }),
    session_id: UuidSchema,
    user: UserSchema,
  },
  { description: 'Tokens for a new or refreshed session.' },
);

export const OtpRequestBodySchema = Type.Object({ phone_number: PhoneInputSchema, purpose: OtpPurposeSchema }, closed);
export const OtpAcceptedSchema = Type.Object({ otp: OtpTicketSchema });
export const VerifyOtpBodySchema = Type.Object({ phone_number: PhoneInputSchema, code: OtpCodeSchema, purpose: OtpPurposeSchema }, closed);
export const ResetTokenSchema = Type.Object({ reset_token: Type.String({ description: 'Single use, valid 15 minutes: pass to POST /auth/password/reset.' }) });
export const RefreshBodySchema = Type.Object({ refresh_token: RefreshTokenSchema }, closed);
export const LogoutBodySchema = Type.Object({ all_sessions: Type.Optional(Type.Boolean({ description: 'End every session of the user, not just this one.' })) }, closed);

export const SessionSchema = Type.Object({
  session_id: UuidSchema,
  created_at: TimestampSchema,
  last_used_at: TimestampSchema,
  ip_address: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});
export const SessionListSchema = Type.Object({ items: Type.Array(SessionSchema) });

export const MeSchema = Type.Object({
  user: UserSchema,
  role: Type.String(),
  permissions: Type.Array(Type.String(), { description: 'Effective permissions; `*` and `x.*` are wildcards.' }),
});

export const ChangePasswordBodySchema = Type.Object({ current_password: LoginPasswordSchema, new_password: PasswordSchema }, closed);
export const ResetPasswordBodySchema = Type.Object({ reset_token: RefreshTokenSchema, new_password: PasswordSchema }, closed);
