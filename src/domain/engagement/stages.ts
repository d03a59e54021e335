/**
 * The engagement stage model: an ordered list of stages, each with a rule over computed traits. A
 * profile is in the first stage whose rule it passes; the last stage has no rule and takes everyone
 * else, so every profile is in exactly one stage. Rules may look at the current and previous stage
 * (that is how "reactivated" works) but not at segments, so stages can be evaluated before segments.
 */
export interface StageSource {
  readonly name: string;
  readonly label?: string;
  readonly description?: string;
  /** rule JSON (see rules/schema.ts); absent on the last stage only */
  readonly rule?: unknown;
}

export interface StageModelSource {
  readonly stages: readonly StageSource[];
}

const recentlySeen = { computed: 'days_since_last_seen', op: 'lte', value: 30 };

/** The default ladder. Its thresholds are the ones most CEP teams start from; every workspace can edit them. */
export const DEFAULT_STAGE_MODEL: StageModelSource = {
  stages: [
    {
      name: 'loyal',
      label: 'Loyal',
      description: 'Bought at least 3 times in the last year and seen in the last 30 days.',
      rule: { and: [{ computed: 'purchases_365d', op: 'gte', value: 3 }, recentlySeen] },
    },
    {
      name: 'reactivated',
      label: 'Reactivated',
      description: 'Came back after being dormant or churned; stays here for 30 days.',
      rule: {
        and: [
          recentlySeen,
          {
            or: [
              { stage: { in: ['dormant', 'churned'] } },
              { and: [{ stage: 'reactivated' }, { computed: 'days_in_stage', op: 'lte', value: 30 }] },
            ],
          },
        ],
      },
    },
    {
      name: 'new',
      label: 'New',
      description: 'First seen in the last 14 days.',
      rule: { computed: 'days_since_first_seen', op: 'lte', value: 14 },
    },
    { name: 'active', label: 'Active', description: 'Seen in the last 30 days.', rule: recentlySeen },
    {
      name: 'at_risk',
      label: 'At risk',
      description: 'Last seen 31 to 60 days ago.',
      rule: { computed: 'days_since_last_seen', op: 'lte', value: 60 },
    },
    {
      name: 'dormant',
      label: 'Dormant',
      description: 'Last seen 61 to 180 days ago.',
      rule: { computed: 'days_since_last_seen', op: 'lte', value: 180 },
    },
    { name: 'churned', label: 'Churned', description: 'Not seen for more than 180 days.' },
  ],
};
