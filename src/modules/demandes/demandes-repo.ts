import { randomBytes, randomUUID } from 'node:crypto';
import { parseConsentement, type Consentement } from '../../domain/consentement.ts';
import { LIBELLES_CHAMPS_CAF } from '../../domain/consentement-caf.ts';
import { roleParent } from '../../domain/controle-identite.ts';
import type { StatutDemande } from '../../domain/demande.ts';
import { LIBELLES_CHAMPS_DGFIP } from '../../domain/habilitation.ts';
import type { Executor } from '../../infra/db/database.ts';
import type { DemandeTable, FamilleTable, ParentTable } from '../../infra/db/schema.ts';
import type { Acteur } from '../audit/index.ts';
import type { Motif } from './motifs.ts';

/** Silo kinds: what is kept encrypted about a request. */
export const COFFRE = {
  situation: 'situation_fiscale',
  controleIdentite: 'controle_identite',
  calcul: 'calcul_quotient',
} as const;

/** Reference a person can read over the phone: no 0/O or 1/I to confuse. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function newReference(prefix: string): string {
  const bytes = randomBytes(8);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}-${out.slice(0, 4)}-${out.slice(4)}`;
}

export const newId = (): string => randomUUID();

export async function findFamille(db: Executor, id: string): Promise<FamilleTable | undefined> {
  return db.selectFrom('familles').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findParents(db: Executor, familleId: string): Promise<ParentTable[]> {
  return db.selectFrom('parents').selectAll().where('famille_id', '=', familleId).orderBy('rang').execute();
}

export async function findDemande(db: Executor, id: string): Promise<DemandeTable | undefined> {
  return db.selectFrom('demandes').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findFoyersFiscaux(db: Executor, demandeId: string) {
  return db.selectFrom('demande_foyers').selectAll().where('demande_id', '=', demandeId).orderBy('parent_rang').execute();
}

/** The consents recorded for a request, as the domain reads them. */
export async function findConsentements(db: Executor, demandeId: string): Promise<Consentement[]> {
  const rows = await db.selectFrom('consentements').selectAll().where('demande_id', '=', demandeId).execute();
  return rows.map((c) =>
    parseConsentement(
      {
        declarant: roleParent(c.parent_rang === 2 ? 2 : 1),
        donnePar: { type: c.donne_par_type, id: c.donne_par_id },
        mode: c.mode,
        piece: c.piece,
        recueilliLe: c.recueilli_le,
        versionTexte: c.version_texte,
        donnees: JSON.parse(c.donnees) as unknown,
        finalite: c.finalite,
        retireLe: c.retire_le,
      },
      // A request's consents are the DGFiP's and, when given, the CAF's (issue 17).
      { libelles: { ...LIBELLES_CHAMPS_DGFIP, ...LIBELLES_CHAMPS_CAF } },
    ),
  );
}

export interface NouvelleDemande {
  readonly id: string;
  readonly reference: string;
  readonly familleId: string;
  readonly canal: string;
  readonly acteur: Acteur;
  readonly anneeRevenus: number | null;
  /** The process that holds its numéros fiscaux; null when no DGFiP call is to be made. */
  readonly detenteur: string | null;
  readonly le: string;
}

/** A new request, as a draft: the state machine moves it from there. */
export async function insertDemande(db: Executor, d: NouvelleDemande): Promise<void> {
  await db
    .insertInto('demandes')
    .values({
      id: d.id,
      reference: d.reference,
      famille_id: d.familleId,
      canal: d.canal,
      statut: 'brouillon',
      annee_revenus: d.anneeRevenus,
      motif: null,
      motif_code: null,
      tentatives: 0,
      prochain_essai_le: null,
      acteur_type: d.acteur.type,
      acteur_id: d.acteur.id,
      creee_le: d.le,
      modifiee_le: d.le,
      version: 0,
      detenteur: d.detenteur,
    })
    .execute();
}

/** What a transition may change besides the status; a reason is written as its code and its sentence together. */
export interface ChangementDemande {
  readonly motif?: Motif | null;
  readonly tentatives?: number;
  readonly prochain_essai_le?: string | null;
  readonly detenteur?: string | null;
}

/**
 * Moves a request from `from` to `to`, only if nobody moved it meanwhile (version check). Returns
 * false when it had changed: the caller reloads and decides again.
 */
export async function moveDemande(
  db: Executor,
  demande: Pick<DemandeTable, 'id' | 'version'>,
  from: StatutDemande,
  to: StatutDemande,
  now: string,
  changement: ChangementDemande = {},
): Promise<boolean> {
  const { motif, ...autres } = changement;
  const result = await db
    .updateTable('demandes')
    .set({
      statut: to,
      modifiee_le: now,
      version: demande.version + 1,
      ...autres,
      ...(motif === undefined ? {} : { motif: motif?.texte ?? null, motif_code: motif?.code ?? null }),
    })
    .where('id', '=', demande.id)
    .where('version', '=', demande.version)
    .where('statut', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
