/**
 * The catalogue and recommendations part of the OpenAPI document (docs/catalog.md), merged into
 * openapi.ts; test/http/catalog.test.ts calls every GET path listed here with real values.
 */
import { anyJson, auth, body, error, idParam, ok } from './openapi-parts.js';

const item = { $ref: '#/components/schemas/CatalogItem' };

export const catalogPaths = {
  '/api/v1/catalog/items': {
    get: {
      summary: 'A page of catalogue items, in id order',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'the previous page’s `next`' },
      ],
      responses: { 200: anyJson('{items: CatalogItem[], next: string | null}'), 400: error, ...auth },
    },
    put: {
      summary: 'Import items (insert or replace by id), all or none',
      description:
        'Up to 10,000 items. One bad item refuses the whole request, naming every bad field (`items[3].price`), up to 50.',
      requestBody: body('#/components/schemas/CatalogImport'),
      responses: { 200: anyJson('{stored: number}'), 400: error, ...auth },
    },
  },
  '/api/v1/catalog/items.csv': {
    post: {
      summary: 'Import items from CSV (RFC 4180), all or none',
      description:
        'A header row naming columns (id, name, url, image_url, price, currency, category, available; id and name required), then one item a row; up to 10,000 rows and 4 MB. Bad rows are named by line (`line 5.price`).',
      requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } } } },
      responses: { 200: anyJson('{stored: number}'), 400: error, ...auth },
    },
  },
  '/api/v1/catalog/items/{id}': {
    get: {
      summary: 'A catalogue item',
      parameters: [idParam],
      responses: { 200: ok('#/components/schemas/CatalogItem'), ...auth, 404: error },
    },
    delete: {
      summary: 'Remove an item and its similar-items list',
      parameters: [idParam],
      responses: { 204: { description: 'deleted' }, ...auth, 404: error },
    },
  },
  '/api/v1/catalog/recommendations/rebuild': {
    post: {
      summary: 'Recompute every similar-items list from customers’ recent views and purchases',
      responses: {
        200: anyJson(
          '{customers, customers_with_items, catalog_items, items_with_similar, pairs, duration_ms}',
        ),
        ...auth,
      },
    },
  },
  '/api/v1/profiles/{id}/recommendations': {
    get: {
      summary: 'What templates would show a customer: recommended items (best first) and bought ids',
      parameters: [
        idParam,
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
      ],
      responses: {
        200: anyJson('{recommendations: (CatalogItem & {score: number})[], bought: string[]}'),
        400: error,
        ...auth,
        404: error,
      },
    },
  },
};

export const catalogSchemas = {
  CatalogItem: {
    type: 'object',
    required: ['id', 'name'],
    properties: {
      id: { type: 'string', maxLength: 200 },
      name: { type: 'string', maxLength: 1000 },
      url: { type: ['string', 'null'], format: 'uri' },
      image_url: { type: ['string', 'null'], format: 'uri' },
      price: { type: ['number', 'null'], minimum: 0 },
      currency: { type: ['string', 'null'], pattern: '^[A-Za-z]{3}$' },
      category: { type: ['string', 'null'] },
      available: { type: 'boolean', default: true },
      extra: { type: 'object', description: 'further attributes, at most 8 KB of JSON' },
      updated_at: { type: 'string', format: 'date-time', readOnly: true },
    },
  },
  CatalogImport: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: item, minItems: 1, maxItems: 10000 } },
  },
};
