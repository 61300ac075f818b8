import type { ConsentementRenouvellement } from '../domain/consentement-renouvellement.ts';
import type { Acteur } from '../modules/audit/index.ts';
import type { AccordPermanent, RenouvellementDu, SourceRenouvellements } from '../modules/campagnes/renouvellements.ts';
import type { RenouvellementService } from '../modules/renouvellement/renouvellement-service.ts';

/**
 * The standing consents for renewal as the campaigns read them (issue 14): the adapter between the
 * consents' module and the campaigns', here because neither may import the other (the consents'
 * module is used by the request path that campaigns use). A consent is given per declarant, for
 * the foyer fiscal the declarant was asked for: one consent, one foyer to call (the joint declarant
 * who was not asked has none and is not called).
 */
export function renouvellementsPourCampagnes(
  service: Pick<RenouvellementService, 'renouvellementsDus' | 'enVigueurPour' | 'estEnVigueur'>,
): SourceRenouvellements {
  return {
    async renouvellementsDus(date: string, acteur?: Acteur): Promise<RenouvellementDu[]> {
      const dus = await service.renouvellementsDus({ quotientAvant: date }, acteur ?? { type: 'systeme', id: 'campagnes' });
      return dus.map((d) => {
        const aRedemander = d.declarants.filter((x) => x.etatCivil === null).map((x) => x.rang);
        return {
          familleId: d.familleId,
          reference: d.reference,
          // A declarant without a kept état civil is never searched by guess; nor is the family half
          // renewed from the other's avis alone (its QF would be wrong): nobody is called, it is asked again.
          foyers:
            aRedemander.length > 0
              ? []
              : d.declarants.flatMap((x) =>
                  x.etatCivil ? [{ rang: x.rang, etatCivil: x.etatCivil, accord: accordPermanent(x.consentementId, x.consentement) }] : [],
                ),
          ...(aRedemander.length > 0 ? { aRedemander } : {}),
        };
      });
    },
    async accordsEnVigueur(familleId: string, le: string) {
      return (await service.enVigueurPour(familleId, le)).map((c) => ({ rang: c.rang, accord: accordPermanent(c.id, c.consentement) }));
    },
    enVigueur: (accordId: string, le: string) => service.estEnVigueur(accordId, le),
  };
}

/** The copy of the standing consent a campaign's request records as its consent (the standing consent stays the reference). */
export function accordPermanent(id: string, c: ConsentementRenouvellement): AccordPermanent {
  return { id, mode: c.mode, donnePar: { type: c.donnePar.type, id: c.donnePar.id }, piece: c.piece, recueilliLe: c.recueilliLe, versionTexte: c.versionTexte };
}
