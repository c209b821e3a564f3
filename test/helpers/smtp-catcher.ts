/**
 * A real SMTP server for the mail tests (the `smtp-server` package, on a free port): it keeps
 * every message it accepted, can refuse recipients with 550, and can go down and come back on
 * the same port.
 */
import { SMTPServer, type SMTPServerAddress } from "smtp-server";
import { freePort } from "./cluster";

export interface CaughtMail {
  to: string[];
  messageId: string;
  subject: string;
  /** The whole message, quoted-printable soft breaks and escapes undone. */
  text: string;
  /** The AUTH login the client used. */
  user: string | undefined;
  password: string | undefined;
}

function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function header(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, " ");
  return new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1].trim() ?? "";
}

export class SmtpCatcher {
  readonly mails: CaughtMail[] = [];
  /** Recipients starting with one of these are refused: `550 5.1.1 no such user`. */
  readonly refuse: string[] = [];
  /** How long the server takes to accept each message (after its data arrived). */
  acceptDelayMs = 0;
  port = 0;
  private server: SMTPServer | null = null;

  async start(): Promise<void> {
    this.port ||= await freePort();
    const logins = new Map<string, { user?: string; password?: string }>();
    const server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      closeTimeout: 100,
      onAuth: (auth, session, cb) => {
        logins.set(session.id, { user: auth.username, password: auth.password ?? undefined });
        cb(null, { user: auth.username });
      },
      onRcptTo: (address: SMTPServerAddress, _session, cb) => {
        if (this.refuse.some((prefix) => address.address.startsWith(prefix))) {
          const err = new Error("5.1.1 no such user") as Error & { responseCode: number };
          err.responseCode = 550;
          cb(err);
          return;
        }
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", async () => {
          await new Promise((resolve) => setTimeout(resolve, this.acceptDelayMs));
          const raw = Buffer.concat(chunks).toString("utf8");
          this.mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            messageId: header(raw, "Message-ID"),
            subject: header(raw, "Subject"),
            text: decodeQuotedPrintable(raw),
            user: logins.get(session.id)?.user,
            password: logins.get(session.id)?.password,
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  url(user = "mailer", password = "s3cret-pass"): string {
    return `smtp://${user}:${password}@127.0.0.1:${this.port}`;
  }

  to(address: string): CaughtMail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }
}
