import type { Kysely } from 'kysely';
import { z } from 'zod';
import { QuotientError } from '../../domain/errors.ts';
import { isIsoDate } from '../../domain/dates.ts';
import { invalidInput, parseOptions } from '../../domain/zod-francais.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { newId, newReference } from '../demandes/demandes-repo.ts';
import type { JournalAudit } from '../audit/index.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import type { Acteur } from '../demandes/ports.ts';

const nom = z.string().trim().min(1, 'obligatoire').max(100);
const dateNaissance = z.string().refine(isIsoDate, { message: 'date au format AAAA-MM-JJ' });

const parentSchema = z.strictObject({
  nomNaissance: nom,
  nomUsage: z.string().trim().max(100).nullish().transform((v) => (v ? v : null)),
  prenoms: nom,
  dateNaissance: dateNaissance.nullish().transform((v) => v ?? null),
  /** False for the other parent of a separated family, who lives elsewhere. */
  auFoyer: z.boolean().default(true),
});

export const familleSchema = z.strictObject({
  parents: z.array(parentSchema).min(1, 'au moins un parent').max(2, 'au plus deux parents'),
  enfants: z
    .array(
      z.strictObject({
        prenoms: nom,
        nom,
        dateNaissance: dateNaissance.nullish().transform((v) => v ?? null),
        residence: z.enum(['exclusive', 'alternee']).default('exclusive'),
      }),
    )
    .max(20)
    .default([]),
  resident: z.boolean().default(true),
  courriel: z.email('adresse électronique invalide').nullish().transform((v) => v ?? null),
});

export type FamilleSaisie = z.input<typeof familleSchema>;

export class FamillesService {
  constructor(private readonly deps: { db: Kysely<Schema>; journal: JournalAudit; coffre: Coffre; clock?: () => number }) {}

  private now(): string {
    return new Date((this.deps.clock ?? Date.now)()).toISOString();
  }

  async creer(input: unknown, acteur: Acteur): Promise<{ id: string; reference: string }> {
    const parsed = familleSchema.safeParse(input, parseOptions);
    if (!parsed.success) throw invalidInput('famille_invalide', 'Les informations du foyer sont incomplètes.', parsed.error.issues);
    const f = parsed.data;
    const id = newId();
    const reference = newReference('F');
    const now = this.now();
    await this.deps.journal.inTransaction(async (trx) => {
      await trx.insertInto('familles').values({ id, reference, resident: f.resident ? 1 : 0, courriel: f.courriel, creee_le: now, modifiee_le: now }).execute();
      for (const [i, p] of f.parents.entries()) {
        await trx
          .insertInto('parents')
          .values({ id: newId(), famille_id: id, rang: i + 1, nom_naissance: p.nomNaissance, nom_usage: p.nomUsage, prenoms: p.prenoms, date_naissance: p.dateNaissance, au_foyer: p.auFoyer ? 1 : 0 })
          .execute();
      }
      for (const e of f.enfants) {
        await trx.insertInto('enfants').values({ id: newId(), famille_id: id, prenoms: e.prenoms, nom: e.nom, date_naissance: e.dateNaissance, residence: e.residence }).execute();
      }
      await this.deps.journal.append({ actor: acteur, action: 'famille.creee', target: { type: 'famille', id }, outcome: 'succes', details: { parents: f.parents.length, enfants: f.enfants.length } }, trx);
    });
    return { id, reference };
  }

  /**
   * Everything Quotient holds about a family, for its right of access (RGPD art. 15): identity,
   * requests, consents, results, decisions, contestations, and the fiscal data kept in the silo.
   * The reading is journaled.
   */
  async exporter(familleId: string, acteur: Acteur): Promise<ExportFamille> {
    const { db, coffre, journal } = this.deps;
    const famille = await db.selectFrom('familles').selectAll().where('id', '=', familleId).executeTakeFirst();
    if (!famille) throw new QuotientError('not_found', 'famille_introuvable', 'Famille introuvable.');
    const [parents, enfants, demandes, quotients, contestations] = await Promise.all([
      db.selectFrom('parents').selectAll().where('famille_id', '=', familleId).orderBy('rang').execute(),
      db.selectFrom('enfants').selectAll().where('famille_id', '=', familleId).execute(),
      db.selectFrom('demandes').selectAll().where('famille_id', '=', familleId).orderBy('creee_le').execute(),
      db.selectFrom('quotients').selectAll().where('famille_id', '=', familleId).orderBy('calcule_le').execute(),
      db.selectFrom('contestations').selectAll().where('famille_id', '=', familleId).orderBy('ouverte_le').execute(),
    ]);
    const ids = demandes.map((d) => d.id);
    const [consentements, foyers, decisions] = ids.length === 0
      ? [[], [], []]
      : await Promise.all([
          db.selectFrom('consentements').selectAll().where('demande_id', 'in', ids).execute(),
          db.selectFrom('demande_foyers').selectAll().where('demande_id', 'in', ids).execute(),
          db.selectFrom('decisions').selectAll().where('demande_id', 'in', ids).execute(),
        ]);
    const situations = [];
    for (const foyer of foyers) {
      const situation = foyer.etat === 'recu' ? await coffre.get('situation_fiscale', foyer.id) : undefined;
      if (situation !== undefined) situations.push({ demandeId: foyer.demande_id, parent: foyer.parent_rang, situation });
    }
    await journal.append({ actor: acteur, action: 'famille.exportee', target: { type: 'famille', id: familleId }, outcome: 'succes' });
    return {
      exporteLe: this.now(),
      famille: { reference: famille.reference, resident: famille.resident === 1, courriel: famille.courriel, creeeLe: famille.creee_le },
      parents: parents.map((p) => ({ rang: p.rang, nomNaissance: p.nom_naissance, nomUsage: p.nom_usage, prenoms: p.prenoms, dateNaissance: p.date_naissance })),
      enfants: enfants.map((e) => ({ prenoms: e.prenoms, nom: e.nom, dateNaissance: e.date_naissance, residence: e.residence })),
      demandes: demandes.map((d) => ({
        reference: d.reference,
        canal: d.canal,
        statut: d.statut,
        motif: d.motif,
        creeeLe: d.creee_le,
        consentements: consentements.filter((c) => c.demande_id === d.id).map((c) => ({ parent: c.parent_rang, mode: c.mode, versionTexte: c.version_texte, donnees: JSON.parse(c.donnees) as string[], finalite: c.finalite, recueilliLe: c.recueilli_le, retireLe: c.retire_le })),
        decisions: decisions.filter((x) => x.demande_id === d.id).map((x) => ({ decision: x.decision, justification: x.justification, decideeLe: x.decidee_le })),
      })),
      quotients: quotients.map((q) => ({ demande: demandes.find((d) => d.id === q.demande_id)?.reference ?? null, valeurEuros: q.valeur_cents / 100, periode: q.periode, validiteDu: q.valide_du, validiteAu: q.valide_au, politique: q.politique, calculeLe: q.calcule_le })),
      situationsFiscales: situations.map((s) => ({ demande: demandes.find((d) => d.id === s.demandeId)?.reference ?? null, parent: s.parent, ...(s.situation as object) })),
      contestations: contestations.map((c) => ({ motif: c.motif, statut: c.statut, reponse: c.reponse, ouverteLe: c.ouverte_le, traiteeLe: c.traitee_le })),
    };
  }

  /** « Ces données sont-elles exactes ? » — recorded for an instructor to handle. */
  async contester(familleId: string, demandeId: string | null, motif: string, acteur: Acteur): Promise<string> {
    const texte = motif.trim();
    if (texte.length < 5) throw new QuotientError('invalid', 'contestation_invalide', 'Expliquez en quelques mots ce qui vous paraît inexact.', { details: [{ path: 'motif', message: 'au moins 5 caractères' }] });
    if (texte.length > 2000) throw new QuotientError('invalid', 'contestation_invalide', 'Le message est trop long (2 000 caractères au plus).', { details: [{ path: 'motif', message: 'au plus 2 000 caractères' }] });
    const id = newId();
    await this.deps.journal.inTransaction(async (trx) => {
      if (demandeId !== null) {
        const owned = await trx.selectFrom('demandes').select('id').where('id', '=', demandeId).where('famille_id', '=', familleId).executeTakeFirst();
        if (!owned) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
      }
      await trx.insertInto('contestations').values({ id, famille_id: familleId, demande_id: demandeId, motif: texte, statut: 'ouverte', reponse: null, ouverte_le: this.now(), traitee_le: null }).execute();
      await this.deps.journal.append({ actor: acteur, action: 'contestation.ouverte', target: { type: 'famille', id: familleId }, outcome: 'succes' }, trx);
    });
    return id;
  }
}

export interface ExportFamille {
  readonly exporteLe: string;
  readonly famille: Record<string, unknown>;
  readonly parents: ReadonlyArray<Record<string, unknown>>;
  readonly enfants: ReadonlyArray<Record<string, unknown>>;
  readonly demandes: ReadonlyArray<Record<string, unknown>>;
  readonly quotients: ReadonlyArray<Record<string, unknown>>;
  readonly situationsFiscales: ReadonlyArray<Record<string, unknown>>;
  readonly contestations: ReadonlyArray<Record<string, unknown>>;
}
