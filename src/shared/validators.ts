/**
 * Format validators for Indian identifiers (PAN, Aadhaar, IFSC, agent licence).
 * Pure and synchronous so they can run inside request schemas and in tests
 * without setup. None of them normalises case: callers decide whether to
 * upper-case user input, so a stored value is exactly what was validated.
 */

// --- PAN ---------------------------------------------------------------------

const PAN_PATTERN = /^[A-Z]{5}[0-9]{4}[A-Z]$/;

export type PanHolderType =
  | 'individual'
  | 'company'
  | 'huf'
  | 'firm'
  | 'aop'
  | 'trust'
  | 'boi'
  | 'local_authority'
  | 'artificial_juridical_person'
  | 'government';

// The 4th character of a PAN encodes the kind of holder (Income Tax Department).
const PAN_HOLDER_TYPES: ReadonlyMap<string, PanHolderType> = new Map<string, PanHolderType>([
  ['P', 'individual'],
  ['C', 'company'],
  ['H', 'huf'],
  ['F', 'firm'],
  ['A', 'aop'],
  ['T', 'trust'],
  ['B', 'boi'],
  ['L', 'local_authority'],
  ['J', 'artificial_juridical_person'],
  ['G', 'government'],
]);

export function isValidPan(pan: string): boolean {
  // The sequence 0000 is never issued, so it marks a made-up number.
  return PAN_PATTERN.test(pan) && pan.slice(5, 9) !== '0000';
}

export function panHolderType(pan: string): PanHolderType | null {
  if (!isValidPan(pan)) return null;
  return PAN_HOLDER_TYPES.get(pan.charAt(3)) ?? null;
}

export function isIndividualPan(pan: string): boolean {
  return panHolderType(pan) === 'individual';
}

// --- Aadhaar -----------------------------------------------------------------

// Verhoeff tables: multiplication in the dihedral group D5, the position
// permutation, and the group inverse. UIDAI uses this scheme for the 12th digit.
const VERHOEFF_D: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

const VERHOEFF_P: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

const VERHOEFF_INV: readonly number[] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

const DIGITS_ONLY = /^[0-9]+$/;

// Table lookups are total for indexes 0..9 and 0..7, which the callers
// guarantee; the fallback only satisfies noUncheckedIndexedAccess.
function lookup(table: readonly (readonly number[])[], row: number, col: number): number {
  return table[row]?.[col] ?? 0;
}

/** Folds the digits right to left; `offset` is 1 when the check digit is still missing. */
function foldVerhoeff(digits: string, offset: 0 | 1): number {
  let checksum = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    checksum = lookup(VERHOEFF_D, checksum, lookup(VERHOEFF_P, (i + offset) % 8, digit));
  }
  return checksum;
}

/**
 * Check digit that makes `payload + digit` pass Verhoeff. Exported so seed data
 * and tests can build valid Aadhaar-shaped numbers instead of hard-coding real ones.
 */
export function computeVerhoeffCheckDigit(payload: string): number {
  if (!DIGITS_ONLY.test(payload)) {
    throw new RangeError('computeVerhoeffCheckDigit expects ASCII digits only');
  }
  return VERHOEFF_INV[foldVerhoeff(payload, 1)] ?? 0;
}

const AADHAAR_PATTERN = /^[2-9][0-9]{11}$/;

export function isValidAadhaar(digits: string): boolean {
  // UIDAI never issues numbers starting with 0 or 1.
  return AADHAAR_PATTERN.test(digits) && foldVerhoeff(digits, 0) === 0;
}

/** Strips the separators people type (spaces, hyphens); does not validate. */
export function normalizeAadhaar(input: string): string {
  return input.replace(/[\s-]+/g, '');
}

const FULLY_MASKED_AADHAAR = 'XXXX-XXXX-XXXX';

/**
 * Only the last four digits may ever be displayed (UIDAI rules). Input that is
 * not 12 digits yields a fully masked value rather than an error, so a bad
 * stored value can neither leak digits nor break a listing.
 */
export function maskAadhaar(digits: string): string {
  const normalized = normalizeAadhaar(digits);
  if (!/^[0-9]{12}$/.test(normalized)) return FULLY_MASKED_AADHAAR;
  return `XXXX-XXXX-${normalized.slice(8)}`;
}

// --- Agent licence -------------------------------------------------------------

// IRDAI publishes no licence number format, so only the shape is enforced.
const LICENCE_PATTERN = /^[A-Za-z0-9/-]{5,30}$/;

export function isValidLicenceNumber(s: string): boolean {
  return LICENCE_PATTERN.test(s);
}

// --- IFSC ----------------------------------------------------------------------

// Bank code, a reserved 0, then the branch code (RBI).
const IFSC_PATTERN = /^[A-Z]{4}0[A-Z0-9]{6}$/;

export function isValidIfsc(s: string): boolean {
  return IFSC_PATTERN.test(s);
}
