import { describe, expect, it } from 'vitest';
import { parseFeedbackReport } from './feedback.js';

/** Reports arrive over SMTP with CRLF line ends. */
const wire = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'utf8');

/** Postfix bounce: 5.1.1 user unknown, the whole message returned, folded Content-Type and Diagnostic-Code. */
const POSTFIX_USER_UNKNOWN = `Return-Path: <>
Delivered-To: bounces@kizuna.example.com
Received: by mta1.kizuna.example.com (Postfix)
\tid 4VfKp21XyZz9sWd; Tue, 14 May 2024 10:12:03 +0000 (UTC)
Date: Tue, 14 May 2024 10:12:03 +0000 (UTC)
From: MAILER-DAEMON@mta1.kizuna.example.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces@kizuna.example.com
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4VfKp21XyZz9sWd.1715681523/mta1.kizuna.example.com"
Content-Transfer-Encoding: 8bit
Message-Id: <20240514101203.4VfKp21XyZz9sWd@mta1.kizuna.example.com>

This is a MIME-encapsulated message.

--4VfKp21XyZz9sWd.1715681523/mta1.kizuna.example.com
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mta1.kizuna.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<nobody@example.org>: host mx1.example.org[203.0.113.25] said: 550 5.1.1
    <nobody@example.org>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--4VfKp21XyZz9sWd.1715681523/mta1.kizuna.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mta1.kizuna.example.com
X-Postfix-Queue-ID: 4VfKp21XyZz9sWd
X-Postfix-Sender: rfc822; bounces@kizuna.example.com
Arrival-Date: Tue, 14 May 2024 10:12:01 +0000 (UTC)

Final-Recipient: rfc822; Nobody@Example.org
Original-Recipient: rfc822;Nobody@Example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx1.example.org
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address
    rejected: User unknown in virtual mailbox table

--4VfKp21XyZz9sWd.1715681523/mta1.kizuna.example.com
Content-Description: Undelivered Message
Content-Type: message/rfc822
Content-Transfer-Encoding: 8bit

Return-Path: <bounces@kizuna.example.com>
Received: from app1.kizuna.example.com (app1.kizuna.example.com [10.0.0.12])
\tby mta1.kizuna.example.com (Postfix) with ESMTPS id 4VfKp21XyZz9sWd
\tfor <Nobody@Example.org>; Tue, 14 May 2024 10:12:01 +0000 (UTC)
From: Kizuna Shop <hello@kizuna.example.com>
To: Nobody@Example.org
Subject: =?UTF-8?Q?Welcome_to_Kizuna_Shop_=E2=9C=A8?=
Message-ID: <msg_01HXR3Q8ZK4M2N7P5T9V6W1Y0B@kizuna.example.com>
X-Kizuna-Key: msg_01HXR3Q8ZK4M2N7P5T9V6W1Y0B
List-Unsubscribe: <https://kizuna.example.com/u/eyJ3cyI6InNob3AifQ>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
Date: Tue, 14 May 2024 10:12:00 +0000
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="--_NmP-3b1f0c2a9d8e7f65-Part_1"

----_NmP-3b1f0c2a9d8e7f65-Part_1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Welcome aboard!
----_NmP-3b1f0c2a9d8e7f65-Part_1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<p>Welcome aboard!</p>
----_NmP-3b1f0c2a9d8e7f65-Part_1--

--4VfKp21XyZz9sWd.1715681523/mta1.kizuna.example.com--
`;

/** Postfix delay warning: 4.2.2 mailbox full, only the headers returned (text/rfc822-headers). */
const POSTFIX_MAILBOX_FULL_DELAYED = `Return-Path: <>
Date: Wed, 15 May 2024 14:00:07 +0000 (UTC)
From: MAILER-DAEMON@mta1.kizuna.example.com (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: bounces@kizuna.example.com
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="8A1C3E0F2B.1715781607/mta1.kizuna.example.com"
Message-Id: <20240515140007.8A1C3E0F2B@mta1.kizuna.example.com>

This is a MIME-encapsulated message.

--8A1C3E0F2B.1715781607/mta1.kizuna.example.com
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mta1.kizuna.example.com.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than 4 hour(s).
It will be retried until it is 5 day(s) old.

<full.box@example.net>: host mx.example.net[198.51.100.20] said: 452 4.2.2
    <full.box@example.net>: Mailbox full (in reply to RCPT TO command)

--8A1C3E0F2B.1715781607/mta1.kizuna.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mta1.kizuna.example.com
X-Postfix-Queue-ID: 8A1C3E0F2B
X-Postfix-Sender: rfc822; bounces@kizuna.example.com
Arrival-Date: Wed, 15 May 2024 09:58:41 +0000 (UTC)

Final-Recipient: rfc822; full.box@example.net
Original-Recipient: rfc822;full.box@example.net
Action: delayed
Status: 4.2.2
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 452 4.2.2 <full.box@example.net>: Mailbox full
Will-Retry-Until: Mon, 20 May 2024 09:58:41 +0000 (UTC)

--8A1C3E0F2B.1715781607/mta1.kizuna.example.com
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <bounces@kizuna.example.com>
From: Kizuna Shop <hello@kizuna.example.com>
To: full.box@example.net
Subject: Your cart is waiting
Message-ID: <cmp_7f3a.step_2.prof_91c2.email@kizuna.example.com>
X-Kizuna-Key: cmp_7f3a:step_2:prof_91c2.email
Date: Wed, 15 May 2024 09:58:40 +0000
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

--8A1C3E0F2B.1715781607/mta1.kizuna.example.com--
`;

/** Sendmail-style report for two recipients: one refused for good, one still being retried. */
const SENDMAIL_TWO_RECIPIENTS = `Return-Path: <MAILER-DAEMON@relay.example.com>
Date: Thu, 16 May 2024 11:20:00 GMT
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.com>
Message-Id: <202405161120.44GBK0aB012345@relay.example.com>
To: <bounces@kizuna.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="44GBK0aB012345.1715858400/relay.example.com"
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)

This is a MIME-encapsulated message

--44GBK0aB012345.1715858400/relay.example.com

The original message was received at Thu, 16 May 2024 11:19:58 GMT
from mta1.kizuna.example.com [192.0.2.10]

   ----- The following addresses had permanent fatal errors -----
<gone@Example.COM>
    (reason: 550 5.1.1 <gone@example.com>... User unknown)

   ----- The following addresses had transient non-fatal errors -----
<slow@example.net>

--44GBK0aB012345.1715858400/relay.example.com
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.com
Received-From-MTA: DNS; mta1.kizuna.example.com
Arrival-Date: Thu, 16 May 2024 11:19:58 GMT

Final-Recipient: RFC822; <gone@Example.COM>
Action: failed
Status: 5.1.1
Remote-MTA: DNS; mx.example.com
Diagnostic-Code: SMTP; 550 5.1.1 <gone@example.com>... User unknown
Last-Attempt-Date: Thu, 16 May 2024 11:20:00 GMT

Final-Recipient: RFC822; <slow@example.net>
Action: delayed
Status: 4.4.1
Remote-MTA: DNS; mx.example.net
Diagnostic-Code: SMTP; 421 4.4.1 Connection timed out
Last-Attempt-Date: Thu, 16 May 2024 11:20:00 GMT
Will-Retry-Until: Sun, 19 May 2024 11:19:58 GMT

--44GBK0aB012345.1715858400/relay.example.com
Content-Type: text/rfc822-headers

Received: from mta1.kizuna.example.com (mta1.kizuna.example.com [192.0.2.10])
\tby relay.example.com (8.17.1/8.17.1) with ESMTPS id 44GBK0aB012345;
\tThu, 16 May 2024 11:19:58 GMT
From: Kizuna Shop <hello@kizuna.example.com>
To: gone@example.com, slow@example.net
Subject: Spring sale
Message-ID: <msg_01HXT0SPRING@kizuna.example.com>
X-Kizuna-Key: msg_01HXT0SPRING

--44GBK0aB012345.1715858400/relay.example.com--
`;

/** Exchange Online style report whose returned message is base64-encoded, the notice quoted-printable. */
const EXCHANGE_BASE64_RETURNED = `From: Microsoft Outlook <postmaster@contoso.example>
To: <bounces@kizuna.example.com>
Date: Wed, 15 May 2024 07:45:12 +0000
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="2b7a9c1e-5d3f-4e8a-9b6c-0f1e2d3c4b5a"
MIME-Version: 1.0
Message-ID: <9b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d@contoso.example>
Subject: Undeliverable: Your order has shipped
Auto-Submitted: auto-replied

--2b7a9c1e-5d3f-4e8a-9b6c-0f1e2d3c4b5a
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Your message to left.company@contoso.example couldn=E2=80=99t be delivered.=
 left.company wasn't found at contoso.example.

--2b7a9c1e-5d3f-4e8a-9b6c-0f1e2d3c4b5a
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;mta1.kizuna.example.com
Arrival-Date: Wed, 15 May 2024 07:45:11 +0000

Final-Recipient: rfc822;Left.Company@contoso.example
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient
 left.company@contoso.example not found by SMTP address lookup

--2b7a9c1e-5d3f-4e8a-9b6c-0f1e2d3c4b5a
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

RnJvbTogS2l6dW5hIFNob3AgPGhlbGxvQGtpenVuYS5leGFtcGxlLmNvbT4NClRvOiBsZWZ0LmNv
bXBhbnlAY29udG9zby5leGFtcGxlDQpTdWJqZWN0OiBZb3VyIG9yZGVyIGhhcyBzaGlwcGVkDQpE
YXRlOiBXZWQsIDE1IE1heSAyMDI0IDA3OjQ1OjEwICswMDAwDQpNZXNzYWdlLUlEOiA8b3JkXzU1
MjEuc2hpcHBlZEBraXp1bmEuZXhhbXBsZS5jb20+DQpYLUtpenVuYS1LZXk6IG9yZF81NTIxOnNo
aXBwZWQNCk1JTUUtVmVyc2lvbjogMS4wDQpDb250ZW50LVR5cGU6IHRleHQvcGxhaW47IGNoYXJz
ZXQ9dXRmLTgNCkNvbnRlbnQtVHJhbnNmZXItRW5jb2Rpbmc6IDdiaXQNCg0KWW91ciBvcmRlciA1
NTIxIGlzIG9uIGl0cyB3YXkuDQo=

--2b7a9c1e-5d3f-4e8a-9b6c-0f1e2d3c4b5a--
`;

/** Mailbox provider feedback loop (ARF): the recipient pressed "This is spam". */
const ARF_ABUSE = `Return-Path: <fbl-bounces@mail.example>
From: Mail.example Feedback Loop <fbl@mail.example>
To: <abuse@kizuna.example.com>
Date: Thu, 16 May 2024 08:30:00 -0700
Subject: FW: Your weekly picks
Message-ID: <fbl.0af3c9e1@fbl.mail.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
     boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
198.51.100.7 on Thu, 16 May 2024 08:12:00 -0700.
For more information about this format please see
https://www.rfc-editor.org/rfc/rfc5965.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: MailExampleFBL/2.1
Version: 1
Original-Mail-From: <bounces@kizuna.example.com>
Original-Rcpt-To: <Jane.Doe@mail.example>
Arrival-Date: Thu, 16 May 2024 08:12:00 -0700
Reporting-MTA: dns; fbl.mail.example
Source-IP: 198.51.100.7
Authentication-Results: mx.mail.example;
  spf=pass smtp.mailfrom=kizuna.example.com;
  dkim=pass header.d=kizuna.example.com
Reported-Domain: kizuna.example.com

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

Received: from mta1.kizuna.example.com (mta1.kizuna.example.com [198.51.100.7])
  by mx.mail.example with ESMTPS; Thu, 16 May 2024 08:12:00 -0700
From: Kizuna Shop <hello@kizuna.example.com>
To: Jane Doe <jane.doe@mail.example>
Subject: Your weekly picks
Message-ID: <msg_01HXV9WEEKLY@kizuna.example.com>
X-Kizuna-Key: msg_01HXV9WEEKLY
Date: Thu, 16 May 2024 15:11:58 +0000
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt-7c2e"

--alt-7c2e
Content-Type: text/plain; charset=utf-8

This week's picks...
--alt-7c2e
Content-Type: text/html; charset=utf-8

<p>This week's picks...</p>
--alt-7c2e--

--part1_13d.2e68ed54_boundary--
`;

describe('parseFeedbackReport: bounces (RFC 3464)', () => {
  it('reads a Postfix 5.1.1 user-unknown bounce with the returned message', async () => {
    expect(await parseFeedbackReport(wire(POSTFIX_USER_UNKNOWN))).toEqual({
      ok: true,
      report: {
        kind: 'bounce',
        messageKey: 'msg_01HXR3Q8ZK4M2N7P5T9V6W1Y0B',
        recipients: [
          {
            address: 'nobody@example.org',
            action: 'failed',
            status: '5.1.1',
            hard: true,
            diagnostic:
              'smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
          },
        ],
      },
    });
  });

  it('reads the same report given as a string with bare LF line ends', async () => {
    const r = await parseFeedbackReport(POSTFIX_USER_UNKNOWN);
    expect(r.ok && r.report.kind === 'bounce' && r.report.messageKey).toBe('msg_01HXR3Q8ZK4M2N7P5T9V6W1Y0B');
  });

  it('reads a 4.2.2 mailbox-full delay warning that returns only the headers', async () => {
    expect(await parseFeedbackReport(wire(POSTFIX_MAILBOX_FULL_DELAYED))).toEqual({
      ok: true,
      report: {
        kind: 'bounce',
        messageKey: 'cmp_7f3a:step_2:prof_91c2.email',
        recipients: [
          {
            address: 'full.box@example.net',
            action: 'delayed',
            status: '4.2.2',
            hard: false,
            diagnostic: 'smtp; 452 4.2.2 <full.box@example.net>: Mailbox full',
          },
        ],
      },
    });
  });

  it('reads one field group per recipient: a hard 5.x failure and a soft 4.x delay', async () => {
    expect(await parseFeedbackReport(wire(SENDMAIL_TWO_RECIPIENTS))).toEqual({
      ok: true,
      report: {
        kind: 'bounce',
        messageKey: 'msg_01HXT0SPRING',
        recipients: [
          {
            address: 'gone@example.com',
            action: 'failed',
            status: '5.1.1',
            hard: true,
            diagnostic: 'SMTP; 550 5.1.1 <gone@example.com>... User unknown',
          },
          {
            address: 'slow@example.net',
            action: 'delayed',
            status: '4.4.1',
            hard: false,
            diagnostic: 'SMTP; 421 4.4.1 Connection timed out',
          },
        ],
      },
    });
  });

  it('decodes a base64 returned message and a quoted-printable notice', async () => {
    expect(await parseFeedbackReport(wire(EXCHANGE_BASE64_RETURNED))).toEqual({
      ok: true,
      report: {
        kind: 'bounce',
        messageKey: 'ord_5521:shipped',
        recipients: [
          {
            address: 'left.company@contoso.example',
            action: 'failed',
            status: '5.1.10',
            hard: true,
            diagnostic:
              'smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient left.company@contoso.example not found by SMTP address lookup',
          },
        ],
      },
    });
  });

  it('decodes a quoted-printable returned header part', async () => {
    const qp = POSTFIX_MAILBOX_FULL_DELAYED.replace(
      'Content-Type: text/rfc822-headers\n',
      'Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: quoted-printable\n',
    ).replace(
      'X-Kizuna-Key: cmp_7f3a:step_2:prof_91c2.email',
      'X-Kizuna-Key: cmp_7f3a:step_2:=\nprof_91c2.email',
    );
    const r = await parseFeedbackReport(wire(qp));
    expect(r.ok && r.report.messageKey).toBe('cmp_7f3a:step_2:prof_91c2.email');
  });

  it('gives a null key when the returned message has no X-Kizuna-Key, even if the report itself has one', async () => {
    const report = POSTFIX_USER_UNKNOWN.replace('X-Kizuna-Key: msg_01HXR3Q8ZK4M2N7P5T9V6W1Y0B\n', '').replace(
      'Auto-Submitted: auto-replied\n',
      'Auto-Submitted: auto-replied\nX-Kizuna-Key: msg_from_the_report_headers\n',
    );
    const r = await parseFeedbackReport(wire(report));
    expect(r).toMatchObject({ ok: true, report: { kind: 'bounce', messageKey: null } });
  });

  it('gives a null key when nothing of the original message came back', async () => {
    const cut = POSTFIX_USER_UNKNOWN.slice(
      0,
      POSTFIX_USER_UNKNOWN.indexOf('Content-Description: Undelivered Message'),
    );
    const r = await parseFeedbackReport(
      wire(`${cut}\n--4VfKp21XyZz9sWd.1715681523/mta1.kizuna.example.com--\n`),
    );
    expect(r).toMatchObject({
      ok: true,
      report: {
        kind: 'bounce',
        messageKey: null,
        recipients: [{ address: 'nobody@example.org', hard: true }],
      },
    });
  });

  it('finds the key in a returned message marked inline (which mailparser renders into text)', async () => {
    const inline = POSTFIX_USER_UNKNOWN.replace(
      'Content-Type: message/rfc822\n',
      'Content-Type: message/rfc822\nContent-Disposition: inline\n',
    );
    const r = await parseFeedbackReport(wire(inline));
    expect(r.ok && r.report.messageKey).toBe('msg_01HXR3Q8ZK4M2N7P5T9V6W1Y0B');
  });

  it('keeps what it has when the report is cut off before the closing boundary', async () => {
    const truncated = POSTFIX_USER_UNKNOWN.slice(0, POSTFIX_USER_UNKNOWN.indexOf('List-Unsubscribe:'));
    const r = await parseFeedbackReport(wire(truncated));
    expect(r).toMatchObject({
      ok: true,
      report: { kind: 'bounce', messageKey: 'msg_01HXR3Q8ZK4M2N7P5T9V6W1Y0B' },
    });
  });

  it('reports the address the message was sent to when it was forwarded, and counts a failed 4.x.x as soft', async () => {
    const forwarded = POSTFIX_USER_UNKNOWN.replace(
      'Final-Recipient: rfc822; Nobody@Example.org\nOriginal-Recipient: rfc822;Nobody@Example.org\nAction: failed\nStatus: 5.1.1',
      'Final-Recipient: rfc822; nobody@forward.example\nOriginal-Recipient: rfc822;Nobody@Example.org\nAction: failed\nStatus: 4.4.7',
    );
    const r = await parseFeedbackReport(wire(forwarded));
    expect(r).toMatchObject({
      ok: true,
      report: {
        recipients: [{ address: 'nobody@example.org', action: 'failed', status: '4.4.7', hard: false }],
      },
    });
  });

  it('takes the status from the Diagnostic-Code when the Status field is missing', async () => {
    const noStatus = POSTFIX_USER_UNKNOWN.replace('Status: 5.1.1\n', '');
    const r = await parseFeedbackReport(wire(noStatus));
    expect(r).toMatchObject({ ok: true, report: { recipients: [{ status: '5.1.1', hard: true }] } });
  });

  it('reads an RFC 6533 report (UTF-8 address, message/global-delivery-status) with report-type left out', async () => {
    const global = SENDMAIL_TWO_RECIPIENTS.replace('report-type=delivery-status;', '')
      .replace('Content-Type: message/delivery-status', 'Content-Type: message/global-delivery-status')
      .replace('Final-Recipient: RFC822; <gone@Example.COM>', 'Final-Recipient: utf-8; Jörg@Bücher.example')
      .replace(
        'Diagnostic-Code: SMTP; 550 5.1.1 <gone@example.com>... User unknown',
        'Diagnostic-Code: smtp; 550 5.1.1 Adresse inconnue, boîte supprimée déjà',
      );
    const r = await parseFeedbackReport(wire(global));
    expect(r).toMatchObject({
      ok: true,
      report: {
        kind: 'bounce',
        messageKey: 'msg_01HXT0SPRING',
        recipients: [
          {
            address: 'jörg@bücher.example',
            status: '5.1.1',
            hard: true,
            diagnostic: 'smtp; 550 5.1.1 Adresse inconnue, boîte supprimée déjà',
          },
          { address: 'slow@example.net', hard: false },
        ],
      },
    });
  });

  it('skips an mbox "From " separator line before the headers', async () => {
    const mbox = `From MAILER-DAEMON  Tue May 14 10:12:03 2024\n${POSTFIX_USER_UNKNOWN}`;
    const r = await parseFeedbackReport(wire(mbox));
    expect(r.ok && r.report.kind).toBe('bounce');
  });
});

describe('parseFeedbackReport: complaints (RFC 5965)', () => {
  it('reads an ARF abuse report with Original-Rcpt-To and the original message', async () => {
    expect(await parseFeedbackReport(wire(ARF_ABUSE))).toEqual({
      ok: true,
      report: {
        kind: 'complaint',
        messageKey: 'msg_01HXV9WEEKLY',
        feedbackType: 'abuse',
        recipients: ['jane.doe@mail.example'],
      },
    });
  });

  it("falls back to the returned message's To when Original-Rcpt-To is absent", async () => {
    const noRcpt = ARF_ABUSE.replace('Original-Rcpt-To: <Jane.Doe@mail.example>\n', '')
      .replace(
        'To: Jane Doe <jane.doe@mail.example>',
        'To: "Doe, Jane" <Jane.Doe@Mail.example>,\n  other@mail.example (Other)',
      )
      .replace(
        'Content-Type: message/rfc822\nContent-Disposition: inline\n',
        'Content-Type: text/rfc822-headers\n',
      )
      .replace('Feedback-Type: abuse', 'Feedback-Type: Not-Spam');
    expect(await parseFeedbackReport(wire(noRcpt))).toEqual({
      ok: true,
      report: {
        kind: 'complaint',
        messageKey: 'msg_01HXV9WEEKLY',
        feedbackType: 'not-spam',
        recipients: ['jane.doe@mail.example', 'other@mail.example'],
      },
    });
  });

  it('refuses a feedback report without a Feedback-Type', async () => {
    const r = await parseFeedbackReport(wire(ARF_ABUSE.replace('Feedback-Type: abuse\n', '')));
    expect(r).toEqual({ ok: false, reason: 'the message/feedback-report part has no Feedback-Type field' });
  });
});

describe('parseFeedbackReport: anything else', () => {
  const EXPECTED =
    'expected multipart/report with report-type delivery-status (RFC 3464 bounce) or feedback-report (RFC 5965 complaint)';

  it('refuses a plain e-mail', async () => {
    const plain = `From: Someone <someone@example.org>
To: hello@kizuna.example.com
Subject: Re: Welcome to Kizuna Shop
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Thanks! Final-Recipient: rfc822; nobody@example.org
`;
    expect(await parseFeedbackReport(wire(plain))).toEqual({
      ok: false,
      reason: `${EXPECTED}, got text/plain`,
    });
  });

  it('refuses a multipart/report of another report-type (a read receipt)', async () => {
    const mdn = `From: Someone <someone@example.org>
To: hello@kizuna.example.com
Subject: Read: Welcome
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn-1"

--mdn-1
Content-Type: text/plain

Your message was displayed.
--mdn-1
Content-Type: message/disposition-notification

Reporting-UA: mail.example.org; ExampleMail
Final-Recipient: rfc822; someone@example.org
Disposition: manual-action/MDN-sent-manually; displayed
--mdn-1--
`;
    expect(await parseFeedbackReport(wire(mdn))).toEqual({
      ok: false,
      reason: `${EXPECTED}, got report-type disposition-notification`,
    });
  });

  it('refuses garbage, empty input, and a message with no Content-Type', async () => {
    const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    expect(await parseFeedbackReport(noise)).toEqual({
      ok: false,
      reason: `no Content-Type header; ${EXPECTED}`,
    });
    expect(await parseFeedbackReport('')).toEqual({ ok: false, reason: `empty input; ${EXPECTED}` });
    expect(await parseFeedbackReport('Subject: hi\n\nhello\n')).toEqual({
      ok: false,
      reason: `no Content-Type header; ${EXPECTED}`,
    });
  });

  it('refuses a delivery-status report without its machine-readable parts', async () => {
    const noStatusPart = POSTFIX_USER_UNKNOWN.replace(
      'Content-Type: message/delivery-status',
      'Content-Type: text/plain',
    );
    expect(await parseFeedbackReport(wire(noStatusPart))).toEqual({
      ok: false,
      reason: 'delivery-status report without a message/delivery-status part',
    });
    const noBoundary = POSTFIX_USER_UNKNOWN.replace(/;\n\tboundary="[^"]+"/, '');
    expect(await parseFeedbackReport(wire(noBoundary))).toEqual({
      ok: false,
      reason: 'multipart/report without a boundary parameter',
    });
    const noRecipients = POSTFIX_USER_UNKNOWN.replace(
      /Final-Recipient: [^\n]+\nOriginal-Recipient: [^\n]+\n/,
      '',
    );
    expect(await parseFeedbackReport(wire(noRecipients))).toEqual({
      ok: false,
      reason:
        'the message/delivery-status part holds no per-recipient fields (Final-Recipient, Action, Status)',
    });
  });

  it('refuses a report naming more than 1000 recipients', async () => {
    const group = 'Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n\n';
    const many = SENDMAIL_TWO_RECIPIENTS.replace(
      'Final-Recipient: RFC822; <gone@Example.COM>',
      `${group.repeat(1000)}Final-Recipient: RFC822; <gone@Example.COM>`,
    );
    expect(await parseFeedbackReport(wire(many))).toEqual({
      ok: false,
      reason: 'the report names 1002 recipients, over 1000',
    });
  });

  it('refuses input over 10 MB without reading it', async () => {
    const huge = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);
    expect(await parseFeedbackReport(huge)).toEqual({
      ok: false,
      reason: 'the report is 10485761 bytes, over the 10485760-byte (10 MB) limit',
    });
  });
});
