import {
  DESKTOP_USER_AGENTS,
  EMAIL_DOMAINS,
  JP_FAMILY_NAMES,
  JP_GIVEN_NAMES,
  MOBILE_USER_AGENTS,
  REGIONS,
  WESTERN_FAMILY_NAMES,
  WESTERN_GIVEN_NAMES,
  type Region,
} from './catalog.js';
import type { DemoIds } from './ids.js';
import type { Rng } from './random.js';

/** Who one demo customer is: stable facts every message of theirs draws on. */
export interface Person {
  readonly index: number;
  readonly userId: string;
  readonly firstName: string;
  readonly lastName: string;
  /** Display name in the customer's own order: family name first for Japanese names. */
  readonly name: string;
  readonly email: string;
  readonly phone: string | undefined;
  readonly region: Region;
  readonly city: string;
  readonly currency: 'JPY' | 'USD';
  readonly ip: string;
  readonly userAgent: string;
}

const TEST_NETS = ['192.0.2', '198.51.100', '203.0.113'] as const;

/**
 * Contract: e-mail and phone are unique per customer index (both are identity keys, and two demo
 * customers sharing one would be merged into one profile by identity resolution). The e-mail's
 * local part ends in the index, and names contain no digits, so the trailing digits tell customers
 * apart; phones encode the index for up to eight million customers.
 */
export function createPerson(rng: Rng, index: number, ids: DemoIds): Person {
  const region = REGIONS.pick(rng);
  let firstName: string;
  let lastName: string;
  let name: string;
  let local: string;
  if (region.japanese) {
    const [familyRomaji, familyKanji] = rng.pick(JP_FAMILY_NAMES);
    const [givenRomaji, givenKanji] = rng.pick(JP_GIVEN_NAMES);
    firstName = givenKanji;
    lastName = familyKanji;
    name = `${familyKanji} ${givenKanji}`;
    local = emailLocal(rng, givenRomaji, familyRomaji, index);
  } else {
    firstName = rng.pick(WESTERN_GIVEN_NAMES);
    lastName = rng.pick(WESTERN_FAMILY_NAMES);
    name = `${firstName} ${lastName}`;
    local = emailLocal(rng, ascii(firstName), ascii(lastName), index);
  }
  const mobileWeb = rng.chance(region.japanese ? 0.6 : 0.45);
  return {
    index,
    userId: ids.userId(index),
    firstName,
    lastName,
    name,
    email: `${local}@${rng.pick(EMAIL_DOMAINS)}`,
    phone: rng.chance(0.35) ? phoneNumber(region, index) : undefined,
    region,
    city: rng.pick(region.cities),
    // The international storefront prices in dollars; some overseas customers still pay in yen.
    currency: !region.japanese && rng.chance(0.7) ? 'USD' : 'JPY',
    ip: `${rng.pick(TEST_NETS)}.${rng.int(1, 254)}`,
    userAgent: mobileWeb ? rng.pick(MOBILE_USER_AGENTS) : rng.pick(DESKTOP_USER_AGENTS),
  };
}

function emailLocal(rng: Rng, given: string, family: string, index: number): string {
  switch (rng.int(0, 3)) {
    case 0:
      return `${given}.${family}${index}`;
    case 1:
      return `${given.charAt(0)}${family}${index}`;
    case 2:
      return `${family}_${given}${index}`;
    default:
      return `${given}${index}`;
  }
}

function ascii(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

const COUNTRY_CODES: Readonly<Record<string, string>> = { GB: '44', DE: '49', FR: '33', AU: '61' };

/** Country codes are prefix-free (E.164), so numbers from different countries never coincide. */
function phoneNumber(region: Region, index: number): string {
  const n = index % 8_000_000;
  if (region.country === 'JP') {
    const digits = String(n).padStart(8, '0');
    return `+81-90-${digits.slice(0, 4)}-${digits.slice(4)}`;
  }
  if (region.country === 'US') {
    return `+1-${200 + Math.floor(n / 10_000)}-555-${String(n % 10_000).padStart(4, '0')}`;
  }
  return `+${COUNTRY_CODES[region.country] ?? '44'}-7${String(n).padStart(9, '0')}`;
}
