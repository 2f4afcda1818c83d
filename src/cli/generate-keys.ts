import { generateSigningJwk, parseKeySet } from '../modules/auth/auth.keys.js';

/**
 * npm run keys:generate: prints a JWT_PRIVATE_KEYS value with a new Ed25519 key.
 * With the current value in JWT_PRIVATE_KEYS, the new key is put first and the
 * old ones kept after it, so tokens they signed still verify during rotation.
 */
const existing = process.env.JWT_PRIVATE_KEYS ? parseKeySet(process.env.JWT_PRIVATE_KEYS) : [];
const next = await generateSigningJwk();
console.log(JSON.stringify({ keys: [next, ...existing] }));
