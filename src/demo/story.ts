import {
  APP,
  COMPANIES,
  COUPONS,
  NEWSLETTERS,
  POPULAR_PRODUCTS,
  SEARCH_TERMS,
  SHOP_URL,
  slug,
  type Campaign,
  type Product,
} from './catalog.js';
import type { DemoIds } from './ids.js';
import { ServerTouchpoint, WebTouchpoint, type CustomerLog, type Touchpoint } from './log.js';
import type { Person } from './person.js';
import type { Rng } from './random.js';

const DAY = 86_400_000;

/**
 * The scripted visits one customer makes: browse, shop and pay, sign up, install the app, read a
 * newsletter. Each method runs one visit at the log's session clock and moves it forward.
 *
 * Money contract (Segment e-commerce spec, Japanese tax-inclusive prices): `total` is what the
 * customer paid (goods after discount, plus shipping); `tax` is the consumption tax included in the
 * goods; `revenue` is goods after discount, without tax and shipping. Yen amounts are integers,
 * dollar amounts have at most two decimals.
 */
export class Story {
  readonly server: ServerTouchpoint;
  private orders = 0;
  private carts = 0;

  constructor(
    private readonly log: CustomerLog,
    private readonly rng: Rng,
    private readonly ids: DemoIds,
    private readonly person: Person,
  ) {
    this.server = new ServerTouchpoint(person.userId);
  }

  /** A visit that looks around; one in five leaves something in the cart (cart abandonment). */
  browse(tp: Touchpoint, campaign?: Campaign): void {
    const { rng, log } = this;
    this.open(tp, campaign);
    if (rng.chance(0.3)) this.search(tp);
    const views = 1 + Math.min(4, Math.floor(rng.exp(0.8)));
    let last: Product | undefined;
    for (let i = 0; i < views; i++) last = this.viewProduct(tp);
    if (last && rng.chance(0.2)) {
      log.pause(rng, 5, 40);
      log.track(tp, 'Product Added', { cart_id: this.cartId(), ...this.item(last, 1) });
    }
    this.close(tp);
  }

  /**
   * A visit that buys, though now and then the customer walks away at checkout: real shops see that
   * often enough that journeys are built for it.
   */
  shop(tp: Touchpoint, campaign?: Campaign): void {
    const { rng, log, person } = this;
    const currency = person.currency;
    this.open(tp, campaign);
    if (rng.chance(0.25)) this.search(tp);
    const cartId = this.cartId();
    const lines: Record<string, unknown>[] = [];
    let subtotal = 0;
    const n = 1 + Math.min(3, Math.floor(rng.exp(0.7)));
    for (let i = 0; i < n; i++) {
      const p = this.viewProduct(tp);
      if (lines.some((l) => l['product_id'] === p.product_id)) continue;
      const quantity = rng.chance(0.15) ? 2 : 1;
      log.pause(rng, 5, 40);
      log.track(tp, 'Product Added', { cart_id: cartId, ...this.item(p, quantity) });
      lines.push(this.item(p, quantity));
      subtotal += this.minor(p) * quantity;
    }
    log.pause(rng, 10, 60);
    log.view(tp, 'Cart', '/cart', 'Cart');
    log.track(tp, 'Cart Viewed', { cart_id: cartId, products: lines.map((l) => ({ ...l })) });
    const orderId = this.ids.orderId(person.index, ++this.orders);
    log.pause(rng, 10, 60);
    log.view(tp, 'Checkout', '/checkout', 'Checkout');
    const value = this.major(subtotal);
    log.track(tp, 'Checkout Started', {
      order_id: orderId,
      value,
      revenue: value,
      currency,
      products: lines.map((l) => ({ ...l })),
    });
    if (rng.chance(0.08)) return;
    let discount = 0;
    let coupon: string | undefined;
    if (rng.chance(0.15)) {
      const c = rng.pick(COUPONS);
      coupon = c.coupon_id;
      discount = Math.floor((subtotal * c.percent) / 100);
      log.pause(rng, 10, 30);
      log.track(tp, 'Coupon Applied', {
        order_id: orderId,
        cart_id: cartId,
        coupon_id: c.coupon_id,
        coupon_name: c.name,
        discount: this.major(discount),
      });
    }
    const goods = subtotal - discount;
    const yen = currency === 'JPY';
    const shipping = yen ? (goods >= 5000 ? 0 : 550) : goods >= 10_000 ? 0 : 1500;
    const tax = yen ? Math.floor((goods * 10) / 110) : 0;
    const total = this.major(goods + shipping);
    log.pause(rng, 30, 180);
    log.track(tp, 'Order Completed', {
      checkout_id: cartId,
      order_id: orderId,
      affiliation: tp instanceof WebTouchpoint ? 'web' : 'app',
      total,
      revenue: this.major(goods - tax),
      shipping: this.major(shipping),
      tax: this.major(tax),
      discount: this.major(discount),
      ...(coupon !== undefined && { coupon }),
      currency,
      products: lines,
    });
    log.view(tp, 'Order Confirmation', '/checkout/complete', 'Thank you');
    if (rng.chance(0.05)) {
      const returnedAt = log.t + Math.round(rng.between(2, 14) * DAY);
      log.trackAt(this.server, returnedAt, 'Order Refunded', {
        order_id: orderId,
        total,
        currency,
        products: lines.map((l) => ({ ...l })),
      });
    }
    this.close(tp);
  }

  /**
   * Registration on the web: the call that ties the anonymous browsing to a known customer.
   * `sameVisit` continues the visit in progress instead of starting a new one.
   */
  signUp(tp: WebTouchpoint, traits: Record<string, unknown>, viaAlias: boolean, sameVisit: boolean): void {
    const { rng, log } = this;
    if (!sameVisit) this.open(tp, undefined);
    log.pause(rng, 5, 60);
    log.view(tp, 'Sign Up', '/signup', 'Create your account');
    log.pause(rng, 30, 180);
    // Some older integrations link the ids with an explicit alias before identifying.
    if (viaAlias) log.alias(tp, tp.anonymousId);
    log.identify(tp, { ...traits, createdAt: new Date(log.t).toISOString() });
    log.track(tp, 'Signed Up', { method: rng.pick(['email', 'email', 'google', 'apple', 'line']) });
    log.pause(rng, 2, 10);
    log.view(tp, 'Account', '/account', 'My account');
  }

  /** A business customer's account is linked to their company, as B2B shops do at sign-up. */
  joinCompany(tp: Touchpoint, company: number): void {
    const [name, industry, employees] = COMPANIES[company % COMPANIES.length] ?? COMPANIES[0];
    this.log.pause(this.rng, 5, 30);
    this.log.group(tp, this.ids.groupId(company), {
      name,
      industry,
      employees,
      plan: 'business',
      website: `https://${slug(name)}.example`,
    });
  }

  /** First launch of the app: anonymous until the customer logs in, then identified. */
  installApp(tp: Touchpoint): void {
    const { rng, log, person } = this;
    const version = { version: APP.version, build: APP.build };
    log.track(tp, 'Application Installed', version);
    log.pause(rng, 1, 3);
    log.track(tp, 'Application Opened', { from_background: false, ...version });
    log.view(tp, 'Welcome', '/welcome', 'Welcome');
    log.pause(rng, 10, 60);
    log.view(tp, 'Login', '/login', 'Log in');
    log.pause(rng, 10, 40);
    log.identify(tp, { email: person.email });
    log.track(tp, 'Signed In', { method: 'email' });
    const views = rng.int(0, 2);
    for (let i = 0; i < views; i++) this.viewProduct(tp);
    this.close(tp);
  }

  /** A newsletter sent by the shop's back end; returns whether the customer clicked through. */
  newsletter(k: number): boolean {
    const { rng, log } = this;
    const nl = rng.pick(NEWSLETTERS);
    const email = {
      email_id: `${nl.id}-${this.person.index}-${k}`,
      campaign_id: nl.id,
      campaign_name: nl.name,
    };
    log.track(this.server, 'Email Opened', { ...email, email_subject: nl.subject });
    if (!rng.chance(0.3)) return false;
    log.pause(rng, 5, 120);
    log.track(this.server, 'Email Link Clicked', {
      ...email,
      link_url: `${SHOP_URL}/?utm_campaign=${nl.id}`,
    });
    log.pause(rng, 2, 8);
    return true;
  }

  private open(tp: Touchpoint, campaign: Campaign | undefined): void {
    const { rng, log } = this;
    if (tp instanceof WebTouchpoint) {
      log.land(tp, campaign);
    } else {
      log.track(tp, 'Application Opened', {
        from_background: rng.chance(0.4),
        version: APP.version,
        build: APP.build,
      });
    }
    log.view(tp, 'Home', '/', 'Home');
  }

  private close(tp: Touchpoint): void {
    if (!(tp instanceof WebTouchpoint) && this.rng.chance(0.5)) {
      this.log.pause(this.rng, 20, 240);
      this.log.track(tp, 'Application Backgrounded', {});
    }
  }

  private search(tp: Touchpoint): void {
    const { rng, log } = this;
    const query = rng.pick(SEARCH_TERMS);
    log.pause(rng, 3, 20);
    log.track(tp, 'Products Searched', { query });
    log.view(tp, 'Search', `/search?q=${encodeURIComponent(query)}`, `Search: ${query}`);
  }

  private viewProduct(tp: Touchpoint): Product {
    const { rng, log } = this;
    const p = POPULAR_PRODUCTS.pick(rng);
    log.pause(rng, 5, 90);
    log.view(tp, 'Product', `/products/${p.slug}`, p.name, { category: p.category });
    log.track(tp, 'Product Viewed', {
      product_id: p.product_id,
      sku: p.sku,
      name: p.name,
      category: p.category,
      price: this.major(this.minor(p)),
      currency: this.person.currency,
      url: `${SHOP_URL}/products/${p.slug}`,
    });
    return p;
  }

  private item(p: Product, quantity: number): Record<string, unknown> {
    return {
      product_id: p.product_id,
      sku: p.sku,
      name: p.name,
      category: p.category,
      price: this.major(this.minor(p)),
      quantity,
    };
  }

  /** Unit price in minor units (yen, or cents); dollar prices end in .99 like a real storefront. */
  private minor(p: Product): number {
    return this.person.currency === 'JPY' ? p.priceJpy : Math.max(1, Math.round(p.priceJpy / 150)) * 100 - 1;
  }

  private major(minor: number): number {
    return this.person.currency === 'JPY' ? minor : minor / 100;
  }

  private cartId(): string {
    return `cart_${this.person.index.toString(36)}_${(++this.carts).toString(36)}`;
  }
}
