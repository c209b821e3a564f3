/**
 * The SMTP side of the e-mail channel: one nodemailer transport per process, built from
 * SMTP_URL. `smtp://` upgrades with STARTTLS whenever the server offers it; `smtps://` speaks
 * TLS from the first byte. Every timeout is bounded so an attempt ends well inside its claim
 * (services/notifications/delivery.ts).
 */
import nodemailer, { type Transporter } from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport";

export interface OutgoingMail {
  /** The notification's id: the Message-ID is derived from it, so a repeat is recognisable. */
  notificationId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** `smtp://user:secret@host:25` → `smtp://user:***@host:25`: the only form that reaches a log. */
export function maskSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable SMTP_URL)";
  }
}

/** `<notification id>@commerce-mesh`: one per notification, the same on every attempt. */
export function messageIdFor(notificationId: string): string {
  return `<${notificationId}@commerce-mesh>`;
}

export function smtpMailer(url: string, from: string, timeoutMs: number): Mailer {
  const transport: Transporter<SMTPTransport.SentMessageInfo> = nodemailer.createTransport({
    url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
  });
  return {
    async send(mail) {
      await transport.sendMail({
        from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: messageIdFor(mail.notificationId),
      });
    },
    close() {
      transport.close();
    },
  };
}

/** What an attempt's failure says, short and without secrets: `550 5.1.1 …` or `ECONNREFUSED`. */
export function describeSendError(err: unknown): string {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  const text = e.response ?? e.message ?? String(err);
  const prefix = e.responseCode ? "" : e.code ? `${e.code}: ` : "";
  return `${prefix}${text}`.replace(/\/\/[^@/\s]*@/g, "//***@").slice(0, 300);
}
