import type { Kysely } from 'kysely';
import { formatDateCourte } from '../../domain/dates.ts';
import { choisirQuotient, type SourceQuotient } from '../../domain/choix-quotient.ts';
import { QuotientError } from '../../domain/errors.ts';
import { formatEuros } from '../../domain/money.ts';
import { LIBELLES_FOURNISSEUR, libelleMoisReference, type QuotientCaf } from '../../domain/quotient-caf.ts';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { quotientFromSituations } from '../../domain/quotient-familial.ts';
import type { SituationFiscale } from '../../domain/situation-fiscale.ts';
import { priceActivites, prixParEnfant, type EnfantTarif, type PrixActivite, type PrixEnfant } from '../../domain/tarification.ts';
import { periodeApplication } from '../../domain/validite-quotient.ts';
import type { Executor } from '../../infra/db/database.ts';
import type { DemandeTable, Schema } from '../../infra/db/schema.ts';
import { asJson, type Coffre, type JsonValue } from '../../infra/silo/coffre.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { COFFRE, findFamille, newId } from './demandes-repo.ts';

export interface QuotientsDeps {
  readonly db: Kysely<Schema>;
  readonly coffre: Coffre;
  /** The tariff policy in force on the day of the request (AAAA-MM-JJ, Paris). */
  readonly politique: (dateDemande: string) => PolitiqueTarifaire;
  readonly clock?: () => number;
}

/** A QF ready to be recorded for a request: its value, its period of validity, the prices it gives. */
export interface QuotientARetenir {
  readonly cents: number;
  readonly periode: string;
  readonly formule: string;
  readonly politique: PolitiqueTarifaire;
  readonly prix: PrixActivite[];
  /** Per child and activity, where the price differs from the family's or the child alternates (see `prixParEnfant`). */
  readonly prixEnfants: PrixEnfant[];
  readonly validite: { readonly du: string; readonly au: string };
  /** What explains it (quotes the RFR and the parts, or the document an agent saw): silo only. */
  readonly explication: JsonValue;
  /**
   * Which QF the policy retained (`fiscal`, `caf`) and why, without any value (the row and the
   * attestation); absent when an agent set it. The explanation quotes both values.
   */
  readonly source?: { readonly retenue: 'fiscal' | 'caf'; readonly raison: string };
}

/** `calcul` from the avis, `instructeur` confirmed by an agent, `manuel` set by an agent from a document seen. */
export type OrigineQuotient = 'calcul' | 'instructeur' | 'manuel';

type DemandeDatee = Pick<DemandeTable, 'famille_id' | 'creee_le'>;

/** The QF of a request and its prices, by the policy in force on the day it was made; recorded once per request. */
export class Quotients {
  constructor(private readonly deps: QuotientsDeps) {}

  private async tarif(demande: DemandeDatee) {
    const dateDemande = parisDate(Date.parse(demande.creee_le));
    const politique = this.deps.politique(dateDemande);
    const famille = await findFamille(this.deps.db, demande.famille_id);
    const enfants: EnfantTarif[] = (
      await this.deps.db
        .selectFrom('enfants')
        .select(['prenoms', 'date_naissance', 'residence'])
        .where('famille_id', '=', demande.famille_id)
        .orderBy('id')
        .execute()
    ).map((e) => ({ prenoms: e.prenoms, dateNaissance: e.date_naissance, residence: e.residence === 'alternee' ? 'alternee' : 'exclusive' }));
    return { politique, resident: famille?.resident === 1, enfants, validite: periodeApplication(politique.quotient, { dateDemande }) };
  }

  /** The policy's `quotient.source` on the day of the request: whether the caisses are to be asked too. */
  async sourceDe(demande: DemandeDatee): Promise<SourceQuotient> {
    return this.deps.politique(parisDate(Date.parse(demande.creee_le))).quotient.source;
  }

  /**
   * From the avis received and, when the policy asks for it, the CAF's or MSA's quotient: the QF the
   * policy's source retains (`choix-quotient.ts`), its prices, and why. Throws `invalid` when the
   * policy cannot combine the avis, or when none of the QFs its source accepts exists.
   */
  async calculer(demande: DemandeDatee, situations: readonly SituationFiscale[], caf: QuotientCaf | null = null): Promise<QuotientARetenir> {
    const { politique, resident, enfants, validite } = await this.tarif(demande);
    const qf = situations.length > 0 ? quotientFromSituations(politique, situations) : null;
    const retenu = choisirQuotient(politique.quotient.source, { fiscalCents: qf?.cents ?? null, caf });
    if (!retenu) {
      throw new QuotientError(
        'invalid',
        'quotient_source_absente',
        'La politique tarifaire retient le quotient de la CAF ou de la MSA, et aucun n’a été trouvé : un agent doit examiner la demande.',
      );
    }
    const cafDetail = caf ? { fournisseur: caf.fournisseur, moisReference: caf.moisReference, cafCents: caf.valeurEuros * 100 } : null;
    const source = { retenue: retenu.origine, raison: retenu.motif };
    if (retenu.origine === 'fiscal' && qf) {
      const explication = politique.quotient.source === 'fiscal' ? qf.explication : `${qf.explication} ${retenu.raison}`;
      return {
        cents: qf.cents,
        periode: qf.periode,
        formule: qf.formule,
        politique,
        prix: priceActivites(politique, { quotient: qf, resident }),
        prixEnfants: prixParEnfant(politique, { quotient: qf, resident }, enfants),
        validite,
        explication: asJson({
          explication,
          revenuEuros: qf.revenuEuros,
          diviseur: qf.diviseur,
          natureDiviseur: qf.natureDiviseur,
          source: { ...source, raison: retenu.raison, fiscalCents: qf.cents, caf: cafDetail },
        }),
        source,
      };
    }
    const k = caf as QuotientCaf;
    const explication = `Quotient familial de ${LIBELLES_FOURNISSEUR[k.fournisseur]} pour ${libelleMoisReference(k.moisReference)} : ${formatEuros(retenu.cents)} par mois. ${retenu.raison}`;
    return {
      cents: retenu.cents,
      periode: 'mensuelle',
      formule: 'caf',
      politique,
      prix: priceActivites(politique, { quotient: { cents: retenu.cents }, resident }),
      prixEnfants: prixParEnfant(politique, { quotient: { cents: retenu.cents }, resident }, enfants),
      validite,
      explication: asJson({ explication, source: { ...source, raison: retenu.raison, fiscalCents: qf?.cents ?? null, caf: cafDetail } }),
      source,
    };
  }

  /** Set by an agent from a document seen (which may name the avis: it goes to the silo only). */
  async fixer(demande: DemandeDatee, cents: number, piece: string): Promise<QuotientARetenir> {
    const { politique, resident, enfants, validite } = await this.tarif(demande);
    const unite = politique.quotient.periode === 'mensuelle' ? 'par mois' : 'par an';
    const explication = `Quotient familial fixé à ${formatEuros(cents)} ${unite} par un agent de la mairie, au vu de : ${piece}.`;
    return {
      cents,
      periode: politique.quotient.periode,
      formule: 'manuel',
      politique,
      prix: priceActivites(politique, { quotient: { cents }, resident }),
      prixEnfants: prixParEnfant(politique, { quotient: { cents }, resident }, enfants),
      validite,
      explication: asJson({ explication, piece }),
    };
  }

  /** The QF row and its explanation in the silo, in the caller's transaction. */
  async enregistrer(trx: Executor, demande: Pick<DemandeTable, 'id' | 'famille_id'>, q: QuotientARetenir, origine: OrigineQuotient): Promise<void> {
    await this.deps.coffre.put(COFFRE.calcul, demande.id, q.explication, trx);
    await trx
      .insertInto('quotients')
      .values({
        id: newId(),
        demande_id: demande.id,
        famille_id: demande.famille_id,
        valeur_cents: q.cents,
        periode: q.periode,
        formule: q.formule,
        politique: politiqueLabel(q.politique),
        prix: JSON.stringify(q.prix),
        prix_enfants: JSON.stringify(q.prixEnfants),
        valide_du: q.validite.du,
        valide_au: q.validite.au,
        origine,
        calcule_le: new Date((this.deps.clock ?? Date.now)()).toISOString(),
        source_retenue: q.source?.retenue ?? null,
        raison_source: q.source?.raison ?? null,
      })
      .execute();
  }
}

/** How a QF names the policy it was priced by. */
export function politiqueLabel(p: PolitiqueTarifaire): string {
  const d = p.deliberation;
  const deliberation = ['délibération', d.numero ? `n° ${d.numero}` : null, d.date ? `du ${formatDateCourte(d.date)}` : null].filter(Boolean).join(' ');
  return `${deliberation}, tarifs en vigueur depuis le ${formatDateCourte(p.validite.du)}`;
}
