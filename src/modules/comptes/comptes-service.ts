import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { sql, type Kysely } from 'kysely';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { NOM_MAX, nomPlausible } from '../../domain/etat-civil.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { CompteursPartages } from '../../infra/limites/compteurs.ts';
import type { Mailer } from '../../infra/mail/mailer.ts';
import type { Acteur, AuditEntryInput } from '../audit/audit-entry.ts';
import type { FranceConnectIdentity } from './franceconnect-client.ts';

/** Where a new account's family comes from: the families capability (FamillesService.creer). */
export interface FamillesPort {
  creer(input: unknown, acteur: Acteur): Promise<{ id: string; reference: string }>;
  /**
   * Parent 1's identity set again from FranceConnect's claims (the family cannot change it), and
   * its e-mail as the family's address when it has none (the family can change that one).
   */
  reprendreIdentiteFranceConnect(
    familleId: string,
    identite: { prenoms: string; nomNaissance: string; dateNaissance: string | null; courriel: string | null },
    acteur: Acteur,
  ): Promise<void>;
}

export interface JournalPort {
  append(entry: AuditEntryInput): Promise<unknown>;
}

export interface CompteConnecte {
  readonly compteId: string;
  readonly familleId: string;
  readonly familleReference: string;
  readonly displayName: string;
  readonly kind: 'franceconnect' | 'local';
  readonly email: string | null;
  /** FranceConnect's pseudonymous identifier of the person (with its issuer), for a FranceConnect account. */
  readonly franceConnect: { readonly issuer: string; readonly sub: string } | null;
}

export const PASSWORD_MIN_LENGTH = 12;
/** Failures before an account (or an unknown address) is held back, and for how long. */
export const MAX_FAILURES = 5;
export const LOCK_MS = 15 * 60_000;
/** Failures on an unknown address are forgotten a day after the last one. */
const OUBLI_ECHECS_MS = 24 * 3600_000;
const VERIFICATION_TTL_MS = 48 * 3600_000;
const RESET_TTL_MS = 60 * 60_000;

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const normaliseEmail = (email: string) => email.trim().toLowerCase();
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Password rules (CNIL, délibération 2022-100: with throttling, at least 12 characters of three
 * kinds is the recommended floor). Answers in French, one message per broken rule.
 */
/** A passphrase: at least this many words of two letters or more, and this many characters. */
export const PHRASE_MOTS_MIN = 4;
export const PHRASE_LONGUEUR_MIN = 20;

function estPhraseDePasse(password: string): boolean {
  const mots = password.split(/[^\p{L}0-9]+/u).filter((m) => m.length >= 2);
  return password.length >= PHRASE_LONGUEUR_MIN && mots.length >= PHRASE_MOTS_MIN;
}

export function passwordProblems(password: string, email = ''): string[] {
  const problems: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH) problems.push(`Le mot de passe doit comporter au moins ${PASSWORD_MIN_LENGTH} caractères.`);
  if (password.length > 128) problems.push('Le mot de passe doit comporter au plus 128 caractères.');
  const kinds = [/[a-zà-ÿ]/, /[A-ZÀ-Þ]/, /[0-9]/, /[^A-Za-zÀ-ÿ0-9]/].filter((k) => k.test(password)).length;
  // A long phrase of several words is as hard to guess as a short mix of kinds: the hint offers it, so the rule takes it.
  if (kinds < 3 && !estPhraseDePasse(password))
    problems.push(
      `Le mot de passe doit mélanger au moins trois sortes de caractères parmi : minuscules, majuscules, chiffres, autres signes (espace, ponctuation), ou être une phrase d’au moins ${PHRASE_MOTS_MIN} mots et ${PHRASE_LONGUEUR_MIN} caractères.`,
    );
  const local = normaliseEmail(email).split('@')[0] ?? '';
  if (local.length >= 4 && password.toLowerCase().includes(local)) problems.push('Le mot de passe ne doit pas contenir votre adresse électronique.');
  return problems;
}

/** A same-cost hash to verify against when the address is unknown: the answer takes as long. */
let dummyHash: Promise<string> | undefined;

export interface ComptesServiceDeps {
  readonly db: Kysely<Schema>;
  readonly familles: FamillesPort;
  readonly mailer: Mailer;
  readonly publicUrl: string;
  readonly communeNom: string;
  readonly journal?: JournalPort;
  readonly clock?: () => number;
  /** The password hasher (argon2id); a test counts its calls to see both answers do the same work. */
  readonly hacher?: (password: string) => Promise<string>;
  /** Where a mail sent after the answer reports its failure (by its kind only: an SMTP error may quote the address). */
  readonly logger?: { error(obj: object, msg: string): void };
}

export interface Inscription {
  readonly prenoms: string;
  readonly nom: string;
  readonly email: string;
  readonly password: string;
}

/** Sign-in, sign-up, verification and reset of family accounts. */
export class ComptesService {
  /** Failures on unknown addresses, counted in the database: every instance holds the same address back. */
  private readonly echecsInconnus: CompteursPartages;

  private readonly hacher: (password: string) => Promise<string>;
  constructor(private readonly deps: ComptesServiceDeps) {
    this.hacher = deps.hacher ?? ((password) => argon2Hash(password));
    this.echecsInconnus = new CompteursPartages(deps.db, () => this.now());
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  private iso(offsetMs = 0): string {
    return new Date(this.now() + offsetMs).toISOString();
  }

  private async audit(entry: AuditEntryInput): Promise<void> {
    await this.deps.journal?.append(entry);
  }

  async compte(compteId: string): Promise<CompteConnecte | undefined> {
    const row = await this.deps.db
      .selectFrom('comptes')
      .innerJoin('familles', 'familles.id', 'comptes.famille_id')
      .select([
        'comptes.id',
        'comptes.famille_id',
        'familles.reference',
        'comptes.display_name',
        'comptes.kind',
        'comptes.email',
        'comptes.issuer',
        'comptes.sub',
      ])
      .where('comptes.id', '=', compteId)
      .executeTakeFirst();
    return row
      ? {
          compteId: row.id,
          familleId: row.famille_id,
          familleReference: row.reference,
          displayName: row.display_name,
          kind: row.kind,
          email: row.email,
          franceConnect: row.kind === 'franceconnect' && row.issuer && row.sub ? { issuer: row.issuer, sub: row.sub } : null,
        }
      : undefined;
  }

  /** Links the FranceConnect identity (issuer + sub) to its account, creating account and family the first time. */
  async connecterFranceConnect(identity: FranceConnectIdentity): Promise<string> {
    const { db } = this.deps;
    const displayName = `${identity.givenName} ${identity.familyName}`;
    const parent1 = {
      nomNaissance: identity.familyName,
      prenoms: identity.givenName,
      dateNaissance: identity.birthdate && /^\d{4}-\d{2}-\d{2}$/.test(identity.birthdate) ? identity.birthdate : null,
    };
    const existing = await db
      .selectFrom('comptes')
      .select(['id', 'famille_id'])
      .where('kind', '=', 'franceconnect')
      .where('issuer', '=', identity.issuer)
      .where('sub', '=', identity.sub)
      .executeTakeFirst();
    if (existing) {
      await db
        .updateTable('comptes')
        .set({ last_sign_in_at: this.iso(), display_name: displayName, email: identity.email })
        .where('id', '=', existing.id)
        .execute();
      await this.deps.familles.reprendreIdentiteFranceConnect(
        existing.famille_id,
        { ...parent1, courriel: identity.email },
        { type: 'famille', id: existing.id },
      );
      await this.audit({
        actor: { type: 'famille', id: existing.id },
        action: 'compte.connexion',
        target: { type: 'compte', id: existing.id },
        outcome: 'succes',
        details: { methode: 'franceconnect' },
      });
      return existing.id;
    }
    const compteId = randomUUID();
    // FranceConnect's e-mail is the family's address from the start: it gets the e-mails local accounts get.
    const famille = await this.deps.familles.creer(
      { parents: [parent1], ...(identity.email ? { courriel: identity.email } : {}) },
      { type: 'famille', id: compteId },
    );
    await db
      .insertInto('comptes')
      .values({
        id: compteId,
        kind: 'franceconnect',
        issuer: identity.issuer,
        sub: identity.sub,
        // What FranceConnect last said, not verified by Quotient: the mails go to the family's address.
        email: identity.email,
        password_hash: null,
        email_verified_at: null,
        display_name: displayName,
        famille_id: famille.id,
        created_at: this.iso(),
        last_sign_in_at: this.iso(),
        locked_until: null,
      })
      .execute();
    await this.audit({
      actor: { type: 'famille', id: compteId },
      action: 'compte.cree',
      target: { type: 'famille', id: famille.id },
      outcome: 'succes',
      details: { methode: 'franceconnect' },
    });
    return compteId;
  }

  /**
   * Creates a local account and its family, and sends the verification link. When the address is
   * already taken, the answer is the same and the owner of the address gets a notice instead: the
   * form never tells whether an account exists.
   */
  async inscrire(input: Inscription): Promise<void> {
    const email = normaliseEmail(input.email);
    const details: ErrorDetail[] = [];
    if (input.prenoms.trim() === '') details.push({ path: 'prenoms', message: 'Indiquez vos prénoms.' });
    else if (!nomPlausible(input.prenoms) || input.prenoms.length > NOM_MAX)
      details.push({ path: 'prenoms', message: `Vos prénoms ne contiennent pas de chiffre (${NOM_MAX} caractères au plus) : vérifiez la saisie.` });
    if (input.nom.trim() === '') details.push({ path: 'nom', message: 'Indiquez votre nom de naissance.' });
    else if (!nomPlausible(input.nom) || input.nom.length > NOM_MAX)
      details.push({ path: 'nom', message: `Votre nom ne contient pas de chiffre (${NOM_MAX} caractères au plus) : vérifiez la saisie.` });
    if (!EMAIL.test(email) || email.length > 254)
      details.push({ path: 'email', message: 'Indiquez une adresse électronique valide, par exemple nom@exemple.fr.' });
    for (const message of passwordProblems(input.password, email)) details.push({ path: 'password', message });
    if (details.length > 0) throw new QuotientError('invalid', 'inscription_invalide', 'Certaines informations sont à corriger.', { details });

    const { db } = this.deps;
    const taken = await db.selectFrom('comptes').select('id').where('kind', '=', 'local').where('email', '=', email).executeTakeFirst();
    if (taken) {
      // The same work as a new account (the hash), and the mail after the answer: both answers take as long (issue 12, hole 6).
      await this.hacher(input.password);
      this.envoyerApres({
        to: email,
        subject: `Votre compte Quotient familial – ${this.deps.communeNom}`,
        text: `Bonjour,\n\nQuelqu’un (peut-être vous) a demandé à créer un compte avec cette adresse, mais un compte existe déjà.\n\nPour vous connecter : ${this.deps.publicUrl}/connexion\nSi vous avez oublié votre mot de passe : ${this.deps.publicUrl}/mot-de-passe-oublie\n\nSi vous n’êtes pas à l’origine de cette demande, ignorez ce message.\n\n${this.deps.communeNom}`,
      });
      return;
    }
    const compteId = randomUUID();
    const passwordHash = await this.hacher(input.password);
    const famille = await this.deps.familles.creer(
      { parents: [{ nomNaissance: input.nom.trim(), prenoms: input.prenoms.trim() }], courriel: email },
      { type: 'famille', id: compteId },
    );
    await db
      .insertInto('comptes')
      .values({
        id: compteId,
        kind: 'local',
        issuer: null,
        sub: null,
        email,
        password_hash: passwordHash,
        email_verified_at: null,
        display_name: `${input.prenoms.trim()} ${input.nom.trim()}`,
        famille_id: famille.id,
        created_at: this.iso(),
        last_sign_in_at: null,
        locked_until: null,
      })
      .execute();
    await this.audit({
      actor: { type: 'famille', id: compteId },
      action: 'compte.cree',
      target: { type: 'famille', id: famille.id },
      outcome: 'succes',
      details: { methode: 'local' },
    });
    const token = await this.newToken(compteId, 'verification', VERIFICATION_TTL_MS);
    this.envoyerApres({
      to: email,
      subject: `Confirmez votre adresse électronique – ${this.deps.communeNom}`,
      text: `Bonjour,\n\nPour activer votre compte Quotient familial, ouvrez ce lien (valable 48 heures) :\n${this.deps.publicUrl}/inscription/confirmation?jeton=${token}\n\nSi vous n’avez pas demandé la création d’un compte, ignorez ce message.\n\n${this.deps.communeNom}`,
    });
  }

  /**
   * Sends after the answer: the page never waits on the mailer, so a known address answers as fast
   * as an unknown one. A failure is logged by its kind, never with the address.
   */
  private envoyerApres(message: Parameters<Mailer['send']>[0]): void {
    void this.deps.mailer.send(message).catch((error: unknown) => {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
      this.deps.logger?.error({ code, type: error instanceof Error ? error.name : typeof error }, 'échec de l’envoi d’un courriel de compte');
    });
  }

  private async newToken(compteId: string, purpose: 'verification' | 'reinitialisation', ttlMs: number): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.deps.db
      .insertInto('compte_jetons')
      .values({ token_hash: sha256(token), compte_id: compteId, purpose, created_at: this.iso(), expires_at: this.iso(ttlMs), used_at: null })
      .execute();
    return token;
  }

  /** Uses a token once; an unknown, used or expired token is refused the same way. */
  private async consumeToken(token: string, purpose: 'verification' | 'reinitialisation'): Promise<string> {
    const invalid = new QuotientError(
      'invalid',
      'jeton_invalide',
      'Ce lien n’est plus valable : il a déjà servi ou a expiré. Vous pouvez en demander un nouveau.',
    );
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw invalid;
    const now = this.iso();
    const result = await this.deps.db
      .updateTable('compte_jetons')
      .set({ used_at: now })
      .where('token_hash', '=', sha256(token))
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('compte_id')
      .executeTakeFirst();
    if (!result) throw invalid;
    return result.compte_id;
  }

  /** Checks that a link is still usable, without using it (the page that shows the form). */
  async jetonValide(token: string, purpose: 'verification' | 'reinitialisation'): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
    const row = await this.deps.db
      .selectFrom('compte_jetons')
      .select('compte_id')
      .where('token_hash', '=', sha256(token))
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', this.iso())
      .executeTakeFirst();
    return row !== undefined;
  }

  async confirmerCourriel(token: string): Promise<void> {
    const compteId = await this.consumeToken(token, 'verification');
    await this.deps.db
      .updateTable('comptes')
      .set({ email_verified_at: this.iso() })
      .where('id', '=', compteId)
      .where('email_verified_at', 'is', null)
      .execute();
    await this.audit({
      actor: { type: 'famille', id: compteId },
      action: 'compte.courriel_confirme',
      target: { type: 'compte', id: compteId },
      outcome: 'succes',
    });
  }

  /**
   * E-mail and password. Every failure gives the same message; after MAX_FAILURES failures on one
   * address, known or not, the address is held back for LOCK_MS, with the same message for both.
   */
  async connecterLocal(emailInput: string, password: string): Promise<string> {
    const email = normaliseEmail(emailInput);
    // One answer for an unknown address, a wrong password and an unconfirmed account whatever its password (issue 12, hole 6).
    const wrong = new QuotientError(
      'unauthenticated',
      'identifiants_incorrects',
      'Adresse électronique ou mot de passe incorrect, ou adresse pas encore confirmée : si vous venez de créer votre compte, ouvrez d’abord le lien reçu par courriel.',
    );
    const held = new QuotientError(
      'rate_limited',
      'connexion_suspendue',
      `Trop d’essais infructueux pour cette adresse : la connexion est suspendue pendant ${LOCK_MS / 60_000} minutes. Vous pouvez aussi réinitialiser votre mot de passe.`,
    );
    const now = this.now();
    const row = await this.deps.db.selectFrom('comptes').selectAll().where('kind', '=', 'local').where('email', '=', email).executeTakeFirst();
    if (!row || !row.password_hash) {
      // Kept by a digest of the address, never the address itself; something typed that looks like
      // a numéro fiscal is not kept in any form (the per-address-IP limit still counts the try).
      const cle = ressembleANumeroFiscal(email) ? null : `connexion-inconnue:${sha256(email)}`;
      if (cle !== null && (await this.echecsInconnus.bloque(cle, MAX_FAILURES)) !== null) throw held;
      dummyHash ??= argon2Hash('mot de passe factice pour le temps de réponse');
      await argon2Verify(await dummyHash, password).catch(() => false);
      if (cle === null) throw wrong;
      const echec = await this.echecsInconnus.echouer(cle, MAX_FAILURES, LOCK_MS, OUBLI_ECHECS_MS);
      throw echec.bloque ? held : wrong;
    }
    if (row.locked_until !== null && row.locked_until > new Date(now).toISOString()) throw held;
    const ok = await argon2Verify(row.password_hash, password).catch(() => false);
    if (!ok) {
      // Counted by the database itself: two instances failing at once both count.
      const bumped = await this.deps.db
        .updateTable('comptes')
        .set({ failed_attempts: sql<number>`failed_attempts + 1` })
        .where('id', '=', row.id)
        .returning('failed_attempts')
        .executeTakeFirst();
      const lock = Number(bumped?.failed_attempts ?? 0) >= MAX_FAILURES;
      if (lock)
        await this.deps.db
          .updateTable('comptes')
          .set({ failed_attempts: 0, locked_until: new Date(now + LOCK_MS).toISOString() })
          .where('id', '=', row.id)
          .execute();
      await this.audit({
        actor: { type: 'famille', id: row.id },
        action: 'compte.connexion',
        target: { type: 'compte', id: row.id },
        outcome: 'echec',
        details: { methode: 'local', suspendu: lock },
      });
      throw lock ? held : wrong;
    }
    // An unconfirmed account: the right password is not told from a wrong one.
    if (row.email_verified_at === null) throw wrong;
    await this.deps.db
      .updateTable('comptes')
      .set({ failed_attempts: 0, locked_until: null, last_sign_in_at: new Date(now).toISOString() })
      .where('id', '=', row.id)
      .execute();
    await this.audit({
      actor: { type: 'famille', id: row.id },
      action: 'compte.connexion',
      target: { type: 'compte', id: row.id },
      outcome: 'succes',
      details: { methode: 'local' },
    });
    return row.id;
  }

  /** Sends a reset link when a local account has this address; the answer is the same otherwise. */
  async demanderReinitialisation(emailInput: string): Promise<void> {
    const email = normaliseEmail(emailInput);
    if (!EMAIL.test(email))
      throw new QuotientError('invalid', 'courriel_invalide', 'Certaines informations sont à corriger.', {
        details: [{ path: 'email', message: 'Indiquez une adresse électronique valide, par exemple nom@exemple.fr.' }],
      });
    const row = await this.deps.db.selectFrom('comptes').select('id').where('kind', '=', 'local').where('email', '=', email).executeTakeFirst();
    // An unknown address does the same work as a known one: a token drawn and digested (not stored), no mail to wait for (issue 12, hole 6).
    if (!row) {
      createHash('sha256').update(randomBytes(32)).digest();
      return;
    }
    const token = await this.newToken(row.id, 'reinitialisation', RESET_TTL_MS);
    this.envoyerApres({
      to: email,
      subject: `Nouveau mot de passe – ${this.deps.communeNom}`,
      text: `Bonjour,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien (valable 1 heure, une seule fois) :\n${this.deps.publicUrl}/mot-de-passe/nouveau?jeton=${token}\n\nSi vous n’avez rien demandé, ignorez ce message : votre mot de passe actuel reste valable.\n\n${this.deps.communeNom}`,
    });
  }

  /** Sets the new password; the address is thereby confirmed, failures are forgotten. Returns the account. */
  async reinitialiser(token: string, password: string): Promise<string> {
    const problems = passwordProblems(password);
    if (problems.length > 0)
      throw new QuotientError('invalid', 'mot_de_passe_invalide', 'Certaines informations sont à corriger.', {
        details: problems.map((message) => ({ path: 'password', message })),
      });
    const passwordHash = await argon2Hash(password);
    const compteId = await this.consumeToken(token, 'reinitialisation');
    const now = this.iso();
    await this.deps.db
      .updateTable('comptes')
      .set((eb) => ({
        password_hash: passwordHash,
        failed_attempts: 0,
        locked_until: null,
        email_verified_at: eb.fn.coalesce('email_verified_at', eb.val(now)),
      }))
      .where('id', '=', compteId)
      .execute();
    // Every other token of this account and every open session end with the old password.
    await this.deps.db.updateTable('compte_jetons').set({ used_at: now }).where('compte_id', '=', compteId).where('used_at', 'is', null).execute();
    await this.deps.db.deleteFrom('sessions').where('compte_id', '=', compteId).execute();
    await this.audit({
      actor: { type: 'famille', id: compteId },
      action: 'compte.mot_de_passe_change',
      target: { type: 'compte', id: compteId },
      outcome: 'succes',
    });
    return compteId;
  }
}
