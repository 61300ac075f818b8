import nodemailer from 'nodemailer';
import { QuotientError } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';

/** One message as Quotient writes it: plain French text, no attachment, no tracking. */
export interface Courriel {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Mailer {
  send(message: Courriel): Promise<void>;
}

/**
 * A numéro fiscal or an amount in euros never goes into an e-mail: e-mail is not a secure channel,
 * and the family reads its result on the portal. The numéro fiscal is the shape every free-text
 * boundary refuses (`ressembleANumeroFiscal`: any separator, any digit form), so a link holding
 * one of our UUIDs goes through and `31-41-592-653-423` does not.
 */
const MONTANT = /[0-9][0-9 .\u00a0\u202f]*(?:,[0-9]{1,2})?\s*(?:€|euros?\b|EUR\b)/i;

/** The mailer's refusal: typed, and its message never quotes the value refused (which may be the very numéro fiscal). */
export class CourrielRefuse extends QuotientError {
  constructor(what: string) {
    super('invalid', 'courriel_refuse', `Ce courriel contiendrait ${what} : il n’est pas envoyé.`);
  }
}

export function assertCourrielSansDonneeFiscale(message: Courriel): void {
  for (const text of [message.subject, message.text]) {
    if (ressembleANumeroFiscal(text)) throw new CourrielRefuse('un numéro fiscal');
    if (MONTANT.test(text)) throw new CourrielRefuse('un montant');
  }
}

/**
 * Any mailer behind the guard (the SMTP one, a test's, a capture): a refused message is logged by
 * its reason's code only, never its address, subject or text, and the caller gets the typed error.
 */
export function mailerGarde(mailer: Mailer, logger: { warn(obj: object, msg: string): void }): Mailer {
  return {
    async send(message) {
      try {
        assertCourrielSansDonneeFiscale(message);
      } catch (error) {
        logger.warn({ code: (error as QuotientError).code, raison: (error as QuotientError).message }, 'courriel refusé avant l’envoi');
        throw error;
      }
      await mailer.send(message);
    },
  };
}

/** Sends through SMTP (QUOTIENT_SMTP_URL, e.g. `smtp://relais.ville.fr:25` or `smtps://user:pass@...`). */
export function createSmtpMailer(options: { url: string; from: string }): Mailer {
  const transport = nodemailer.createTransport(options.url);
  return {
    async send(message) {
      assertCourrielSansDonneeFiscale(message);
      await transport.sendMail({ from: options.from, to: message.to, subject: message.subject, text: message.text });
    },
  };
}

export interface CapturedCourriel {
  readonly receivedAt: string;
  readonly from: string;
  readonly to: readonly string[];
  /** The raw message as received (headers and body). */
  readonly raw: string;
  readonly subject: string;
  /** The text body, decoded. */
  readonly text: string;
}

export interface CaptureSmtp {
  /** `smtp://127.0.0.1:<port>` */
  readonly url: string;
  readonly messages: CapturedCourriel[];
  /**
   * The first message, already received or still to come, that `matches`: a test waits for the
   * event, not for a length of time. Rejects after `timeoutMs` (default 30 s) so a test ends.
   */
  received(matches: (message: CapturedCourriel) => boolean, timeoutMs?: number): Promise<CapturedCourriel>;
  close(): Promise<void>;
}

/** Decodes a quoted-printable body (what nodemailer uses for accented French text). */
function decodeQuotedPrintable(body: string): string {
  const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function decodeHeader(value: string): string {
  // Adjacent encoded words are one text (RFC 2047 §6.2); a character may straddle two of them.
  return value.replace(/(?:=\?utf-8\?[QB]\?[^?]*\?=\s*)+/gi, (run) => {
    const bytes = [...run.matchAll(/=\?utf-8\?([QB])\?([^?]*)\?=/gi)].map(([, enc = '', text = '']) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          ),
    );
    return Buffer.concat(bytes).toString('utf8');
  });
}

function parse(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const subject = decodeHeader(/^Subject: (.*)$/im.exec(head)?.[1] ?? '');
  const encoding = /^Content-Transfer-Encoding: (.*)$/im.exec(head)?.[1]?.trim().toLowerCase();
  const text = encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : encoding === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body;
  return { subject, text: text.replace(/\r\n/g, '\n').trimEnd() };
}

/**
 * A local SMTP server that keeps messages in memory: the demo's and the tests' mail relay, on
 * loopback only. Nothing leaves the machine and nothing is written to disk.
 */
export async function startCaptureSmtp(options: { port?: number; max?: number } = {}): Promise<CaptureSmtp> {
  const messages: CapturedCourriel[] = [];
  const max = options.max ?? 200;
  const waiters = new Set<(message: CapturedCourriel) => void>();
  // The capture server is for the demo and the tests: production never loads smtp-server.
  const { SMTPServer } = await import('smtp-server');
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    banner: 'Quotient capture',
    size: 1024 * 1024,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const message: CapturedCourriel = {
          receivedAt: new Date().toISOString(),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...parse(raw),
        };
        messages.push(message);
        if (messages.length > max) messages.shift();
        for (const waiter of [...waiters]) waiter(message);
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    received: (matches, timeoutMs = 30_000) => {
      const found = messages.find(matches);
      if (found) return Promise.resolve(found);
      return new Promise<CapturedCourriel>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching e-mail within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        const waiter = (message: CapturedCourriel) => {
          if (!matches(message)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(message);
        };
        waiters.add(waiter);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
