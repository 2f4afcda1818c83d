/**
 * Phone numbers enter in whatever form people type and leave in E.164
 * (CONTRACT.md). The max metadata is used throughout: the default (min)
 * metadata cannot tell mobiles from landlines, and it validates by length
 * alone, so it would accept numbers such as +91 10000 00000. Using one
 * metadata set for both functions keeps them consistent.
 */
import { isSupportedCountry, parsePhoneNumberWithError, ParseError } from 'libphonenumber-js/max';
import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';

// Comfortably above any real number in its usual written forms; bounds the
// parser's work on hostile input.
const MAX_INPUT_LENGTH = 32;

// Digits and the punctuation of common written forms; a leading "+" may sit
// inside or before an opening parenthesis: "(+91) 98765 43210", "+(91) ...",
// "(415) 555-2671". Anything else (letters, "ext", "tel:", a "+" mid-number)
// is refused rather than guessed at, since the parser would otherwise pull a
// number out of free text.
const WRITTEN_FORM = /^\(?\+?\(?[0-9][0-9 ().-]*$/;

// Pasted numbers often carry no-break or thin spaces.
const UNICODE_SPACES = /\p{Zs}/gu;

const E164 = /^\+[1-9][0-9]{6,14}$/;

function parseQuietly(text: string, defaultRegion?: CountryCode): PhoneNumber | null {
  try {
    return defaultRegion === undefined
      ? parsePhoneNumberWithError(text)
      : parsePhoneNumberWithError(text, defaultRegion);
  } catch (error) {
    // ParseError is the parser's verdict on the input; anything else is a bug.
    if (error instanceof ParseError) return null;
    throw error;
  }
}

/**
 * E.164 form of a valid number, or null. `defaultRegion` (ISO 3166 alpha-2)
 * applies to numbers written without a country code; an unknown region is a
 * programming error and throws, so a configuration typo cannot silently turn
 * every local number into a rejection.
 */
export function normalizePhone(input: string, defaultRegion = 'IN'): string | null {
  if (!isSupportedCountry(defaultRegion)) {
    throw new RangeError(`Unsupported default region: ${defaultRegion}`);
  }
  if (input.length > MAX_INPUT_LENGTH) return null;
  const text = input.replace(UNICODE_SPACES, ' ').trim();
  if (!WRITTEN_FORM.test(text)) return null;
  const parsed = parseQuietly(text, defaultRegion);
  if (parsed === null || !parsed.isValid()) return null;
  return parsed.number;
}

/**
 * Whether an E.164 number can receive an SMS OTP. Numbering plans that do not
 * separate mobiles from landlines (e.g. +1) count as mobile: refusing them
 * would lock out every such user, while a landline simply never gets the code.
 */
export function isMobile(e164: string): boolean {
  if (!E164.test(e164)) return false;
  const parsed = parseQuietly(e164);
  if (parsed === null || !parsed.isValid()) return false;
  const type = parsed.getType();
  return type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE';
}
