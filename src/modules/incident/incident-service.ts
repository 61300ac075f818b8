import type { Kysely } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Acteur, AuditRef, JournalAudit } from '../audit/index.ts';
import { ecrireInterrupteur, LIBELLES_INTERRUPTEURS, type CacheIncidents, type CodeInterrupteur, type Interrupteur } from './interrupteurs.ts';

/** Who turns a switch: as the journal records them, and as the pages show them. */
export interface Operateur {
  readonly acteur: Acteur;
  readonly libelle: string;
}

/** Whose sessions end: one family (its reference), one agent (their e-mail), or everyone. */
export type CibleRevocation = { readonly famille: string } | { readonly agent: string } | { readonly tous: true };

export const MOTIF_MIN = 5;
export const MOTIF_MAX = 500;
// eslint-disable-next-line no-control-regex
const CONTROLE = /[\u0000-\u001f\u007f]/;
const REFERENCE_FAMILLE = /^F-[A-Z0-9]{4}-[A-Z0-9]{4}$/;

/**
 * The reason given for an incident action, as it will be journaled: one line (blanks collapsed),
 * 5 to 500 characters, nothing shaped like a numéro fiscal. Errors name the field `motif`.
 */
export function lireMotif(saisi: unknown): string {
  const motif = typeof saisi === 'string' ? saisi.replace(/\s+/g, ' ').trim() : '';
  const refus = (message: string) => new QuotientError('invalid', 'motif_invalide', message, { details: [{ path: 'motif', message }] });
  if (motif.length < MOTIF_MIN) throw refus(`Indiquez le motif (${MOTIF_MIN} caractères au moins) : il est inscrit au journal d’audit.`);
  if (motif.length > MOTIF_MAX) throw refus(`Le motif tient en ${MOTIF_MAX} caractères au plus.`);
  if (CONTROLE.test(motif)) throw refus('Le motif contient un caractère non imprimable : retirez-le.');
  if (ressembleANumeroFiscal(motif)) throw refus('Le motif semble contenir un numéro fiscal : retirez-le, il ne doit figurer ni dans le journal ni ailleurs.');
  return motif;
}

/**
 * The incident actions of an administrator (back-office) or the operator (`quotient incident`):
 * turning a switch, revoking sessions. Each is one journal entry with its reason, written in the
 * transaction of the change; this instance sees the change at once, the others within the
 * cache's delay.
 */
export class IncidentService {
  constructor(private readonly deps: { db: Kysely<Schema>; journal: JournalAudit; cache: CacheIncidents; clock?: () => number }) {}

  private now(): string {
    return new Date((this.deps.clock ?? Date.now)()).toISOString();
  }

  /** Turns a switch on or off; `change` is false (and nothing is written) when it already was so. */
  async basculer(code: CodeInterrupteur, actif: boolean, motifSaisi: unknown, par: Operateur): Promise<{ interrupteur: Interrupteur; change: boolean }> {
    const motif = lireMotif(motifSaisi);
    const { journal } = this.deps;
    const change = await journal.inTransaction(async (trx) => {
      const ecrit = await ecrireInterrupteur(trx, code, { actif, motif, par: `${par.acteur.type}:${par.acteur.id}`, parLibelle: par.libelle, le: this.now() });
      if (ecrit)
        await journal.append(
          {
            actor: par.acteur,
            action: 'incident.interrupteur',
            target: { type: 'interrupteur', id: code },
            outcome: 'succes',
            details: { interrupteur: code, actif, motif },
          },
          trx,
        );
      return ecrit;
    });
    const etat = await this.deps.cache.lire();
    return { interrupteur: etat.interrupteurs[code], change };
  }

  /**
   * Ends every session of one family, one agent or everyone, now: the rows go, so the next request
   * of each, on any instance, is anonymous. An agent can sign in again (disable them to prevent it).
   */
  async revoquerSessions(cible: CibleRevocation, motifSaisi: unknown, par: Operateur): Promise<{ sessions: number; libelle: string }> {
    const motif = lireMotif(motifSaisi);
    const { db, journal } = this.deps;
    let target: AuditRef;
    let libelle: string;
    let quelle: 'famille' | 'agent' | 'tous';
    if ('famille' in cible) {
      const reference = cible.famille.trim().toUpperCase();
      if (!REFERENCE_FAMILLE.test(reference))
        throw new QuotientError('invalid', 'reference_invalide', 'Référence de famille attendue, par exemple F-ABCD-2345.', {
          details: [{ path: 'famille', message: 'Référence de famille attendue, par exemple F-ABCD-2345.' }],
        });
      const famille = await db.selectFrom('familles').select('id').where('reference', '=', reference).executeTakeFirst();
      if (!famille)
        throw new QuotientError('not_found', 'famille_introuvable', `Aucune famille n’a la référence ${reference}.`, {
          details: [{ path: 'famille', message: `Aucune famille n’a la référence ${reference}.` }],
        });
      target = { type: 'famille', id: famille.id };
      libelle = `de la famille ${reference}`;
      quelle = 'famille';
    } else if ('agent' in cible) {
      const email = cible.agent.trim().toLowerCase();
      const agent = email === '' ? undefined : await db.selectFrom('agents').select(['id', 'prenom', 'nom']).where('email', '=', email).executeTakeFirst();
      if (!agent)
        throw new QuotientError('not_found', 'agent_introuvable', 'Aucun agent n’a cette adresse électronique.', {
          details: [{ path: 'agent', message: 'Aucun agent n’a cette adresse électronique.' }],
        });
      target = { type: 'agent', id: agent.id };
      libelle = `de ${agent.prenom} ${agent.nom}`;
      quelle = 'agent';
    } else {
      target = { type: 'sessions', id: 'toutes' };
      libelle = 'de toutes les personnes connectées';
      quelle = 'tous';
    }
    const sessions = await journal.inTransaction(async (trx) => {
      let requete = trx.deleteFrom('sessions');
      if (quelle === 'famille') requete = requete.where('compte_id', 'in', trx.selectFrom('comptes').select('id').where('famille_id', '=', target.id));
      else if (quelle === 'agent') requete = requete.where('agent_id', '=', target.id);
      const n = Number((await requete.executeTakeFirst()).numDeletedRows);
      await journal.append(
        { actor: par.acteur, action: 'incident.sessions_revoquees', target, outcome: 'succes', details: { cible: quelle, sessions: n, motif } },
        trx,
      );
      return n;
    });
    return { sessions, libelle };
  }
}

/** « Appels à la DGFiP : suspendus » for a person. */
export function decrireInterrupteur(i: Interrupteur): string {
  const l = LIBELLES_INTERRUPTEURS[i.code];
  return `${l.nom} : ${i.actif ? l.actif : l.inactif}`;
}
