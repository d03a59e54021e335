import { hex8, mix32 } from './random.js';

/**
 * Deterministic identifiers for the demo, in the formats real Segment SDKs produce.
 *
 * Contract: within one seed, ids are unique by construction, not by chance. Each id encodes
 * (customer, sequence, namespace) through bijections, and all 96 bits of that encoding survive
 * into the printed id; so two different triples can never print the same id. Ids from
 * different seeds are scrambled by the seed and collide only with negligible probability.
 */

/** Where a message was sent from; decides the id format and the context an SDK attaches. */
export type Source = 'web' | 'ios' | 'android' | 'server';

/** Namespaces keep the kinds of id apart: a message's sequence number never yields an anonymousId. */
const NS_MESSAGE = 1;
const NS_ANONYMOUS = 2;
const NS_ORDER = 3;
const NS_USER = 4;
const NS_COMPANY = 5;

const VARIANT = '89ab';

export class DemoIds {
  private readonly seedWord: number;

  constructor(seed: number) {
    this.seedWord = mix32(seed ^ 0x5eed5eed);
  }

  /**
   * 96 bits that identify (customer, seq, ns) one-to-one for this seed, plus 32 filler bits.
   * a is a bijection of customer, b of seq given a, c of ns given the seed; then four Feistel-like
   * steps, each xoring one word with a function of the other two (so each step can be undone),
   * spread every input bit over all 96 so ids of one customer share no visible prefix.
   */
  private words(customer: number, seq: number, ns: number): [string, number] {
    let a = mix32(customer ^ this.seedWord);
    let b = mix32((seq + a) >>> 0);
    let c = mix32(this.seedWord ^ ns);
    a = (a ^ mix32((b + c) >>> 0)) >>> 0;
    c = (c ^ mix32(a ^ b)) >>> 0;
    b = (b ^ mix32((a + c) >>> 0)) >>> 0;
    a = (a ^ mix32(b ^ c)) >>> 0;
    return [hex8(a) + hex8(b) + hex8(c), mix32(a ^ b ^ c ^ 0x2545f491)];
  }

  /** A version-4-shaped UUID that keeps all 96 identifying bits (24 hex digits) of `words`. */
  private uuid(customer: number, seq: number, ns: number): string {
    const [h, w3] = this.words(customer, seq, ns);
    const tail = hex8(w3);
    return (
      `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-` +
      `${VARIANT[w3 & 3] ?? '8'}${h.slice(15, 18)}-${h.slice(18, 24)}${tail.slice(0, 6)}`
    );
  }

  /**
   * The messageId each SDK would generate: analytics.js `ajs-next-<32 hex>`, analytics-node
   * `node-next-<uuid>` (the real one also embeds the send time; left out so that ids depend on the
   * seed and the message's position alone, and a re-run at a later `now` dedups against the first),
   * iOS an upper-case UUID, Android a lower-case one.
   */
  messageId(source: Source, customer: number, seq: number): string {
    switch (source) {
      case 'web': {
        const [h, w3] = this.words(customer, seq, NS_MESSAGE);
        return `ajs-next-${h}${hex8(w3)}`;
      }
      case 'server':
        return `node-next-${this.uuid(customer, seq, NS_MESSAGE)}`;
      case 'ios':
        return this.uuid(customer, seq, NS_MESSAGE).toUpperCase();
      case 'android':
        return this.uuid(customer, seq, NS_MESSAGE);
    }
  }

  /** An SDK's anonymousId; `device` numbers the customer's browsers and phones. */
  anonymousId(customer: number, device: number, upper = false): string {
    const id = this.uuid(customer, device, NS_ANONYMOUS);
    return upper ? id.toUpperCase() : id;
  }

  /** The shop's own user id: an opaque token, unique per customer within the seed. */
  userId(customer: number): string {
    return `usr_${this.words(customer, 0, NS_USER)[0]}`;
  }

  /** Order ids: unique per (customer, order number) within the seed. */
  orderId(customer: number, n: number): string {
    return `ord_${this.words(customer, n, NS_ORDER)[0].toUpperCase()}`;
  }

  /** Company (group) ids are shared between customers of one company, so they depend only on it. */
  groupId(company: number): string {
    return `org_${this.words(company, 0, NS_COMPANY)[0]}`;
  }
}
