/** The shapes GET /v1/messages and GET /v1/cards answer with (the SDK-server contract). */
export type Trigger =
  | { kind: 'event'; event: string }
  | { kind: 'page'; urlPattern: string }
  | { kind: 'delay'; seconds: number }
  | { kind: 'exit_intent' };

export interface MessageButton {
  label: string;
  url: string | null;
  action: 'click' | 'dismiss';
}

export interface InAppMessage {
  id: string;
  variant: string;
  type: 'modal' | 'banner' | 'slide_in' | 'full_screen' | 'html';
  priority: number;
  trigger: Trigger;
  position: 'top' | 'bottom' | null;
  /** the customer is in the message's control group: it takes its turn but shows nothing */
  control?: boolean;
  content: {
    title?: string | null;
    body?: string | null;
    imageUrl?: string | null;
    buttons?: MessageButton[] | null;
    html?: string | null;
  };
}

export interface Card {
  id: string;
  title: string;
  body: string;
  imageUrl: string | null;
  url: string | null;
  createdAt: string;
  expiresAt: string | null;
  read: boolean;
  pinned: boolean;
}
