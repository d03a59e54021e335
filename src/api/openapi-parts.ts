/** Pieces every part of the OpenAPI document uses (openapi.ts and its engagement and journey parts). */
export const error = { $ref: '#/components/responses/Error' };
export const auth = { 401: { $ref: '#/components/responses/Unauthorized' } };
export const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** A 200 answer with the schema `ref`. */
export const ok = (ref: string) => ({
  description: 'OK',
  content: { 'application/json': { schema: { $ref: ref } } },
});

/** An answer described in words (an object). */
export const anyJson = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});

/** A required JSON request body with the schema `ref`. */
export const body = (ref: string) => jsonBody({ $ref: ref });

/** A required JSON request body with an inline schema. */
export const jsonBody = (schema: Record<string, unknown>) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const allowUnknown = {
  name: 'allow_unknown',
  in: 'query',
  schema: { enum: ['true', 'false'] },
  description:
    'accept event names never received and trait keys never set in the workspace (default false: such definitions are refused)',
};

/** The `metric` and `format` query parameters every results report takes (journeys, in-app messages). */
export const resultsParams = [
  {
    name: 'metric',
    in: 'query',
    schema: { type: 'string', enum: ['conversion', 'revenue'], default: 'conversion' },
  },
  { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
];
