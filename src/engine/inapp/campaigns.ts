import type { Clock } from '../../domain/clock.js';
import {
  cardDefinition,
  cardSchema,
  messageDefinition,
  messageSchema,
  type CampaignStatus,
} from '../../domain/inapp/definition.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { newId } from '../../ids.js';
import type { CardRecord, MessageRecord } from '../../store/inapp-store.js';
import type { Store } from '../../store/store.js';
import { parse } from '../../validation.js';

/**
 * Message and card campaigns as the admin API manages them (docs/in-app.md): each body is checked
 * whole (fields, Liquid syntax, sizes) before anything is stored; an archived campaign is kept for
 * the record and can no longer change. `onChange` lets the delivery cache drop the workspace's
 * active campaigns at once.
 */
export class InAppCampaigns {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly onChange: (ws: string) => void = () => undefined,
  ) {}

  async createMessage(ws: string, body: unknown): Promise<MessageRecord> {
    const m = parse(messageSchema, body);
    const now = this.clock.now();
    const r: MessageRecord = {
      id: newId('msg', now),
      status: m.status ?? 'draft',
      definition: messageDefinition(m),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.putInAppMessage(ws, r);
    this.onChange(ws);
    return r;
  }

  /** Replaces the definition (and the status, when the body gives one). */
  async updateMessage(ws: string, id: string, body: unknown): Promise<MessageRecord> {
    const m = parse(messageSchema, body);
    const current = editable(await this.getMessage(ws, id));
    const r: MessageRecord = {
      ...current,
      status: m.status ?? current.status,
      definition: messageDefinition(m),
      updatedAt: this.clock.now(),
    };
    await this.store.putInAppMessage(ws, r);
    this.onChange(ws);
    return r;
  }

  async setMessageStatus(ws: string, id: string, status: CampaignStatus): Promise<MessageRecord> {
    const current = editable(await this.getMessage(ws, id));
    const r = { ...current, status, updatedAt: this.clock.now() };
    await this.store.putInAppMessage(ws, r);
    this.onChange(ws);
    return r;
  }

  async getMessage(ws: string, id: string): Promise<MessageRecord> {
    const r = await this.store.getInAppMessage(ws, id);
    if (!r) throw new NotFoundError(`no in-app message ${id}`);
    return r;
  }

  listMessages(ws: string, status?: CampaignStatus): Promise<MessageRecord[]> {
    return this.store.listInAppMessages(ws, status === undefined ? {} : { status });
  }

  /** A card campaign, or (with `profileId`) a card posted to that one customer, active at once. */
  async createCard(ws: string, body: unknown, profileId: string | null = null): Promise<CardRecord> {
    const c = parse(cardSchema, body);
    const now = this.clock.now();
    const r: CardRecord = {
      id: newId('card', now),
      profileId,
      status: c.status ?? (profileId === null ? 'draft' : 'active'),
      definition: cardDefinition(c),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.putContentCard(ws, r);
    this.onChange(ws);
    return r;
  }

  async updateCard(ws: string, id: string, body: unknown): Promise<CardRecord> {
    const c = parse(cardSchema, body);
    const current = editable(await this.getCard(ws, id));
    const r: CardRecord = {
      ...current,
      status: c.status ?? current.status,
      definition: cardDefinition(c),
      updatedAt: this.clock.now(),
    };
    await this.store.putContentCard(ws, r);
    this.onChange(ws);
    return r;
  }

  async setCardStatus(ws: string, id: string, status: CampaignStatus): Promise<CardRecord> {
    const current = editable(await this.getCard(ws, id));
    const r = { ...current, status, updatedAt: this.clock.now() };
    await this.store.putContentCard(ws, r);
    this.onChange(ws);
    return r;
  }

  async getCard(ws: string, id: string): Promise<CardRecord> {
    const r = await this.store.getContentCard(ws, id);
    if (!r) throw new NotFoundError(`no content card ${id}`);
    return r;
  }

  listCards(ws: string, q: { status?: CampaignStatus; profileId?: string | null }): Promise<CardRecord[]> {
    return this.store.listContentCards(ws, q);
  }
}

function editable<T extends { id: string; status: CampaignStatus }>(r: T): T {
  if (r.status === 'archived') throw new ConflictError(`${r.id} is archived and can no longer change`);
  return r;
}
