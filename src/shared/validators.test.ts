import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeVerhoeffCheckDigit,
  isIndividualPan,
  isValidAadhaar,
  isValidIfsc,
  isValidLicenceNumber,
  isValidPan,
  maskAadhaar,
  normalizeAadhaar,
  panHolderType,
} from './validators.js';

/*
 * A second Verhoeff implementation, built from the group definition instead of
 * the published tables, so a typo in either one shows up as a disagreement.
 * Elements 0-4 are the rotations r^k of the dihedral group D5, 5-9 the
 * reflections r^(k-5)·s; the position permutation is σ = (0 1 5 8 9 4 2 7)(3 6),
 * i.e. σ = [1,5,7,6,2,8,3,0,9,4], applied i times at position i.
 */
function mod5(n: number): number {
  return ((n % 5) + 5) % 5;
}

function multiplyD5(a: number, b: number): number {
  if (a < 5 && b < 5) return mod5(a + b);
  if (a < 5) return 5 + mod5(a + b);
  if (b < 5) return 5 + mod5(a - b);
  return mod5(a - b);
}

function inverseD5(a: number): number {
  return a < 5 ? mod5(-a) : a;
}

const SIGMA = [1, 5, 7, 6, 2, 8, 3, 0, 9, 4];

function permute(times: number, digit: number): number {
  let value = digit;
  for (let k = 0; k < times % 8; k++) value = SIGMA[value] ?? Number.NaN;
  return value;
}

function referenceCheckDigit(payload: string): number {
  let c = 0;
  [...payload].reverse().forEach((ch, i) => {
    c = multiplyD5(c, permute(i + 1, Number(ch)));
  });
  return inverseD5(c);
}

function referenceIsValid(digits: string): boolean {
  let c = 0;
  [...digits].reverse().forEach((ch, i) => {
    c = multiplyD5(c, permute(i, Number(ch)));
  });
  return c === 0;
}

const digitString = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((ds) => ds.join(''));

// 11 digits, first 2-9: an Aadhaar payload before its check digit.
const aadhaarPayload = fc
  .tuple(fc.integer({ min: 2, max: 9 }), digitString(10, 10))
  .map(([first, rest]) => `${first}${rest}`);

function withCheckDigit(payload: string): string {
  return `${payload}${computeVerhoeffCheckDigit(payload)}`;
}

describe('PAN', () => {
  it.each(['ABCPE1234F', 'AAACB1234Z', 'ZZZPZ9999Z', 'ABCPE0001F', 'ABCXE1234F'])(
    'accepts %s',
    (pan) => {
      expect(isValidPan(pan)).toBe(true);
    },
  );

  it.each([
    ['lowercase', 'abcpe1234f'],
    ['mixed case', 'ABCPe1234F'],
    ['0000 sequence', 'ABCPE0000F'],
    ['too short', 'ABCPE1234'],
    ['too long', 'ABCPE1234FG'],
    ['digit where a letter belongs', 'ABC1E1234F'],
    ['letter where a digit belongs', 'ABCPE12O4F'],
    ['digit as last character', 'ABCPE12345'],
    ['surrounding space', ' ABCPE1234F'],
    ['trailing newline', 'ABCPE1234F\n'],
    ['inner space', 'ABCPE 1234F'],
    ['empty', ''],
    ['non-ASCII digits', 'ABCPE١٢٣٤F'],
  ])('refuses %s', (_label, pan) => {
    expect(isValidPan(pan)).toBe(false);
  });

  it.each([
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
  ])('reads 4th letter %s as %s', (letter, type) => {
    expect(panHolderType(`ABC${letter}E1234F`)).toBe(type);
  });

  it('reports no holder type for an unknown 4th letter or an invalid PAN', () => {
    expect(panHolderType('ABCXE1234F')).toBeNull();
    expect(panHolderType('ABCPE0000F')).toBeNull();
    expect(panHolderType('abcpe1234f')).toBeNull();
  });

  it('treats only a valid P-type PAN as an individual', () => {
    expect(isIndividualPan('ABCPE1234F')).toBe(true);
    expect(isIndividualPan('AAACB1234Z')).toBe(false); // company
    expect(isIndividualPan('AAAHB1234Z')).toBe(false); // HUF
    expect(isIndividualPan('ABCPE0000F')).toBe(false);
    expect(isIndividualPan('abcpe1234f')).toBe(false);
  });
});

describe('Verhoeff', () => {
  // Vectors from the Wikipedia and Rosetta Code descriptions of the algorithm,
  // confirmed below against the independent implementation too.
  it.each([
    ['236', 3],
    ['12345', 1],
    ['123456789012', 0],
  ])('check digit of %s is %i', (payload, digit) => {
    expect(computeVerhoeffCheckDigit(payload)).toBe(digit);
    expect(referenceCheckDigit(payload)).toBe(digit);
  });

  it('agrees with the group-theoretic reference for any digit string', () => {
    fc.assert(
      fc.property(digitString(1, 40), (payload) => {
        expect(computeVerhoeffCheckDigit(payload)).toBe(referenceCheckDigit(payload));
      }),
    );
  });

  it('refuses a non-digit payload instead of computing nonsense', () => {
    expect(() => computeVerhoeffCheckDigit('')).toThrow(RangeError);
    expect(() => computeVerhoeffCheckDigit('12a4')).toThrow(RangeError);
    expect(() => computeVerhoeffCheckDigit('１２３')).toThrow(RangeError);
  });
});

describe('Aadhaar', () => {
  it.each([
    // 23634595401 + check digit 7, computed here by both implementations.
    '236345954017',
    // Widely circulated UIDAI pre-production test numbers; both pass both checks.
    '999941057058',
    '999971658847',
  ])('accepts %s', (aadhaar) => {
    expect(referenceIsValid(aadhaar)).toBe(true);
    expect(isValidAadhaar(aadhaar)).toBe(true);
  });

  it('refuses 2363 4595 4018, a number often quoted as valid whose check digit is wrong', () => {
    expect(referenceIsValid('236345954018')).toBe(false);
    expect(isValidAadhaar('236345954018')).toBe(false);
  });

  it('accepts every number built with the computed check digit', () => {
    fc.assert(
      fc.property(aadhaarPayload, (payload) => {
        const aadhaar = withCheckDigit(payload);
        expect(isValidAadhaar(aadhaar)).toBe(true);
        expect(referenceIsValid(aadhaar)).toBe(true);
      }),
    );
  });

  it('catches every single-digit error', () => {
    fc.assert(
      fc.property(aadhaarPayload, fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 9 }), (payload, at, shift) => {
        // Position 0 is left alone so the 2-9 first-digit rule cannot mask the checksum.
        const valid = withCheckDigit(payload);
        const changed = String((Number(valid[at]) + shift) % 10);
        const corrupted = `${valid.slice(0, at)}${changed}${valid.slice(at + 1)}`;
        expect(isValidAadhaar(corrupted)).toBe(false);
      }),
    );
  });

  it('catches every adjacent transposition', () => {
    fc.assert(
      fc.property(aadhaarPayload, fc.integer({ min: 1, max: 10 }), (payload, at) => {
        const valid = withCheckDigit(payload);
        fc.pre(valid[at] !== valid[at + 1]);
        const swapped = `${valid.slice(0, at)}${valid[at + 1]}${valid[at]}${valid.slice(at + 2)}`;
        expect(isValidAadhaar(swapped)).toBe(false);
      }),
    );
  });

  it('refuses a first digit of 0 or 1 even with a valid check digit', () => {
    const zero = withCheckDigit('03634595401');
    const one = withCheckDigit('13634595401');
    expect(referenceIsValid(zero)).toBe(true);
    expect(referenceIsValid(one)).toBe(true);
    expect(isValidAadhaar(zero)).toBe(false);
    expect(isValidAadhaar(one)).toBe(false);
  });

  it.each([
    ['11 digits', '23634595401'],
    ['13 digits', '2363459540170'],
    ['spaces (normalize first)', '2363 4595 4017'],
    ['hyphens (normalize first)', '2363-4595-4017'],
    ['letters', '23634595401A'],
    ['non-ASCII digits', '२३६३४५९५४०१७'],
    ['empty', ''],
  ])('refuses %s', (_label, input) => {
    expect(isValidAadhaar(input)).toBe(false);
  });

  it('normalizes the separators people type', () => {
    expect(normalizeAadhaar('2363 4595 4017')).toBe('236345954017');
    expect(normalizeAadhaar('2363-4595-4017')).toBe('236345954017');
    expect(normalizeAadhaar(' 2363 - 4595\t4017 ')).toBe('236345954017');
    expect(isValidAadhaar(normalizeAadhaar('2363 4595 4017'))).toBe(true);
  });

  it('leaves other characters for the validator to refuse', () => {
    expect(normalizeAadhaar('2363.4595.4017')).toBe('2363.4595.4017');
  });

  it('masks all but the last four digits', () => {
    expect(maskAadhaar('236345954017')).toBe('XXXX-XXXX-4017');
    expect(maskAadhaar('2363 4595 4017')).toBe('XXXX-XXXX-4017');
  });

  it.each(['23634595401', '2363459540170', '23634595401A', ''])(
    'masks malformed input %j completely rather than leaking digits',
    (input) => {
      expect(maskAadhaar(input)).toBe('XXXX-XXXX-XXXX');
    },
  );

  it('never shows more than the last four digits', () => {
    fc.assert(
      fc.property(digitString(0, 20), (input) => {
        const masked = maskAadhaar(input);
        expect(masked.replace(/[^0-9]/g, '').length).toBeLessThanOrEqual(4);
      }),
    );
  });
});

describe('licence number', () => {
  it.each([
    ['5 characters', 'AB-12'],
    ['30 characters', 'A'.repeat(25) + '12/3-'],
    ['lowercase and slashes', 'irdai/agent/2024-0001'],
    ['digits only', '1234567'],
  ])('accepts %s', (_label, licence) => {
    expect(isValidLicenceNumber(licence)).toBe(true);
  });

  it.each([
    ['4 characters', 'AB12'],
    ['31 characters', 'A'.repeat(31)],
    ['space', 'AB 1234'],
    ['other punctuation', 'AB_1234'],
    ['backslash', 'AB\\1234'],
    ['non-ASCII letter', 'ÄB1234'],
    ['trailing newline', 'AB1234\n'],
    ['empty', ''],
  ])('refuses %s', (_label, licence) => {
    expect(isValidLicenceNumber(licence)).toBe(false);
  });

  it('has exactly the documented length bounds', () => {
    expect(isValidLicenceNumber('x'.repeat(4))).toBe(false);
    expect(isValidLicenceNumber('x'.repeat(5))).toBe(true);
    expect(isValidLicenceNumber('x'.repeat(30))).toBe(true);
    expect(isValidLicenceNumber('x'.repeat(31))).toBe(false);
  });
});

describe('IFSC', () => {
  it.each(['SBIN0001234', 'HDFC0ABC123', 'ICIC0000001'])('accepts %s', (ifsc) => {
    expect(isValidIfsc(ifsc)).toBe(true);
  });

  it.each([
    ['5th character not 0', 'SBIN1001234'],
    ['lowercase', 'sbin0001234'],
    ['too short', 'SBIN000123'],
    ['too long', 'SBIN00012345'],
    ['digit in bank code', 'SB1N0001234'],
    ['punctuation in branch code', 'SBIN000-234'],
    ['empty', ''],
  ])('refuses %s', (_label, ifsc) => {
    expect(isValidIfsc(ifsc)).toBe(false);
  });
});
