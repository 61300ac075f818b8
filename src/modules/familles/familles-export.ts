import { QuotientError } from '../../domain/errors.ts';
import { motifPourLaFamille } from '../demandes/motifs.ts';
import type { Acteur } from '../audit/index.ts';
import { lireEtatCivil } from '../renouvellement/renouvellement-repo.ts';
import { LIBELLES_DECISION, LIBELLES_ORIGINE_QUOTIENT } from '../../domain/quotient-en-vigueur.ts';
import { canalEnClair, donneesEnClair, modeEnClair, periodeEnClair, situationEnClair, statutEnClair } from './export-libelles.ts';
import { maintenant, type FamillesDeps } from './familles-repo.ts';

/** The family's right of access: all that is held about it, in one file. */
export class ExportsFamilles {
  constructor(private readonly deps: FamillesDeps) {}

  /**
   * Everything Quotient holds about a family, for its right of access (RGPD art. 15): identity,
   * requests, consents, results, decisions, contestations, and the fiscal data kept in the silo.
   * The reading is journaled.
   */
  async exporter(familleId: string, acteur: Acteur): Promise<ExportFamille> {
    const { db, coffre, journal } = this.deps;
    const famille = await db.selectFrom('familles').selectAll().where('id', '=', familleId).executeTakeFirst();
    if (!famille) throw new QuotientError('not_found', 'famille_introuvable', 'Famille introuvable.');
    const [parents, enfants, demandes, quotients, contestations, renouvellements] = await Promise.all([
      db.selectFrom('parents').selectAll().where('famille_id', '=', familleId).orderBy('rang').execute(),
      db.selectFrom('enfants').selectAll().where('famille_id', '=', familleId).execute(),
      db.selectFrom('demandes').selectAll().where('famille_id', '=', familleId).orderBy('creee_le').execute(),
      db.selectFrom('quotients').selectAll().where('famille_id', '=', familleId).orderBy('calcule_le').execute(),
      db.selectFrom('contestations').selectAll().where('famille_id', '=', familleId).orderBy('ouverte_le').execute(),
      db.selectFrom('consentements_renouvellement').selectAll().where('famille_id', '=', familleId).orderBy('recueilli_le').execute(),
    ]);
    const ids = demandes.map((d) => d.id);
    const [consentements, foyersFiscaux, decisions] =
      ids.length === 0
        ? [[], [], []]
        : await Promise.all([
            db.selectFrom('consentements').selectAll().where('demande_id', 'in', ids).execute(),
            db.selectFrom('demande_foyers').selectAll().where('demande_id', 'in', ids).execute(),
            db.selectFrom('decisions').selectAll().where('demande_id', 'in', ids).execute(),
          ]);
    const situations = [];
    for (const foyerFiscal of foyersFiscaux) {
      const situation = foyerFiscal.etat === 'recu' ? await coffre.get('situation_fiscale', foyerFiscal.id) : undefined;
      if (situation !== undefined) situations.push({ demandeId: foyerFiscal.demande_id, parent: foyerFiscal.parent_rang, situation });
    }
    // The état civil kept for a standing consent is personal data held: the family reads it too.
    const etatsCivils = new Map<string, unknown>();
    for (const r of renouvellements) {
      const etatCivil = r.etat_civil_le === null ? undefined : await lireEtatCivil(coffre, r.id).catch(() => undefined);
      if (etatCivil) etatsCivils.set(r.id, etatCivil);
    }
    await journal.append({ actor: acteur, action: 'famille.exportee', target: { type: 'famille', id: familleId }, outcome: 'succes' });
    return {
      exporteLe: maintenant(this.deps),
      famille: { reference: famille.reference, resident: famille.resident === 1, courriel: famille.courriel, creeeLe: famille.creee_le },
      // The keys are the file the family downloads (and `export-texte.ts` reads): French words and values, no database code.
      parents: parents.map((p) => ({
        rang: p.rang,
        nomNaissance: p.nom_naissance,
        nomUsage: p.nom_usage,
        prenoms: p.prenoms,
        dateNaissance: p.date_naissance,
        auFoyer: p.au_foyer === 1,
      })),
      enfants: enfants.map((e) => ({ prenoms: e.prenoms, nom: e.nom, dateNaissance: e.date_naissance, residence: e.residence })),
      demandes: demandes.map((d) => ({
        reference: d.reference,
        canal: canalEnClair(d.canal),
        statut: statutEnClair(d.statut),
        motif: motifPourLaFamille(d.motif_code, d.motif),
        creeeLe: d.creee_le,
        consentements: consentements
          .filter((c) => c.demande_id === d.id)
          .map((c) => ({
            parent: c.parent_rang,
            mode: modeEnClair(c.mode),
            versionTexte: c.version_texte,
            donnees: donneesEnClair(JSON.parse(c.donnees)),
            finalite: c.finalite,
            recueilliLe: c.recueilli_le,
            retireLe: c.retire_le,
          })),
        decisions: decisions
          .filter((x) => x.demande_id === d.id)
          .map((x) => ({ decision: LIBELLES_DECISION[x.decision] ?? x.decision, justification: x.justification, decideeLe: x.decidee_le })),
      })),
      quotients: quotients.map((q) => ({
        demande: demandes.find((d) => d.id === q.demande_id)?.reference ?? null,
        valeurEuros: q.valeur_cents / 100,
        periode: periodeEnClair(q.periode),
        origine: LIBELLES_ORIGINE_QUOTIENT[q.origine] ?? q.origine,
        validiteDu: q.valide_du,
        validiteAu: q.valide_au,
        politique: q.politique,
        calculeLe: q.calcule_le,
      })),
      situationsFiscales: situations.map((s) => ({
        demande: demandes.find((d) => d.id === s.demandeId)?.reference ?? null,
        parent: s.parent,
        ...situationEnClair(s.situation as Record<string, unknown>),
      })),
      contestations: contestations.map((c) => ({
        motif: c.motif,
        statut: c.statut === 'ouverte' ? 'en cours d’examen' : 'traitée',
        reponse: c.reponse,
        ouverteLe: c.ouverte_le,
        traiteeLe: c.traitee_le,
      })),
      consentementsRenouvellement: renouvellements.map((r) => ({
        parent: r.parent_rang,
        mode: modeEnClair(r.mode),
        versionTexte: r.version_texte,
        ressources: JSON.parse(r.ressources) as string[],
        donnees: (JSON.parse(r.donnees) as Array<{ libelle: string }>).map((d) => d.libelle),
        finalite: r.finalite,
        voie: r.voie,
        dureeAns: r.duree_ans,
        recueilliLe: r.recueilli_le,
        expireLe: r.expire_le,
        retireLe: r.retire_le,
        etatCivilConserve: etatsCivils.get(r.id) ?? null,
      })),
    };
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
  /** Standing consents for renewal, with the état civil kept for each (null when none is kept). */
  readonly consentementsRenouvellement: ReadonlyArray<Record<string, unknown>>;
}
