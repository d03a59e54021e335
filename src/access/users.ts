import { z } from 'zod';
import { ROLES } from '../domain/access.js';
import type { Clock } from '../domain/clock.js';
import { newId } from '../ids.js';
import type { StaffUser, StaffUserPatch } from '../store/access-store.js';
import type { Store } from '../store/store.js';
import { parse } from '../validation.js';
import { hashPassword } from './password.js';

export const emailField = z
  .string({ error: 'must be a string' })
  .trim()
  .toLowerCase()
  .max(254, { error: 'must be at most 254 characters' })
  .regex(/^[^\s@]+@[^\s@]+$/, { error: 'must be an e-mail address' });
export const passwordField = z
  .string({ error: 'must be a string' })
  .min(10, { error: 'must be at least 10 characters' })
  .max(1024, { error: 'must be at most 1024 characters' });
const nameField = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(200, {
    error: 'must be at most 200 characters',
  });
export const roleField = z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` });
export const localeField = z.enum(['en', 'ja'], { error: 'must be en or ja' });

export const newUserSchema = z.object(
  {
    email: emailField,
    name: nameField.optional(),
    role: roleField,
    locale: localeField.default('en'),
    password: passwordField,
  },
  { error: 'must be a JSON object' },
);

export const userPatchSchema = z.object(
  {
    name: nameField.optional(),
    role: roleField.optional(),
    locale: localeField.optional(),
    disabled: z.boolean({ error: 'must be true or false' }).optional(),
    password: passwordField.optional(),
  },
  { error: 'must be a JSON object' },
);

/** Validates and stores a new member of staff (ConflictError when the e-mail is taken there). */
export async function createStaffUser(
  store: Store,
  clock: Clock,
  workspaceId: string,
  input: unknown,
): Promise<StaffUser> {
  const u = parse(newUserSchema, input);
  const now = clock.now();
  const user: StaffUser = {
    workspaceId,
    id: newId('usr', now),
    email: u.email,
    name: u.name ?? u.email.split('@')[0]!,
    role: u.role,
    locale: u.locale,
    disabled: false,
    passwordHash: await hashPassword(u.password),
    createdAt: now,
    updatedAt: now,
  };
  await store.createStaffUser(user);
  return user;
}

/** Validates a change to a user (a new password is hashed here); the store applies it. */
export async function userPatch(input: unknown): Promise<StaffUserPatch> {
  const p = parse(userPatchSchema, input);
  const { password, ...rest } = p;
  const patch: StaffUserPatch = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return password === undefined ? patch : { ...patch, passwordHash: await hashPassword(password) };
}

/** A user as the API shows one: never the password hash. */
export function userJson(u: StaffUser) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    locale: u.locale,
    disabled: u.disabled,
    createdAt: new Date(u.createdAt).toISOString(),
    updatedAt: new Date(u.updatedAt).toISOString(),
  };
}
