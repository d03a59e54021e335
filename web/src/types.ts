/** The admin API's answers, as far as the dashboard reads them (docs/*.md describe them in full). */

export interface Stage {
  name: string;
  label: string;
  description: string;
  rule?: unknown;
  profiles: number;
}

export interface Profile {
  id: string;
  userId: string | null;
  identities: { type: string; value: string }[];
  traits: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
  eventCount: number;
  stage: string | null;
  stageSince: string | null;
  segments: string[];
}

export interface Segment {
  id: string;
  name: string;
  description: string;
  rule: unknown;
  version: number;
  status: string;
  build: { done: number; total: number };
  size: number;
  updatedAt: string;
}

export interface Preview {
  count: number;
  estimated: boolean;
  exact: boolean;
  scanned: number;
  total: number;
  sample: string[];
}

export interface Journey {
  id: string;
  name: string;
  status: 'draft' | 'published' | 'paused' | 'archived';
  version: number;
  draft: JourneyDefinition;
  updatedAt: string;
  publishedAt: string | null;
}

export interface JourneyStep {
  type: string;
  next?: string;
  then?: string;
  else?: string;
  timeout_next?: string;
  otherwise?: string;
  branches?: { name: string; next: string }[];
  variants?: { name: string; percent: number; next: string; control?: boolean }[];
  [k: string]: unknown;
}

export interface JourneyDefinition {
  name: string;
  start: string;
  steps: Record<string, JourneyStep>;
  trigger?: unknown;
  goal?: unknown;
  [k: string]: unknown;
}

export interface JourneyStats {
  steps: Record<string, number>;
  entered: number;
  active: number;
  completed: number;
  exited: number;
  converted: number;
  daily: { day: string; entered: number; ended: number; converted: number }[];
}

/** Treatment against control (src/domain/stats/compare.ts). */
export interface Comparison {
  control: number;
  treatment: number;
  absolute: number;
  relative: number | null;
  interval: [number, number];
  pValue: number | null;
  significant: boolean;
  neededPerGroup: number | null;
  stillNeeded: number | null;
}

export interface Results {
  metric: string;
  groups: {
    arm: string | null;
    control: boolean;
    customers: number;
    conversions: number;
    conversionRate: number;
    revenue: number;
    revenuePerCustomer: number;
  }[];
  uplift: { conversion: Comparison; revenue: Comparison } | null;
  variants: { arm: string; against: string; conversion: Comparison; revenue: Comparison }[];
  winner: { arm: string; metric: string } | null;
  verdict: string;
}

export interface Message {
  key: string;
  journeyId: string;
  profileId: string;
  step: string;
  channel: string;
  template: string;
  status: string;
  reason: string | null;
  createdAt: string;
}

export interface Template {
  name: string;
  channel: string;
  default_locale: string;
  variants: Record<string, Record<string, string>>;
  defaults: Record<string, unknown>;
  version: number;
  updatedAt: string;
}

export interface Survey {
  id: string;
  name: string;
  status?: string;
  questions: { id: string; kind: string; text?: unknown }[];
}

export interface Feedback {
  id: string;
  source: string;
  author: string | null;
  profileId: string | null;
  text: string;
  sentiment: string | null;
  topics: string[];
  createdAt: string;
  surveyId?: string | null;
}
