import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { QuotientError } from '../domain/errors.ts';
import type { Schema } from '../infra/db/schema.ts';
import { ChiffrementSessions } from './session-chiffrement.ts';

/**
 * Server-side sessions and CSRF tokens (ASVS 7.x, 3.3, 3.5).
 *
 * - The cookie holds only a 192-bit random id (the plugin's CSPRNG generator); the database keeps
 *   its SHA-256 digest with the session data, so a copy of the table gives no live session. The
 *   data are encrypted with a key derived from the id itself (session-chiffrement.ts).
 * - Over https the cookie is `__Host-quotient` (Secure, HttpOnly, SameSite=Lax, Path=/, no Domain).
 *   Browsers do not keep a Secure cookie received over plain http, and refuse a `__Host-` cookie
 *   without Secure: when QUOTIENT_PUBLIC_URL is http (the demo on http://localhost, tests) the
 *   cookie is plain `quotient`, HttpOnly and SameSite=Lax, without Secure.
 * - Idle and absolute timeouts are enforced by the store on every read, with the server's clock,
 *   never by the browser: an expired session is deleted and the request continues anonymous.
 * - Sign-in renews the id (fixation), sign-out deletes the row (a replayed cookie is worth nothing).
 * - A session is stored once it holds something (a sign-in, or one in progress): an anonymous
 *   visitor shown forms has a cookie and CSRF tokens derived from its id, and no row.
 */

export interface SessionPolicy {
  /** Without a request for this long, the session ends. */
  readonly idleMs: number;
  /** Whatever the activity, the session ends this long after it began. */
  readonly absoluteMs: number;
}

/** Families (documented in the README, ASVS 7.1.1): 30 minutes idle, 12 hours at most. */
export const FAMILY_SESSION_POLICY: SessionPolicy = { idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000 };
/**
 * Agents see many families' data: 15 minutes idle (a counter left unattended), 9 hours at most (a
 * working day), then they sign in again through the commune's identity provider.
 */
export const AGENT_SESSION_POLICY: SessionPolicy = { idleMs: 15 * 60_000, absoluteMs: 9 * 3600_000 };

export const SECURE_COOKIE_NAME = '__Host-quotient';
export const PLAIN_COOKIE_NAME = 'quotient';

export function sessionCookieName(httpsPublicUrl: boolean): string {
  return httpsPublicUrl ? SECURE_COOKIE_NAME : PLAIN_COOKIE_NAME;
}

/** What a session may hold. Sign-in state and the pending OpenID Connect exchange, nothing else. */
export interface SessionData {
  compteId?: string;
  /** When the person signed in (ISO). */
  signedInAt?: string;
  /** How: `franceconnect` or `local`. */
  method?: 'franceconnect' | 'local';
  /** A signed-in agent (back-office); never together with `compteId`. */
  agentId?: string;
  /** The agents' provider's ID token, for its end-session. */
  agentIdToken?: string;
  /** FranceConnect's ID token, kept for the logout through the provider (id_token_hint). */
  idToken?: string;
  /*
   * Never FranceConnect's access token: it lives a minute and is used within the callback request,
   * then held in memory with its expiry until the DGFiP call (docs/franceconnect.md).
   */
  /** The pending authorisation request: state, nonce and PKCE verifier, bound to this browser. */
  oidc?: { state: string; nonce: string; codeVerifier: string; startedAt: number };
  /** The same, for an agent's sign-in. */
  agentOidc?: { state: string; nonce: string; codeVerifier: string; startedAt: number };
  /** A one-shot message for the next page (after sign-out, after a reset). */
  flash?: string;
  /**
   * A form was shown: the session id, which its CSRF token is derived from, must reach the browser
   * in the cookie. Never stored: a session holding only this has no row.
   */
  formulaire?: true;
}

declare module 'fastify' {
  // The plugin's session object carries our fields directly.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into the plugin's declaration
  interface Session extends SessionData {}
  interface FastifyReply {
    /** The CSRF token of a form on this page, bound to the browser's session id. */
    generateCsrf(): string;
  }
}

/**
 * Set by `signIn` and `signInAgent` on the session they create, for this request only (a symbol is
 * neither stored nor copied into the next request's session): the one case where a signed-in
 * session without a row is written.
 */
const NOUVELLE_CONNEXION = Symbol('nouvelle connexion');

/** How stale the idle deadline may get before a read moves it: a minute, or a tenth of a short idle time. */
const touchStep = (policy: SessionPolicy) => Math.min(60_000, policy.idleMs / 10);

const digest = (id: string) => createHash('sha256').update(id).digest('base64url');

/** The session store of @fastify/session, on the `sessions` table (both dialects), its data encrypted. */
export class DatabaseSessionStore {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly chiffrement: ChiffrementSessions,
    private readonly policy: SessionPolicy,
    private readonly clock: () => number,
    private readonly agentPolicy: SessionPolicy = AGENT_SESSION_POLICY,
  ) {}

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the plugin's callback type is loose
  get(sessionId: string, callback: (err: any, session?: any) => void): void {
    this.read(sessionId).then(
      (s) => callback(null, s),
      (e: unknown) => callback(e),
    );
  }

  set(sessionId: string, session: object, callback: (err?: unknown) => void): void {
    this.write(sessionId, session as Record<string, unknown>).then(
      () => callback(),
      (e: unknown) => callback(e),
    );
  }

  destroy(sessionId: string, callback: (err?: unknown) => void): void {
    this.db
      .deleteFrom('sessions')
      .where('id_hash', '=', digest(sessionId))
      .execute()
      .then(
        () => callback(),
        (e: unknown) => callback(e),
      );
  }

  private async read(sessionId: string): Promise<Record<string, unknown> | null> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id_hash', '=', digest(sessionId)).executeTakeFirst();
    // An anonymous visitor's session has no row until it holds something: its id (in the cookie,
    // and in the CSRF tokens of the forms it was shown) goes on, empty.
    if (!row) return {};
    const now = new Date(this.clock()).toISOString();
    const clair = row.idle_expires_at <= now || row.absolute_expires_at <= now ? null : this.chiffrement.dechiffrer(sessionId, row.id_hash, row.data);
    // Expired, or unreadable (written in clear by an earlier release, or altered): the session ends.
    if (clair === null) {
      await this.db.deleteFrom('sessions').where('id_hash', '=', row.id_hash).execute();
      return null;
    }
    // The idle deadline moves without rewriting the data, and at most once per TOUCH step: the
    // session then ends between idleMs - step and idleMs after the last request, never later.
    const policy = row.agent_id === null ? this.policy : this.agentPolicy;
    const nowMs = this.clock();
    if (nowMs - Date.parse(row.last_seen_at) >= touchStep(policy)) {
      await this.db
        .updateTable('sessions')
        .set({ last_seen_at: now, idle_expires_at: new Date(nowMs + policy.idleMs).toISOString() })
        .where('id_hash', '=', row.id_hash)
        .execute();
    }
    return JSON.parse(clair) as Record<string, unknown>;
  }

  private async write(sessionId: string, session: Record<string | symbol, unknown>): Promise<void> {
    const nowMs = this.clock();
    const now = new Date(nowMs).toISOString();
    // The cookie's own attributes are configuration, not data: only our fields are stored.
    const { cookie: _cookie, formulaire: _formulaire, ...fields } = session;
    const idHash = digest(sessionId);
    const data = this.chiffrement.chiffrer(sessionId, idHash, JSON.stringify(fields));
    const compteId = typeof fields.compteId === 'string' ? fields.compteId : null;
    const agentId = typeof fields.agentId === 'string' ? fields.agentId : null;
    const policy = agentId === null ? this.policy : this.agentPolicy;
    const idle = new Date(nowMs + policy.idleMs).toISOString();
    const updated = await this.db
      .updateTable('sessions')
      .set({ data, compte_id: compteId, agent_id: agentId, last_seen_at: now, idle_expires_at: idle })
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) return;
    // Nothing to keep (an anonymous visitor shown pages and forms): no row, however many visits.
    if (Object.keys(fields).length === 0) return;
    // A signed-in session gets its row when the sign-in creates it: if the row is gone later, the
    // session was ended meanwhile (agent disabled, password reset, sign-out elsewhere) and stays so.
    if ((compteId !== null || agentId !== null) && session[NOUVELLE_CONNEXION] !== true) return;
    await this.db
      .insertInto('sessions')
      .values({
        id_hash: idHash,
        data,
        compte_id: compteId,
        agent_id: agentId,
        created_at: now,
        last_seen_at: now,
        idle_expires_at: idle,
        absolute_expires_at: new Date(nowMs + policy.absoluteMs).toISOString(),
      })
      .execute();
  }

  /** Ends every session of an account (password reset, revocation). */
  async destroyForCompte(compteId: string): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('compte_id', '=', compteId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/**
 * The cookie carries the random id itself, unsigned: the id is unguessable and looked up server
 * side, so a signature would add a secret to manage without adding protection.
 */
const identitySigner = {
  sign: (value: string) => value,
  unsign: (value: string) => (/^[A-Za-z0-9_-]{32}$/.test(value) ? { valid: true, renew: false, value } : { valid: false, renew: false, value: null }),
};

export interface SessionOptions {
  readonly db: Kysely<Schema>;
  /** The sessions' key (QUOTIENT_SESSION_KEY_FILE). */
  readonly key: Buffer;
  readonly httpsPublicUrl: boolean;
  readonly policy?: SessionPolicy;
  readonly agentPolicy?: SessionPolicy;
  readonly clock?: () => number;
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const FORMULAIRE_EXPIRE =
  'Ce formulaire a expiré ou ne vient pas de ce site : rien n’a été enregistré. Revenez à la page précédente, rechargez-la et recommencez.';

/**
 * CSRF tokens (ASVS 3.5.1) bound to the session id without storing anything: a random salt and the
 * HMAC of the id with it. Only this browser knows the id (an HttpOnly cookie) and only the server
 * the key, so another site can neither read nor forge a token; a new id (sign-in, sign-out) voids
 * the tokens of the old one. The salt makes each token different (no fixed secret in the pages).
 */
function jetonCsrf(cle: Buffer, sessionId: string): string {
  const sel = randomBytes(16).toString('base64url');
  return `${sel}.${createHmac('sha256', cle).update(`${sessionId}|${sel}`).digest('base64url')}`;
}

function jetonCsrfValide(cle: Buffer, sessionId: string, jeton: unknown): boolean {
  if (typeof jeton !== 'string') return false;
  const [sel, mac, ...reste] = jeton.split('.');
  if (!sel || !mac || reste.length > 0 || sel.length !== 22) return false;
  const attendu = createHmac('sha256', cle).update(`${sessionId}|${sel}`).digest();
  const recu = Buffer.from(mac, 'base64url');
  return recu.length === attendu.length && timingSafeEqual(recu, attendu);
}

/** Sessions, then CSRF tokens checked on every state-changing request outside the API. */
export async function registerSessions(app: FastifyInstance, options: SessionOptions): Promise<DatabaseSessionStore> {
  const store = new DatabaseSessionStore(
    options.db,
    new ChiffrementSessions(options.key),
    options.policy ?? FAMILY_SESSION_POLICY,
    options.clock ?? Date.now,
    options.agentPolicy ?? AGENT_SESSION_POLICY,
  );
  const cookieName = sessionCookieName(options.httpsPublicUrl);
  await app.register(cookie);
  await app.register(fastifySession, {
    secret: identitySigner,
    store,
    cookieName,
    cookie: { path: '/', httpOnly: true, secure: options.httpsPublicUrl, sameSite: 'lax' },
    // No cookie until there is something to keep (a form's session id, a sign-in).
    saveUninitialized: false,
    // Written only when it changed: the store's read moves the idle deadline (see touchStep).
    rolling: false,
  });
  const cleCsrf = Buffer.from(hkdfSync('sha256', options.key, Buffer.alloc(0), 'quotient-csrf|1', 32));
  app.decorateReply('generateCsrf', function generateCsrf(this: FastifyReply): string {
    // Only when the browser does not hold this id yet: otherwise there is nothing to send or store.
    if (this.request.cookies[cookieName] !== this.request.session.sessionId) this.request.session.formulaire = true;
    return jetonCsrf(cleCsrf, this.request.session.sessionId);
  });
  // Every form is protected without each route having to remember it. The API authenticates its
  // callers with credentials of their own (no cookie), so it is outside this rule.
  app.addHook('preHandler', async (request) => {
    if (!UNSAFE_METHODS.has(request.method) || request.url.startsWith('/api/')) return;
    const jeton = (request.body as { _csrf?: unknown } | undefined)?._csrf ?? request.headers['x-csrf-token'];
    const sessionId = request.session?.sessionId;
    if (!sessionId || !jetonCsrfValide(cleCsrf, sessionId, jeton)) throw new QuotientError('forbidden', 'formulaire_expire', FORMULAIRE_EXPIRE);
  });
  return store;
}

/** A fresh session id for the person who just proved who they are; the old id dies (fixation). */
export async function signIn(
  request: FastifyRequest,
  compteId: string,
  method: 'franceconnect' | 'local',
  extra: Pick<SessionData, 'idToken'> = {},
): Promise<void> {
  await request.session.regenerate();
  (request.session as unknown as Record<symbol, boolean>)[NOUVELLE_CONNEXION] = true;
  request.session.compteId = compteId;
  request.session.method = method;
  request.session.signedInAt = new Date().toISOString();
  if (extra.idToken !== undefined) request.session.idToken = extra.idToken;
}

/** A fresh session for an agent who just proved who they are: a family signed in here is signed out. */
export async function signInAgent(request: FastifyRequest, agentId: string, idToken: string): Promise<void> {
  await request.session.regenerate();
  (request.session as unknown as Record<symbol, boolean>)[NOUVELLE_CONNEXION] = true;
  request.session.agentId = agentId;
  request.session.agentIdToken = idToken;
  request.session.signedInAt = new Date().toISOString();
}

/** Deletes the server session, and asks the browser to forget the cookie (with the same flags). */
export async function signOut(request: FastifyRequest, reply: FastifyReply, httpsPublicUrl: boolean): Promise<void> {
  if (request.session?.sessionId) await request.session.destroy();
  reply.clearCookie(sessionCookieName(httpsPublicUrl), { path: '/', httpOnly: true, secure: httpsPublicUrl, sameSite: 'lax' });
}

/** The signed-in account id, or undefined. */
export function signedInCompteId(request: FastifyRequest): string | undefined {
  const id = (request.session as { compteId?: unknown } | undefined)?.compteId;
  return typeof id === 'string' ? id : undefined;
}

/** The signed-in account id, or a 401 page inviting to sign in. */
export function requireCompteId(request: FastifyRequest): string {
  const id = signedInCompteId(request);
  if (id === undefined) throw new QuotientError('unauthenticated', 'connexion_requise', 'Connectez-vous pour accéder à cette page.');
  return id;
}

/** The one-shot message left for this page by the request that redirected here; read once, then gone. */
export function takeFlash(request: FastifyRequest): string | undefined {
  const flash = request.session.flash;
  if (flash) request.session.flash = undefined;
  return flash;
}
