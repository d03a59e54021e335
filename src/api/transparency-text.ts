/**
 * The transparency page's words in English and Japanese, and the plain-words description of why a
 * journey sent a message (its trigger, read from the journey's definition).
 */
import type { PageLanguage } from '../domain/preferences.js';

export const TRANSPARENCY_TEXT: Record<PageLanguage, Record<string, string>> = {
  en: {
    title: 'Your data',
    intro: 'This is what we hold about you, why you received our messages, and what you agreed to.',
    invalid: 'Link not valid',
    invalidBody: 'This link is not valid. Nothing was shown or changed.',
    expired: 'Link expired',
    expiredBody: 'This link has expired (links work for 30 days). Open the link in a newer message.',
    erased: 'Your data was erased',
    erasedBody: 'We hold no data about you under this link any more. Nothing else can be done with it.',
    traits: 'What we know about you',
    noTraits: 'Nothing but an identifier.',
    stage: 'Your stage with us',
    noStage: 'Not assessed yet.',
    segments: 'Groups of customers you are in',
    noSegments: 'None.',
    messages: 'Messages we sent you, and why',
    noMessages: 'None.',
    sentBy: 'sent by “{name}”, because {why}',
    consents: 'What you agreed to',
    granted: 'agreed',
    withdrawn: 'withdrawn',
    notAsked: 'not asked',
    download: 'Download my data (JSON)',
    erase: 'Erase my data',
    eraseAsk:
      'Erasing removes everything we hold about you: your profile, history, messages and answers. It cannot be undone. We will not contact you again unless you sign up again.',
    eraseConfirm: 'Yes, erase my data',
    erasedNow: 'Everything we held about you has been erased.',
    event: 'you did “{name}”',
    segment: 'you joined the group “{name}”',
    segmentLeft: 'you left the group “{name}”',
    stageEntered: 'you reached the stage “{name}”',
    schedule: 'it was sent to the group “{name}” on a schedule',
    unknownWhy: 'of a campaign rule',
  },
  ja: {
    title: 'あなたのデータ',
    intro: '当社が保有するあなたの情報、メッセージをお送りした理由、あなたの同意状況です。',
    invalid: '無効なリンク',
    invalidBody: 'このリンクは無効です。何も表示・変更されていません。',
    expired: 'リンクの有効期限切れ',
    expiredBody: 'このリンクは有効期限（30日間）が切れています。新しいメッセージのリンクを開いてください。',
    erased: 'データは消去されました',
    erasedBody: 'このリンクに関するデータは保有していません。このリンクでできる操作はありません。',
    traits: '当社が保有する情報',
    noTraits: '識別子のみです。',
    stage: 'ステージ',
    noStage: 'まだ判定されていません。',
    segments: '所属している顧客グループ',
    noSegments: 'ありません。',
    messages: 'お送りしたメッセージとその理由',
    noMessages: 'ありません。',
    sentBy: '「{name}」により送信：{why}',
    consents: '同意状況',
    granted: '同意済み',
    withdrawn: '撤回済み',
    notAsked: '未確認',
    download: 'データをダウンロード（JSON）',
    erase: 'データを消去する',
    eraseAsk:
      '消去すると、プロフィール、履歴、メッセージ、回答など当社が保有するすべての情報が削除され、元に戻せません。再度ご登録いただかない限り、ご連絡することはありません。',
    eraseConfirm: 'はい、データを消去します',
    erasedNow: '当社が保有していたあなたの情報はすべて消去されました。',
    event: '「{name}」を行ったため',
    segment: '顧客グループ「{name}」に入ったため',
    segmentLeft: '顧客グループ「{name}」から外れたため',
    stageEntered: 'ステージ「{name}」になったため',
    schedule: '顧客グループ「{name}」への定期配信のため',
    unknownWhy: 'キャンペーンの条件による',
  },
};

export const tword = (lang: PageLanguage, key: string): string =>
  TRANSPARENCY_TEXT[lang][key] ?? TRANSPARENCY_TEXT.en[key] ?? key;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a journey sends, in words, from its definition's trigger (segment ids shown by name). */
export function whySent(
  definition: unknown,
  lang: PageLanguage,
  segmentName: (id: string) => string,
): string {
  const t = isObject(definition) ? definition['trigger'] : undefined;
  const say = (key: string, name: string) => tword(lang, key).replace('{name}', () => name);
  if (!isObject(t)) return tword(lang, 'unknownWhy');
  const ev = t['event'];
  if (typeof ev === 'string') return say('event', ev);
  if (isObject(ev) && typeof ev['name'] === 'string') return say('event', ev['name']);
  if (typeof t['segment_entered'] === 'string') return say('segment', segmentName(t['segment_entered']));
  if (typeof t['segment_exited'] === 'string') return say('segmentLeft', segmentName(t['segment_exited']));
  if (typeof t['stage_entered'] === 'string') return say('stageEntered', t['stage_entered']);
  const s = t['schedule'];
  if (isObject(s) && typeof s['segment'] === 'string') return say('schedule', segmentName(s['segment']));
  return tword(lang, 'unknownWhy');
}
