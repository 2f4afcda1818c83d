/**
 * Policy numbers: `<PROVIDER_CODE>-<YYYY>-<8-digit sequence><Luhn digit>`,
 * e.g. `LIC-2026-000001236`. The sequence comes from a database sequence; the
 * Luhn digit (over the 8 sequence digits) catches a mistyped or swapped digit
 * when a number is read out over the phone or typed from paper.
 */

export const MAX_POLICY_SEQUENCE = 99_999_999;

// Provider codes are upper-case letters and digits, optionally joined by single '-' or '_'.
const PROVIDER_CODE_PATTERN = /^[A-Z0-9]+(?:[-_][A-Z0-9]+)*$/;
// Anchored at the end, so a provider code that itself contains '-' still parses unambiguously.
const POLICY_NUMBER_PATTERN = /^([A-Z0-9]+(?:[-_][A-Z0-9]+)*)-(\d{4})-(\d{8})(\d)$/;

export interface ParsedPolicyNumber {
  providerCode: string;
  year: number;
  sequence: number;
}

/** The Luhn check digit to append to `digits` (a non-empty string of 0-9). */
export function luhnCheckDigit(digits: string): number {
  if (!/^\d+$/.test(digits)) throw new RangeError(`Luhn input must be decimal digits, got ${JSON.stringify(digits)}`);
  let sum = 0;
  // Walking from the right, the digit next to the (future) check digit is doubled first.
  for (let offset = 0; offset < digits.length; offset += 1) {
    const digit = Number(digits[digits.length - 1 - offset]);
    const weighted = offset % 2 === 0 ? digit * 2 : digit;
    sum += weighted > 9 ? weighted - 9 : weighted;
  }
  return (10 - (sum % 10)) % 10;
}

function assertSequence(sequence: bigint | number): bigint {
  if (typeof sequence === 'number' && !Number.isSafeInteger(sequence)) {
    throw new RangeError(`Policy sequence must be a whole number, got ${sequence}`);
  }
  const value = BigInt(sequence);
  // Database sequences start at 1; 0 or less means the caller read the wrong value.
  if (value < 1n || value > BigInt(MAX_POLICY_SEQUENCE)) {
    throw new RangeError(`Policy sequence must be 1..${MAX_POLICY_SEQUENCE}, got ${value}`);
  }
  return value;
}

/** Formats a policy number; the provider code is upper-cased. Throws RangeError on bad parts. */
export function formatPolicyNumber(providerCode: string, year: number, sequence: bigint | number): string {
  const code = providerCode.toUpperCase();
  if (!PROVIDER_CODE_PATTERN.test(code)) throw new RangeError(`Invalid provider code ${JSON.stringify(providerCode)}`);
  if (!Number.isInteger(year) || year < 1000 || year > 9999) throw new RangeError(`Year must have 4 digits, got ${year}`);
  const digits = assertSequence(sequence).toString().padStart(8, '0');
  return `${code}-${year}-${digits}${luhnCheckDigit(digits)}`;
}

/** Splits a well-formed policy number into its parts, or null when the shape or check digit is wrong. */
export function parsePolicyNumber(text: string): ParsedPolicyNumber | null {
  const match = POLICY_NUMBER_PATTERN.exec(text);
  if (!match) return null;
  const [, providerCode = '', year = '', digits = '', check = ''] = match;
  const sequence = Number(digits);
  if (Number(year) < 1000 || sequence < 1 || luhnCheckDigit(digits) !== Number(check)) return null;
  return { providerCode, year: Number(year), sequence };
}

export function isValidPolicyNumber(text: string): boolean {
  return typeof text === 'string' && parsePolicyNumber(text) !== null;
}
