/**
 * The visual builder's model of a segment rule (docs/segments.md, "Rule language"): a list of
 * conditions joined by all/any. Each row becomes one condition of the JSON rule language; rules
 * the rows cannot express are edited as JSON instead.
 */
export type Kind = 'trait' | 'computed' | 'event' | 'not_event' | 'stage' | 'has';

export interface Row {
  kind: Kind;
  field: string;
  op: string;
  value: string;
  days: string;
}

export const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'starts_with', 'exists', 'not_exists'];
export const IDENTITIES = ['email', 'phone', 'user_id', 'anonymous_id', 'push_token'];

export function newRow(kind: Kind): Row {
  switch (kind) {
    case 'computed':
      return { kind, field: 'purchase_count', op: 'gte', value: '1', days: '' };
    case 'event':
      return { kind, field: 'Order Completed', op: 'gte', value: '1', days: '30' };
    case 'not_event':
      return { kind, field: 'Order Completed', op: '', value: '', days: '30' };
    case 'stage':
      return { kind, field: 'active', op: '', value: '', days: '' };
    case 'has':
      return { kind, field: 'email', op: '', value: '', days: '' };
    case 'trait':
      return { kind, field: 'plan', op: 'eq', value: '', days: '' };
  }
}

/** A typed value: numbers, true/false and null are JSON values; anything else a string. */
function value(text: string): unknown {
  const s = text.trim();
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s === 'null') return null;
  if (s !== '' && !Number.isNaN(Number(s))) return Number(s);
  return text;
}

const within = (days: string) => (days.trim() ? { within: { days: Number(days) } } : {});

export function rowToRule(r: Row): unknown {
  const unary = r.op === 'exists' || r.op === 'not_exists';
  switch (r.kind) {
    case 'trait':
      return { trait: r.field, op: r.op, ...(unary ? {} : { value: value(r.value) }) };
    case 'computed':
      return { computed: r.field, op: r.op, ...(unary ? {} : { value: value(r.value) }) };
    case 'event':
      return { event: r.field, count: { op: r.op, value: value(r.value) }, ...within(r.days) };
    case 'not_event':
      return { event: r.field, performed: false, ...within(r.days) };
    case 'stage':
      return {
        stage: {
          in: r.field
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        },
      };
    case 'has':
      return { has: r.field };
  }
}

export function rowsToRule(join: 'and' | 'or', rows: Row[]): unknown {
  if (rows.length === 1) return rowToRule(rows[0] as Row);
  return { [join]: rows.map(rowToRule) };
}
