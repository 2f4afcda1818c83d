/**
 * Exact money and decimal arithmetic.
 *
 * Money is integer paise everywhere; factors (modal factors, rates) are decimal
 * strings. Everything is computed on BigInt so that no intermediate product is
 * ever a binary float, and converted back to `number` only once the result is
 * known to be a safe integer.
 *
 * Rounding is "half-up" in the commercial sense: ties go away from zero
 * (54687.5 -> 54688, -54687.5 -> -54688), like Java's RoundingMode.HALF_UP.
 */

/** A decimal value `units / 10^scale`, e.g. '0.0875' is { units: 875n, scale: 4 }. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

// Bounded lengths keep a hostile string from producing absurd BigInts.
const DECIMAL_PATTERN = /^(-?)(\d{1,18})(?:\.(\d{1,18}))?$/;
const BASIS_POINTS_PER_UNIT = 10_000n;

export function isDecimalString(text: unknown): text is string {
  return typeof text === 'string' && DECIMAL_PATTERN.test(text);
}

/** Parses a plain decimal string ('1', '0.51', '-2.250'); no exponents, no '+', no spaces. */
export function parseDecimal(text: string): Decimal {
  const match = DECIMAL_PATTERN.exec(text);
  if (!match) throw new RangeError(`Not a decimal string: ${JSON.stringify(text)}`);
  const [, sign = '', whole = '', fraction = ''] = match;
  const magnitude = BigInt(whole + fraction);
  return { units: sign === '-' ? -magnitude : magnitude, scale: fraction.length };
}

export function compareDecimals(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const scale = Math.max(a.scale, b.scale);
  const left = a.units * 10n ** BigInt(scale - a.scale);
  const right = b.units * 10n ** BigInt(scale - b.scale);
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

/** numerator / denominator rounded half-up (ties away from zero). */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('Denominator must be positive');
  if (numerator < 0n) return -divideRoundHalfUp(-numerator, denominator);
  // floor((2n + d) / 2d) == floor(n/d + 1/2), i.e. half-up for non-negative n.
  return (2n * numerator + denominator) / (2n * denominator);
}

/** amount × factor, rounded half-up to a whole unit of `amount`. */
export function multiplyByDecimal(amount: bigint, factor: Decimal | string): bigint {
  const decimal = typeof factor === 'string' ? parseDecimal(factor) : factor;
  return divideRoundHalfUp(amount * decimal.units, 10n ** BigInt(decimal.scale));
}

/** amount × basisPoints / 10000, rounded half-up (1800 bp = 18%). */
export function applyBasisPoints(amount: bigint, basisPoints: bigint | number): bigint {
  return divideRoundHalfUp(amount * toBigInt(basisPoints, 'basis points'), BASIS_POINTS_PER_UNIT);
}

/** Converts a whole-number `number` to BigInt, refusing fractions and unsafe values. */
export function toBigInt(value: bigint | number, label: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) throw new RangeError(`${label} must be a safe integer, got ${value}`);
  return BigInt(value);
}

/** Converts back to `number` only when no precision can be lost. */
export function toSafeInteger(value: bigint, label: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${label} is outside the safe integer range: ${value}`);
  }
  return Number(value);
}

/** Formats paise as rupees with Indian digit grouping, e.g. 500000000 -> '₹50,00,000.00'. */
export function formatInr(paise: bigint | number): string {
  const value = toBigInt(paise, 'paise');
  const magnitude = value < 0n ? -value : value;
  const rupees = (magnitude / 100n).toString();
  const fraction = (magnitude % 100n).toString().padStart(2, '0');
  return `${value < 0n ? '-' : ''}₹${groupIndian(rupees)}.${fraction}`;
}

// Indian grouping: the last three digits, then groups of two (lakh, crore).
function groupIndian(digits: string): string {
  if (digits.length <= 3) return digits;
  const head = digits.slice(0, -3);
  const tail = digits.slice(-3);
  return `${head.replace(/\B(?=(\d{2})+$)/g, ',')},${tail}`;
}
