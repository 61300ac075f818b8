import { LIBELLES_SITUATION_FAMILLE } from '../domain/situation-fiscale.ts';
import { formatEuros } from '../domain/money.ts';
import { calendarYear, DEFAULT_TAXATION_DATE, type TaxationDate } from '../sandbox/calendar.ts';
import { Population, SPI_SANDBOX } from '../sandbox/population.ts';

/** Sandbox identities whose FranceConnect journey ends on a QF without review (one declarant each). */
export const DEMO_SPIS = [SPI_SANDBOX.primoDeclarant, SPI_SANDBOX.rfrZero] as const;

const capitale = (mot: string) => mot.toLowerCase().replace(/(^|[\s-])\p{L}/gu, (c) => c.toUpperCase());

/**
 * Who a sandbox identity is, read from the sandbox's own population rather than written by hand:
 * name, birth year, situation, dependants, parts and RFR of the newest avis. The demo prints it
 * beside the login so that what a tester expects is what the sandbox answers.
 */
export function decrireIdentite(spi: string, maintenant = Date.now(), taxation: TaxationDate = DEFAULT_TAXATION_DATE): string {
  const avis = new Population(taxation).situations(spi, calendarYear(maintenant));
  const dernier = [...avis].sort((a, b) => b.annrev - a.annrev)[0];
  if (!dernier) return 'identité sans avis dans le bac à sable';
  const d = dernier.declarant1;
  const nee = d.sexe === '2' ? 'née' : 'né';
  const pac = dernier.pac.nbPac;
  const charges = pac === 0 ? 'sans personne à charge' : `${pac} personne${pac > 1 ? 's' : ''} à charge`;
  const rfr = dernier.rfr === 0 ? 'revenu fiscal de référence nul' : `revenu fiscal de référence ${formatEuros(dernier.rfr * 100, { wholeEuros: true })}`;
  const annees =
    avis.length === 1
      ? `un seul avis (revenus ${dernier.annrev})`
      : `avis des revenus ${avis
          .map((a) => a.annrev)
          .sort()
          .join(' et ')}`;
  const parts = `${String(dernier.nbPart).replace('.', ',')} part${dernier.nbPart > 1 ? 's' : ''}`;
  const naissance = d.naissance ? `, ${nee} en ${d.naissance.annee}` : '';
  return `${capitale(d.prenoms)} ${capitale(d.nomNaissance)}${naissance}, ${LIBELLES_SITUATION_FAMILLE[dernier.sitFam]}, ${charges} (${parts}), ${rfr} ; ${annees}`;
}
