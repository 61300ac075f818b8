import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { nomPlausible } from '../../domain/etat-civil.ts';
import type { AgentTable, Schema } from '../../infra/db/schema.ts';
import type { Acteur, AuditEntryInput } from '../audit/audit-entry.ts';
import { isRoleAgent, LIBELLES_ROLES, parseRoles, ROLES_AGENT, type RoleAgent } from './roles.ts';

/** The journal d'audit: each change and its entry are written in one transaction. */
export interface JournalPort {
  append(entry: AuditEntryInput, executor?: Kysely<Schema>): Promise<unknown>;
  inTransaction<T>(work: (trx: Transaction<Schema>) => Promise<T>): Promise<T>;
}

export interface Agent {
  readonly id: string;
  readonly email: string;
  readonly prenom: string;
  readonly nom: string;
  readonly roles: readonly RoleAgent[];
  readonly actif: boolean;
  readonly lie: boolean;
  readonly creeLe: string;
  readonly desactiveLe: string | null;
  readonly derniereConnexionLe: string | null;
}

/** What the identity provider says about the person signing in (ProConnect's claims). */
export interface IdentiteAgent {
  readonly issuer: string;
  readonly sub: string;
  readonly email: string | null;
  readonly prenom: string | null;
  readonly nom: string | null;
}

export interface NouvelAgent {
  readonly email: string;
  readonly prenom: string;
  readonly nom: string;
  readonly roles: readonly string[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const normaliseEmail = (email: string) => email.trim().toLowerCase();

const toAgent = (row: Selectable<AgentTable>): Agent => ({
  id: row.id,
  email: row.email,
  prenom: row.prenom,
  nom: row.nom,
  roles: parseRoles(row.roles),
  actif: Number(row.actif) === 1,
  lie: row.sub !== null,
  creeLe: row.cree_le,
  desactiveLe: row.desactive_le,
  derniereConnexionLe: row.derniere_connexion_le,
});

const refusee = () =>
  new QuotientError(
    'forbidden',
    'agent_non_autorise',
    'Votre compte n’est pas autorisé dans l’espace agents de Quotient. Demandez à un administrateur de la commune de vous y inscrire.',
  );

/**
 * The agents of the commune: declared by an administrator (e-mail and roles), bound to the identity
 * provider's (issuer, sub) at their first sign-in, disabled at once when they leave (their sessions
 * end). Every change is one journal entry.
 */
export class AgentsService {
  constructor(private readonly deps: { db: Kysely<Schema>; journal: JournalPort; clock?: () => number }) {}

  private iso(): string {
    return new Date((this.deps.clock ?? Date.now)()).toISOString();
  }

  /** An active agent by id, or undefined (unknown or disabled). Read on every request of the back-office. */
  async actif(id: string): Promise<Agent | undefined> {
    const row = await this.deps.db.selectFrom('agents').selectAll().where('id', '=', id).where('actif', '=', 1).executeTakeFirst();
    return row ? toAgent(row) : undefined;
  }

  async agent(id: string): Promise<Agent | undefined> {
    const row = await this.deps.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAgent(row) : undefined;
  }

  async lister(): Promise<Agent[]> {
    const rows = await this.deps.db.selectFrom('agents').selectAll().orderBy('nom').orderBy('prenom').execute();
    return rows.map(toAgent);
  }

  /**
   * The agent for a verified sign-in: by (issuer, sub) once bound, else by e-mail the first time.
   * An unknown or disabled person is refused, and the refusal is traced.
   */
  async connecter(identite: IdentiteAgent): Promise<Agent> {
    const { db, journal } = this.deps;
    let row = await db.selectFrom('agents').selectAll().where('issuer', '=', identite.issuer).where('sub', '=', identite.sub).executeTakeFirst();
    if (!row && identite.email) {
      const byEmail = await db.selectFrom('agents').selectAll().where('email', '=', normaliseEmail(identite.email)).executeTakeFirst();
      // An e-mail already bound to another identity is not taken over.
      if (byEmail && byEmail.sub === null) row = byEmail;
    }
    if (!row || Number(row.actif) !== 1) {
      await journal.append({
        actor: row ? { type: 'agent', id: row.id } : { type: 'anonyme', id: 'fournisseur-identite' },
        action: 'agent.connexion',
        outcome: 'refus',
        details: { motif: row ? 'desactive' : 'inconnu' },
      });
      throw refusee();
    }
    const now = this.iso();
    const bound = row;
    const taken = await journal.inTransaction(async (trx) => {
      const updated = await trx
        .updateTable('agents')
        .set({
          issuer: identite.issuer,
          sub: identite.sub,
          derniere_connexion_le: now,
          ...(identite.prenom ? { prenom: identite.prenom } : {}),
          ...(identite.nom ? { nom: identite.nom } : {}),
        })
        .where('id', '=', bound.id)
        // Bound to this identity, or still free: two first sign-ins at once cannot both bind it.
        .where((eb) => eb.or([eb('sub', 'is', null), eb.and([eb('issuer', '=', identite.issuer), eb('sub', '=', identite.sub)])]))
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      await journal.append(
        { actor: { type: 'agent', id: bound.id }, action: 'agent.connexion', target: { type: 'agent', id: bound.id }, outcome: 'succes' },
        trx,
      );
      return true;
    });
    if (!taken) {
      await journal.append({ actor: { type: 'agent', id: bound.id }, action: 'agent.connexion', outcome: 'refus', details: { motif: 'identite_deja_liee' } });
      throw refusee();
    }
    return toAgent({ ...row, derniere_connexion_le: now });
  }

  /** A sign-in that failed before Quotient knew who it was (wrong state, expired, bad token). */
  async connexionInvalide(code: string, correlationId: string): Promise<void> {
    await this.deps.journal.append({
      actor: { type: 'anonyme', id: correlationId },
      action: 'agent.connexion',
      outcome: 'refus',
      correlationId,
      details: { motif: code },
    });
  }

  async deconnecte(agentId: string): Promise<void> {
    await this.deps.journal.append({
      actor: { type: 'agent', id: agentId },
      action: 'agent.deconnexion',
      target: { type: 'agent', id: agentId },
      outcome: 'succes',
    });
  }

  async creer(input: NouvelAgent, par: Acteur): Promise<Agent> {
    const email = normaliseEmail(input.email);
    const prenom = input.prenom.trim();
    const nom = input.nom.trim();
    const problems: ErrorDetail[] = [];
    if (!EMAIL.test(email)) problems.push({ path: 'email', message: 'Indiquez une adresse électronique valide, par exemple prenom.nom@ville.fr.' });
    if (prenom === '' || prenom.length > 100) problems.push({ path: 'prenom', message: 'Indiquez le prénom (100 caractères au plus).' });
    else if (!nomPlausible(prenom)) problems.push({ path: 'prenom', message: 'Un prénom ne contient pas de chiffre : vérifiez la saisie.' });
    if (nom === '' || nom.length > 100) problems.push({ path: 'nom', message: 'Indiquez le nom (100 caractères au plus).' });
    else if (!nomPlausible(nom)) problems.push({ path: 'nom', message: 'Un nom ne contient pas de chiffre : vérifiez la saisie.' });
    const roles = this.roles(input.roles, problems);
    if (problems.length > 0) throw new QuotientError('invalid', 'agent_invalide', 'Vérifiez les informations de l’agent.', { details: problems });
    const exists = await this.deps.db.selectFrom('agents').select('id').where('email', '=', email).executeTakeFirst();
    if (exists)
      throw new QuotientError('conflict', 'agent_existe', 'Un agent est déjà inscrit avec cette adresse électronique.', {
        details: [{ path: 'email', message: 'Cette adresse est déjà inscrite.' }],
      });
    const id = randomUUID();
    const now = this.iso();
    await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .insertInto('agents')
        .values({
          id,
          email,
          prenom,
          nom,
          roles: JSON.stringify(roles),
          actif: 1,
          issuer: null,
          sub: null,
          cree_le: now,
          cree_par: par.id,
          modifie_le: now,
          desactive_le: null,
          derniere_connexion_le: null,
        })
        .execute();
      await this.deps.journal.append(
        { actor: par, action: 'agent.cree', target: { type: 'agent', id }, outcome: 'succes', details: { roles: roles.join(',') } },
        trx,
      );
    });
    return (await this.agent(id)) as Agent;
  }

  private roles(input: readonly string[], problems: ErrorDetail[]): RoleAgent[] {
    const roles = ROLES_AGENT.filter((r) => input.includes(r));
    if (input.some((r) => !isRoleAgent(r)))
      problems.push({ path: 'roles', message: `Rôle inconnu. Rôles possibles : ${ROLES_AGENT.map((r) => LIBELLES_ROLES[r]).join(', ')}.` });
    else if (roles.length === 0) problems.push({ path: 'roles', message: 'Cochez au moins un rôle.' });
    return roles;
  }

  /** New roles take effect at the agent's next request; an administrator cannot remove their own administration role. */
  async modifierRoles(id: string, input: readonly string[], par: Acteur): Promise<Agent> {
    const problems: ErrorDetail[] = [];
    const roles = this.roles(input, problems);
    if (par.type === 'agent' && par.id === id && !roles.includes('administrateur'))
      problems.push({ path: 'roles', message: 'Vous ne pouvez pas retirer votre propre rôle d’administration.' });
    if (problems.length > 0) throw new QuotientError('invalid', 'roles_invalides', 'Vérifiez les rôles.', { details: problems });
    const agent = await this.exiger(id);
    await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .updateTable('agents')
        .set({ roles: JSON.stringify(roles), modifie_le: this.iso() })
        .where('id', '=', id)
        .execute();
      await this.deps.journal.append(
        {
          actor: par,
          action: 'agent.roles_modifies',
          target: { type: 'agent', id },
          outcome: 'succes',
          details: { avant: agent.roles.join(','), apres: roles.join(',') },
        },
        trx,
      );
    });
    return (await this.agent(id)) as Agent;
  }

  /** Disables the agent and ends their sessions at once. */
  async desactiver(id: string, par: Acteur): Promise<Agent> {
    if (par.type === 'agent' && par.id === id) throw new QuotientError('conflict', 'agent_soi_meme', 'Vous ne pouvez pas désactiver votre propre compte.');
    await this.exiger(id);
    const now = this.iso();
    await this.deps.journal.inTransaction(async (trx) => {
      await trx.updateTable('agents').set({ actif: 0, desactive_le: now, modifie_le: now }).where('id', '=', id).execute();
      // Their sessions end now, not at their next request: the rows are gone.
      const ended = await trx.deleteFrom('sessions').where('agent_id', '=', id).executeTakeFirst();
      await this.deps.journal.append(
        {
          actor: par,
          action: 'agent.desactive',
          target: { type: 'agent', id },
          outcome: 'succes',
          details: { sessions_fermees: Number(ended.numDeletedRows) },
        },
        trx,
      );
    });
    return (await this.agent(id)) as Agent;
  }

  async reactiver(id: string, par: Acteur): Promise<Agent> {
    await this.exiger(id);
    await this.deps.journal.inTransaction(async (trx) => {
      await trx.updateTable('agents').set({ actif: 1, desactive_le: null, modifie_le: this.iso() }).where('id', '=', id).execute();
      await this.deps.journal.append({ actor: par, action: 'agent.reactive', target: { type: 'agent', id }, outcome: 'succes' }, trx);
    });
    return (await this.agent(id)) as Agent;
  }

  private async exiger(id: string): Promise<Agent> {
    const agent = await this.agent(id);
    if (!agent) throw new QuotientError('not_found', 'agent_introuvable', 'Agent introuvable.');
    return agent;
  }
}
