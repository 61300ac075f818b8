import { createHmac, timingSafeEqual } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/**
 * Loopback receivers for the alert channels, written from the RFCs and the documented signature
 * rather than from our senders, so that a test compares the two.
 */

/** Collected items and waiters: a test waits for the n-th item, never for a duration. */
class Inbox<T> {
  readonly items: T[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => (this.items.length >= w.n ? (w.resolve(), false) : true));
  }

  /** Resolves once `n` items arrived; the deadline only keeps a broken test from hanging. */
  wait(n: number, deadlineMs = 15_000): Promise<T[]> {
    if (this.items.length >= n) return Promise.resolve(this.items);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.items.length} of ${n} expected items arrived`)), deadlineMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(this.items)) });
    });
  }
}

export interface RequeteRecue {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The signature checked as a receiver would: HMAC-SHA256(secret, "<t>.<body>"). */
  readonly signatureValide: boolean;
  readonly timestamp: number | null;
}

export interface RecepteurWebhook {
  readonly url: string;
  readonly inbox: Inbox<RequeteRecue>;
  close(): Promise<void>;
}

/** `status(n)` answers the n-th request (from 1); `'silence'` never answers. */
export async function demarrerRecepteurWebhook(options: { secret: string; status?: (n: number) => number | 'silence' }): Promise<RecepteurWebhook> {
  const inbox = new Inbox<RequeteRecue>();
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = String(req.headers['x-quotient-signature'] ?? '');
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      let valid = false;
      if (match) {
        const expected = createHmac('sha256', options.secret).update(`${match[1]}.${body}`).digest();
        valid = timingSafeEqual(expected, Buffer.from(match[2] as string, 'hex'));
      }
      inbox.push({ headers: req.headers, body, signatureValide: valid, timestamp: match ? Number(match[1]) : null });
      const status = options.status?.(inbox.items.length) ?? 204;
      if (status === 'silence') return;
      res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/alertes/jeton-dans-le-chemin`,
    inbox,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RecepteurSyslog {
  readonly port: number;
  readonly inbox: Inbox<Buffer>;
  close(): Promise<void>;
}

/** Splits an octet-counted stream (RFC 6587 §3.4.1) into messages. */
function octetCounting(socket: Socket, inbox: Inbox<Buffer>): void {
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const space = buffer.indexOf(0x20);
      if (space < 0) return;
      const length = Number(buffer.subarray(0, space).toString('ascii'));
      if (!Number.isInteger(length) || length <= 0) {
        socket.destroy();
        return;
      }
      if (buffer.length < space + 1 + length) return;
      inbox.push(Buffer.from(buffer.subarray(space + 1, space + 1 + length)));
      buffer = buffer.subarray(space + 1 + length);
    }
  });
  socket.on('error', () => undefined);
}

export async function demarrerRecepteurSyslog(transport: 'udp' | 'tcp' | 'tls', tls?: { cert: string; key: string }): Promise<RecepteurSyslog> {
  const inbox = new Inbox<Buffer>();
  if (transport === 'udp') {
    const socket = createSocket('udp4');
    socket.on('message', (message) => inbox.push(message));
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return { port: socket.address().port, inbox, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  }
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    octetCounting(socket, inbox);
  };
  const server: Server = transport === 'tls' ? createTlsServer({ cert: tls?.cert, key: tls?.key }, onSocket) : createTcpServer(onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    inbox,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface MessageSyslog {
  readonly pri: number;
  readonly version: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  readonly sd: ReadonlyArray<{ readonly id: string; readonly params: Readonly<Record<string, string>> }>;
  readonly bom: boolean;
  readonly msg: string;
}

/** A strict RFC 5424 §6 parser: throws on anything the grammar does not allow. */
export function analyserSyslog(frame: Buffer): MessageSyslog {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`RFC 5424: ${what} at octet ${i}`);
  };
  const token = () => {
    const start = i;
    while (i < frame.length && frame[i] !== 0x20) {
      if ((frame[i] as number) < 0x21 || (frame[i] as number) > 0x7e) fail('non-printable header octet');
      i++;
    }
    if (i === start) fail('empty header field');
    const value = frame.subarray(start, i).toString('ascii');
    if (frame[i] !== 0x20) fail('missing space');
    i++;
    return value;
  };
  const head = /^<([0-9]{1,3})>([1-9][0-9]{0,2}) /.exec(frame.subarray(0, 10).toString('latin1')) ?? fail('PRI/VERSION');
  const pri = Number(head[1]);
  if (pri > 191) fail('PRI above 191');
  i = head[0].length;
  const timestamp = token();
  const hostname = token();
  const appName = token();
  const procId = token();
  const msgId = token();
  const sd: Array<{ id: string; params: Record<string, string> }> = [];
  if (frame[i] === 0x2d) i++;
  else {
    while (frame[i] === 0x5b) {
      i++;
      const nameEnd = () => {
        const start = i;
        while (i < frame.length && ![0x20, 0x3d, 0x5d, 0x22].includes(frame[i] as number)) i++;
        if (i === start || i - start > 32) fail('SD-NAME');
        return frame.subarray(start, i).toString('ascii');
      };
      const id = nameEnd();
      const params: Record<string, string> = {};
      while (frame[i] === 0x20) {
        i++;
        const name = nameEnd();
        if (frame[i++] !== 0x3d || frame[i++] !== 0x22) fail('PARAM = "');
        const bytes: number[] = [];
        for (;;) {
          const c = frame[i++] ?? fail('unterminated PARAM-VALUE');
          if (c === 0x22) break;
          if (c === 0x5d) fail('unescaped ] in PARAM-VALUE');
          if (c === 0x5c && [0x22, 0x5c, 0x5d].includes(frame[i] as number)) bytes.push(frame[i++] as number);
          else bytes.push(c);
        }
        params[name] = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
      }
      if (frame[i++] !== 0x5d) fail('SD-ELEMENT not closed');
      sd.push({ id, params });
    }
    if (sd.length === 0) fail('STRUCTURED-DATA');
  }
  let bom = false;
  let msg = '';
  if (i < frame.length) {
    if (frame[i++] !== 0x20) fail('space before MSG');
    bom = frame[i] === 0xef && frame[i + 1] === 0xbb && frame[i + 2] === 0xbf;
    msg = new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(bom ? i + 3 : i));
  }
  return { pri, version: Number(head[2]), timestamp, hostname, appName, procId, msgId, sd, bom, msg };
}
