import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Role } from '../../db/types.js';
import { AppError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { SigningKeys } from './auth.keys.js';

export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  role: Role;
  phone_number: string;
  iat: number;
  exp: number;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTtlS: number;
}

export async function signAccessToken(
  keys: SigningKeys,
  settings: TokenSettings,
  subject: { userId: string; sessionId: string; role: Role; phoneNumber: string },
  now: Date,
): Promise<{ token: string; claims: AccessClaims }> {
  const iat = Math.floor(now.getTime() / 1000);
  const claims: AccessClaims = {
    sub: subject.userId,
    sid: subject.sessionId,
    jti: newId(),
    role: subject.role,
    phone_number: subject.phoneNumber,
    iat,
    exp: iat + settings.accessTtlS,
  };
  const token = await new SignJWT({ type: 'access', sid: claims.sid, role: claims.role, phone_number: claims.phone_number })
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.signing.kid, typ: ACCESS_TOKEN_TYP })
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(iat)
    .setExpirationTime(claims.exp)
    .sign(keys.signing.key);
  return { token, claims };
}

/**
 * Verification pins everything an attacker might bend: the algorithm (no
 * `none`, no HS256 keyed with our public key), issuer, audience, token type
 * (header `typ` and claim `type`, so a refresh or ID token never passes), and
 * requires exp.
 */
export async function verifyAccessToken(keys: SigningKeys, settings: TokenSettings, token: string, now: Date): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(token, keys.verifier, {
      algorithms: ['EdDSA'],
      issuer: settings.issuer,
      audience: settings.audience,
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      currentDate: now,
      clockTolerance: 5,
    });
    if (payload.type !== 'access' || typeof payload.sid !== 'string' || typeof payload.role !== 'string') {
      throw new AppError('INVALID_TOKEN', 401, 'The access token is not valid.');
    }
    return payload as unknown as AccessClaims;
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof joseErrors.JWTExpired) throw new AppError('TOKEN_EXPIRED', 401, 'The access token has expired; refresh it.');
    throw new AppError('INVALID_TOKEN', 401, 'The access token is not valid.');
  }
}
