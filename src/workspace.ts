import { z } from 'zod';
import { ValidationError } from './errors.js';
import { hashKey } from './http/auth.js';
import { newSecret } from './ids.js';
import type { Store } from './store/store.js';

export interface NewWorkspace {
  id: string;
  name: string;
  /** for SDKs: ingestion only. */
  writeKey: string;
  /** for the admin API; keep it secret. */
  adminKey: string;
}

const name = z.string().regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,99}$/u, {
  error:
    'must be 1–100 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit',
});

/**
 * Creates a workspace with a fresh write key and admin key. Only their hashes are stored, so this is
 * the one moment the plain keys exist on the server side.
 */
export async function createWorkspace(store: Store, workspaceName: string): Promise<NewWorkspace> {
  const r = name.safeParse(workspaceName);
  if (!r.success)
    throw new ValidationError([{ field: 'name', rule: r.error.issues[0]?.message ?? 'is invalid' }]);
  const writeKey = newSecret('wk');
  const adminKey = newSecret('ak');
  const ws = await store.createWorkspace({
    name: r.data,
    writeKeyHash: hashKey(writeKey),
    adminKeyHash: hashKey(adminKey),
  });
  return { id: ws.id, name: ws.name, writeKey, adminKey };
}
