import { createContext, type ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import { en, type MessageKey } from './locales/en.js';
import { ja } from './locales/ja.js';

export type Locale = 'en' | 'ja';
export const LOCALES: Locale[] = ['en', 'ja'];
const DICTS = { en, ja } as const;

export type T = (key: MessageKey, params?: Record<string, string | number>) => string;

/** Looks a key up and fills `{name}` placeholders; numbers are formatted for the locale. */
export function translate(locale: Locale, key: MessageKey, params?: Record<string, string | number>): string {
  // A key from outside the dictionaries (a role the server added later) shows as itself.
  const text: string = (DICTS[locale] as Record<string, string | undefined>)[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = params[name];
    if (v === undefined) return m;
    return typeof v === 'number' ? v.toLocaleString(locale) : v;
  });
}

interface LocaleState {
  locale: Locale;
  setLocale: (l: Locale) => void;
}

const LocaleContext = createContext<LocaleState>({ locale: 'en', setLocale: () => undefined });

export function LocaleProvider(props: LocaleState & { children: ComponentChildren }) {
  return (
    <LocaleContext.Provider value={{ locale: props.locale, setLocale: props.setLocale }}>
      {props.children}
    </LocaleContext.Provider>
  );
}

export function useLocale(): LocaleState {
  return useContext(LocaleContext);
}

export function useT(): T {
  const { locale } = useContext(LocaleContext);
  return (key, params) => translate(locale, key, params);
}

/** The browser's preference before anyone signs in. */
export function browserLocale(): Locale {
  return navigator.language.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

export function formatNumber(locale: Locale, n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return n.toLocaleString(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatDate(locale: Locale, iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}
