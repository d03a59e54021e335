import { Weighted } from './random.js';

/**
 * The fixed world the demo shop lives in: what it sells, who its customers are, what they browse
 * with. Everything that could reach a real person uses reserved names: shop and e-mail domains
 * under example.com/.net/.org and the `.example` TLD (RFC 2606), IPs from the documentation ranges
 * (RFC 5737), so a demo workspace that sends e-mail or looks up IPs never touches anyone.
 *
 * The tables are kept one row per line (prettier-ignore) so they read as tables.
 */

export const SHOP_URL = 'https://shop.example.com';
export const SHOP_TITLE = 'Kizuna Shop';

/** URL-safe lower-case form of a name: "Maple & Co." → "maple-co". */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/(^-|-$)/g, '');
}

export interface Product {
  readonly product_id: string;
  readonly sku: string;
  readonly name: string;
  readonly category: string;
  /** Tax-inclusive price in yen, as Japanese shops display it. */
  readonly priceJpy: number;
  readonly slug: string;
}

// prettier-ignore
const PRODUCT_ROWS: readonly (readonly [string, string, string, number])[] = [
  ['TEA', 'Tea', 'Uji Matcha 30g', 2480],
  ['TEA', 'Tea', 'Gyokuro Leaf Tea 100g', 3240],
  ['TEA', 'Tea', 'Hojicha Tea Bags (20)', 980],
  ['TEA', 'Tea', 'Genmaicha 200g', 1280],
  ['TEA', 'Tea', 'Sencha Gift Box', 5400],
  ['CER', 'Ceramics', 'Arita Porcelain Mug', 3850],
  ['CER', 'Ceramics', 'Mino Ware Rice Bowl', 1980],
  ['CER', 'Ceramics', 'Hagi Ware Teacup Pair', 6600],
  ['CER', 'Ceramics', 'Tokoname Kyusu Teapot', 8800],
  ['CER', 'Ceramics', 'Bizen Sake Set', 16500],
  ['KIT', 'Kitchen', 'Santoku Knife 165mm', 12800],
  ['KIT', 'Kitchen', 'Hinoki Cutting Board', 4950],
  ['KIT', 'Kitchen', 'Cast Iron Tetsubin', 19800],
  ['KIT', 'Kitchen', 'Bamboo Chopsticks (5 pairs)', 1100],
  ['KIT', 'Kitchen', 'Donabe Clay Pot', 7480],
  ['APP', 'Apparel', 'Indigo Linen Shirt', 9900],
  ['APP', 'Apparel', 'Tenugui Towel', 1320],
  ['APP', 'Apparel', 'Cotton Yukata', 14300],
  ['APP', 'Apparel', 'Tabi Socks (3 pairs)', 1650],
  ['APP', 'Apparel', 'Canvas Tote Bag', 3300],
  ['STA', 'Stationery', 'Washi Notebook A5', 1540],
  ['STA', 'Stationery', 'Fountain Pen, Urushi', 22000],
  ['STA', 'Stationery', 'Sumi Ink Set', 2750],
  ['STA', 'Stationery', 'Washi Tape (10 rolls)', 1210],
  ['BEA', 'Beauty', 'Camellia Hair Oil', 2090],
  ['BEA', 'Beauty', 'Rice Bran Face Wash', 1430],
  ['BEA', 'Beauty', 'Yuzu Bath Salts', 1760],
  ['BEA', 'Beauty', 'Konjac Sponge', 770],
  ['HOM', 'Home', 'Noren Curtain', 6380],
  ['HOM', 'Home', 'Furoshiki Wrapping Cloth', 2200],
  ['HOM', 'Home', 'Incense Sticks, Kyoto', 1650],
  ['HOM', 'Home', 'Buckwheat Pillow', 8250],
];

export const PRODUCTS: readonly Product[] = PRODUCT_ROWS.map(([code, category, name, priceJpy], i) => ({
  product_id: `p_${1001 + i}`,
  sku: `${code}-${String(1001 + i)}`,
  name,
  category,
  priceJpy,
  slug: slug(name),
}));

/** Zipf-like popularity: a few best sellers, a long tail, like any shop's sales ranking. */
export const POPULAR_PRODUCTS = new Weighted(PRODUCTS.map((p, i) => [p, 1 / ((i % 11) + 1)] as const));

// prettier-ignore
export const SEARCH_TERMS = [
  'matcha', 'teapot', 'gift', 'knife', 'mug', 'yukata', 'sale', 'notebook', 'tea set', 'furoshiki',
  'お茶', '急須', '湯呑み', 'ギフト', '包丁', 'タオル',
] as const;

// prettier-ignore
/** [romaji, kanji] pairs: e-mail addresses use the romaji, names the kanji. */
export const JP_FAMILY_NAMES = [
  ['sato', '佐藤'], ['suzuki', '鈴木'], ['takahashi', '高橋'], ['tanaka', '田中'], ['watanabe', '渡辺'],
  ['ito', '伊藤'], ['yamamoto', '山本'], ['nakamura', '中村'], ['kobayashi', '小林'], ['kato', '加藤'],
  ['yoshida', '吉田'], ['yamada', '山田'], ['sasaki', '佐々木'], ['yamaguchi', '山口'], ['matsumoto', '松本'],
  ['inoue', '井上'], ['kimura', '木村'], ['hayashi', '林'], ['shimizu', '清水'], ['mori', '森'],
] as const;

// prettier-ignore
export const JP_GIVEN_NAMES = [
  ['yuki', '由紀'], ['haruto', '陽翔'], ['sota', '蒼太'], ['yui', '結衣'], ['aoi', '葵'],
  ['hina', '陽菜'], ['ren', '蓮'], ['kenji', '健二'], ['akiko', '明子'], ['takumi', '拓海'],
  ['sakura', 'さくら'], ['daiki', '大輝'], ['misaki', '美咲'], ['riku', '陸'], ['naoko', '直子'],
  ['hiroshi', '博'], ['emi', '恵美'], ['kaito', '海斗'], ['mei', '芽衣'], ['shota', '翔太'],
] as const;

// prettier-ignore
export const WESTERN_GIVEN_NAMES = [
  'Emma', 'Liam', 'Olivia', 'Noah', 'Ava', 'James', 'Sophia', 'Lucas', 'Mia', 'Ethan',
  'Charlotte', 'Oliver', 'Amelia', 'Henry', 'Chloe', 'Jack', 'Lena', 'Felix', 'Claire', 'Marco',
] as const;

// prettier-ignore
export const WESTERN_FAMILY_NAMES = [
  'Smith', 'Johnson', 'Brown', 'Miller', 'Davis', 'Wilson', 'Taylor', 'Anderson', 'Thomas', 'Moore',
  'Martin', 'Clark', 'Müller', 'Schmidt', 'Dubois', 'Rossi', 'Walker', 'Young', 'King', 'Wright',
] as const;

// prettier-ignore
export const EMAIL_DOMAINS = [
  'example.com', 'example.net', 'example.org', 'mail.example', 'mobile.example',
] as const;

export interface Region {
  readonly locale: string;
  readonly timezone: string;
  /** Standard-time UTC offset in minutes; daylight saving is ignored, an hour off is fine here. */
  readonly offsetMin: number;
  readonly country: string;
  readonly cities: readonly string[];
  readonly japanese: boolean;
}

// prettier-ignore
/** Mostly a domestic Japanese shop with an international storefront. */
export const REGIONS = new Weighted<Region>([
  [{ locale: 'ja-JP', timezone: 'Asia/Tokyo', offsetMin: 540, country: 'JP', cities: ['Tokyo', 'Osaka', 'Yokohama', 'Nagoya', 'Fukuoka', 'Sapporo', 'Kyoto'], japanese: true }, 72],
  [{ locale: 'en-US', timezone: 'America/New_York', offsetMin: -300, country: 'US', cities: ['New York', 'Boston'], japanese: false }, 8],
  [{ locale: 'en-US', timezone: 'America/Los_Angeles', offsetMin: -480, country: 'US', cities: ['Los Angeles', 'Seattle'], japanese: false }, 7],
  [{ locale: 'en-GB', timezone: 'Europe/London', offsetMin: 0, country: 'GB', cities: ['London', 'Manchester'], japanese: false }, 5],
  [{ locale: 'de-DE', timezone: 'Europe/Berlin', offsetMin: 60, country: 'DE', cities: ['Berlin', 'Munich'], japanese: false }, 3],
  [{ locale: 'fr-FR', timezone: 'Europe/Paris', offsetMin: 60, country: 'FR', cities: ['Paris', 'Lyon'], japanese: false }, 2],
  [{ locale: 'en-AU', timezone: 'Australia/Sydney', offsetMin: 600, country: 'AU', cities: ['Sydney', 'Melbourne'], japanese: false }, 3],
]);

// prettier-ignore
/** Relative likelihood of a session starting at each local hour: quiet nights, lunch and evening peaks. */
export const HOUR_WEIGHTS = new Weighted(
  [1, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2, 2, 2.2, 2.6, 3.4, 2.8, 2.2, 2.2, 2.4, 2.6, 3, 3.8, 4.4, 4.6, 3.8, 2.2].map(
    (w, hour) => [hour, w] as const,
  ),
);

export const DESKTOP_USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
] as const;

export const MOBILE_USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
] as const;

export interface Phone {
  readonly platform: 'ios' | 'android';
  readonly manufacturer: string;
  readonly model: string;
  readonly osVersion: string;
}

// prettier-ignore
/** iPhones dominate the Japanese market; Android models include domestic makers. */
export const PHONES = new Weighted<Phone>([
  [{ platform: 'ios', manufacturer: 'Apple', model: 'iPhone15,2', osVersion: '17.4.1' }, 22],
  [{ platform: 'ios', manufacturer: 'Apple', model: 'iPhone14,5', osVersion: '17.2' }, 20],
  [{ platform: 'ios', manufacturer: 'Apple', model: 'iPhone16,1', osVersion: '17.5' }, 18],
  [{ platform: 'android', manufacturer: 'samsung', model: 'SM-S911B', osVersion: '14' }, 12],
  [{ platform: 'android', manufacturer: 'Google', model: 'Pixel 8', osVersion: '14' }, 10],
  [{ platform: 'android', manufacturer: 'Sony', model: 'SO-51D', osVersion: '13' }, 9],
  [{ platform: 'android', manufacturer: 'SHARP', model: 'SH-53D', osVersion: '13' }, 9],
]);

export const APP = {
  name: 'Kizuna Shop',
  version: '3.4.1',
  build: '341',
  namespace: 'com.example.shop',
} as const;

export const LIBRARIES = {
  web: { name: 'analytics.js', version: 'npm:next-1.70.0' },
  ios: { name: 'analytics-ios', version: '4.1.8' },
  android: { name: 'analytics-android', version: '4.11.3' },
  server: { name: '@segment/analytics-node', version: '2.3.0' },
} as const;

export interface Campaign {
  readonly source: string;
  readonly medium: string;
  readonly name: string;
  readonly referrer: string;
}

// prettier-ignore
export const CAMPAIGNS: readonly Campaign[] = [
  { source: 'google', medium: 'cpc', name: 'brand_search', referrer: 'https://www.google.com/' },
  { source: 'google', medium: 'cpc', name: 'matcha_generic', referrer: 'https://www.google.com/' },
  { source: 'yahoo', medium: 'cpc', name: 'spring_sale', referrer: 'https://search.yahoo.co.jp/' },
  { source: 'instagram', medium: 'social', name: 'new_arrivals', referrer: 'https://l.instagram.com/' },
  { source: 'line', medium: 'social', name: 'friends_coupon', referrer: 'https://line.me/' },
  { source: 'affiliate', medium: 'referral', name: 'tea_blog', referrer: 'https://blog.example.org/' },
];

export const NEWSLETTERS = [
  { id: 'cmp_spring', name: 'Spring collection', subject: 'New season, new tea' },
  { id: 'cmp_restock', name: 'Back in stock', subject: 'Your favourites are back' },
  { id: 'cmp_weekly', name: 'Weekly picks', subject: "This week's picks from Kyoto" },
  { id: 'cmp_sale', name: 'Members sale', subject: 'Members-only: 15% off this weekend' },
] as const;

export const COUPONS = [
  { coupon_id: 'WELCOME10', name: 'Welcome 10% off', percent: 10 },
  { coupon_id: 'MEMBERS15', name: 'Members sale 15% off', percent: 15 },
  { coupon_id: 'LINE500', name: 'LINE friends 5%', percent: 5 },
] as const;

// prettier-ignore
export const COMPANIES = [
  ['Sakura Trading', 'Wholesale', 40], ['Hoshino Design Studio', 'Design', 12], ['Northwind Traders', 'Retail', 85],
  ['Kumo Systems', 'Software', 230], ['Blue Harbor Cafe', 'Hospitality', 18], ['Tsubame Logistics', 'Logistics', 520],
  ['Maple & Co.', 'Retail', 9], ['Yamato Kitchen Supply', 'Restaurants', 64], ['Lindqvist Hotels', 'Hospitality', 310],
  ['Kaze Architects', 'Architecture', 27], ['Minato Gift Service', 'Corporate gifts', 15], ['Aurora Spa Group', 'Wellness', 140],
] as const;
