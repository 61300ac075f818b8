import { readFileSync } from 'node:fs';
import { avecCle } from '../domain/numero-fiscal.ts';
import { isoDate, type TaxationDate } from './calendar.ts';

/**
 * The sandbox's fictitious population: the DGFiP's published bac à sable (identity files and IR
 * rows, cells trimmed), completed by generated households for the cases a commune meets (couples,
 * separated parents, a death, a first declaration...). Income years are expressed relative to the
 * calendar year of the sandbox clock, so the data never look stale: see README.md, « Années ».
 */

export type SitFam = 'M' | 'O' | 'C' | 'D' | 'V';
export type Origine = 'publie' | 'observe' | 'genere';

export interface DateNaissance {
  readonly jour: string;
  readonly mois: string;
  readonly annee: string;
}

/** One person of the identity files (état civil), as R2P and SFiP resolve it. */
export interface Personne {
  readonly spi: string;
  readonly nomNaissance: string;
  readonly nomUsage?: string;
  readonly prenoms: string;
  /** `1` masculin, `2` féminin (R2P coding). */
  readonly sexe: '1' | '2';
  readonly naissance?: DateNaissance;
  /** INSEE code of the birth commune (5 characters), absent when born abroad. */
  readonly cogNaissance?: string;
  /** INSEE code of the birth country, `99100` for France. */
  readonly paysNaissance: string;
  /** The e-mail address of the published identity files (fictitious); absent for generated people. */
  readonly email?: string;
  readonly adresse?: AdresseFiscale;
  readonly origine: Origine;
  /** A protected file: R2P and SFiP refuse it by état civil (403), whatever is given. */
  readonly nonCommunicable?: true;
}

export interface Pac {
  readonly nbPac: number;
  readonly nbPacF?: number;
  readonly nbPacG?: number;
  readonly nbPacH?: number;
  readonly nbPacI?: number;
  readonly nbPacR?: number;
  readonly nbPacJ?: number;
  readonly nbPacN?: number;
  readonly nbPacP?: number;
}

export interface AdresseFiscale {
  /** One line, as `aft`: `42 RUE ABBE DE L EPEE 13005 MARSEILLE`. */
  readonly aft: string;
  readonly complementAdresse?: string;
  readonly voie: string;
  /** Postcode and city, as the sandbox data put them: `13005 MARSEILLE`. */
  readonly codePostal: string;
  readonly commune?: string;
}

export interface CodeRev {
  readonly code: string;
  readonly valeur: string;
}

/** Fields of an avis beyond the QF core; all optional, as in the DGFiP schema. */
export interface DetailsAvis {
  readonly revenuBrutGlobal?: number;
  readonly revImposable?: number;
  readonly impAvImput?: number;
  readonly montTotIr?: number;
  readonly mntRevbareme?: number;
  readonly sitParIso?: string;
  readonly indDeficit?: string;
  readonly numRole?: string;
  readonly rev?: Readonly<Record<string, readonly CodeRev[]>>;
}

/** Part of the year covered by an avis when a spouse died (two avis for that year). */
export interface Periode {
  readonly debut: string;
  readonly fin: string;
  /** 1: the year's only avis; 2: the couple, until the death; 3: the survivor, after it (sandbox coding). */
  readonly typeAvis: number;
  readonly dateDecesDec1?: string;
  readonly dateDecesDec2?: string;
}

/** One avis: one foyer fiscal, one income year, one period. */
export interface Situation {
  readonly annrev: number;
  readonly declarant1: Personne;
  readonly declarant2?: Personne;
  readonly sitFam: SitFam;
  readonly nbPart: number;
  readonly pac: Pac;
  readonly rfr: number;
  readonly adresse: AdresseFiscale;
  readonly details: DetailsAvis;
  readonly periode?: Periode;
  /** Date d'établissement and de mise en recouvrement, ISO `YYYY-MM-DD`. */
  readonly datEtab: string;
  readonly datRec: string;
  /** Référence d'avis, as API Particulier v2 asks for it. */
  readonly referenceAvis: string;
  readonly origine: Origine;
  /** Short French label of the case, for the README and the CLI. */
  readonly cas: string;
}

/** The SPI completed with its key: the last three digits are the first ten modulo 511. */
export { avecCle };

/** SPIs of the generated households and of the reserved cases, for tests and documentation. */
export const SPI_SANDBOX = {
  publies: ['3999999930262', '3999999931263', '3999999932264', '3999999936268', '3999999942274', '3999999943275'],
  coupleMarie: { declarant1: avecCle('3999990101'), declarant2: avecCle('3999990102') },
  couplePacse: { declarant1: avecCle('3999990111'), declarant2: avecCle('3999990112') },
  parentsNonMaries: { parentAvecEnfant: avecCle('3999990121'), parentSansEnfant: avecCle('3999990122') },
  residenceAlternee: { parentA: avecCle('3999990131'), parentB: avecCle('3999990132') },
  rfrZero: avecCle('3999990141'),
  deces: { defunt: avecCle('3999990151'), survivant: avecCle('3999990152') },
  primoDeclarant: avecCle('3999990161'),
  familleNombreuse: { declarant1: '3999999889221', declarant2: '3999999912244' },
  /** The canary of the security battery (valid key: 3141592653 mod 511 = 423). */
  canari: '3141592653423',
  /** Two MARTIN Camille born on 15 June 1985, in Paris and in Lyon: only the place of birth tells them apart. */
  homonymes: { paris: avecCle('3999990181'), lyon: avecCle('3999990182') },
  /** SECRET Dominique, born 1975-05-05 in Paris: a file R2P and SFiP do not disclose by état civil (403). */
  nonCommunicable: avecCle('3999990171'),
  /** Well formed, valid key, and nobody's: always « inconnu » (410, code 4102). */
  inconnu: avecCle('3999990199'),
  fautes: {
    http500: avecCle('3999990901'),
    http503: avecCle('3999990902'),
    timeout: avecCle('3999990903'),
    slowDrip: avecCle('3999990904'),
    malformedJson: avecCle('3999990905'),
    truncatedBody: avecCle('3999990906'),
    oversizedBody: avecCle('3999990907'),
    connectionReset: avecCle('3999990908'),
    http429: avecCle('3999990909'),
    wrongContentType: avecCle('3999990910'),
    redirect: avecCle('3999990911'),
    schemaMismatch: avecCle('3999990912'),
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Published files

function readCsv(name: string): string[][] {
  const text = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(',').map((cell) => cell.trim()));
}

const cell = (row: readonly string[], i: number): string => row[i] ?? '';
const orUndefined = (s: string): string | undefined => (s === '' ? undefined : s);

function dateNaissance(iso: string): DateNaissance | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return m ? { annee: m[1] as string, mois: m[2] as string, jour: m[3] as string } : undefined;
}

/** Upper case without accents, as the DGFiP writes addresses. */
function majusculesSansAccents(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase();
}

function personneDesFichiers(row: readonly string[]): Personne {
  // Columns: id, spi, password, birth name, usage name, first names, gender, e-mail, phone,
  // birth date, birth commune, birth country, address country, address city, address postcode, street.
  const cog = cell(row, 10);
  const rue = majusculesSansAccents(cell(row, 15));
  const ville = majusculesSansAccents(cell(row, 13));
  const cp = cell(row, 14);
  const nomUsage = orUndefined(cell(row, 4));
  const naissance = dateNaissance(cell(row, 9));
  const email = orUndefined(cell(row, 7));
  return {
    spi: cell(row, 1),
    nomNaissance: cell(row, 3),
    ...(nomUsage ? { nomUsage } : {}),
    prenoms: cell(row, 5),
    sexe: cell(row, 6) === 'female' ? '2' : '1',
    ...(naissance ? { naissance } : {}),
    ...(cog ? { cogNaissance: cog.padStart(5, '0') } : {}),
    paysNaissance: cell(row, 11) || '99100',
    ...(email ? { email } : {}),
    ...(rue && cp ? { adresse: { aft: `${rue} ${cp} ${ville}`.trim(), voie: rue, codePostal: `${cp} ${ville}`.trim() } } : {}),
    origine: 'publie',
  };
}

interface LignePubliee {
  readonly spi: string;
  readonly annee: number;
  readonly rfr: number;
  readonly sitFam: SitFam;
  readonly nbPart: number;
  readonly nbPac: number;
  readonly nmNaiDec1: string;
  readonly nmUsaDec1?: string;
  readonly prnmDec1: string;
  readonly adresse: AdresseFiscale;
  readonly tspr?: readonly CodeRev[];
}

function lignesIrPubliees(): LignePubliee[] {
  const [, ...rows] = readCsv('FD_Impot_IR_BacASable.csv');
  return rows.map((row) => {
    const tspr = cell(row, 13)
      .split(':')
      .filter((p) => p.includes('='))
      .map((p) => {
        const [code = '', valeur = ''] = p.split('=');
        return { code, valeur };
      });
    const complement = orUndefined(cell(row, 10));
    const nmUsa = orUndefined(cell(row, 7));
    return {
      spi: cell(row, 0),
      annee: Number(cell(row, 1)),
      rfr: Number(cell(row, 2)),
      sitFam: cell(row, 3) as SitFam,
      nbPart: Number(cell(row, 4)),
      nbPac: Number(cell(row, 5)),
      nmNaiDec1: cell(row, 6),
      ...(nmUsa ? { nmUsaDec1: nmUsa } : {}),
      prnmDec1: cell(row, 8),
      adresse: {
        aft: cell(row, 9),
        ...(complement ? { complementAdresse: complement } : {}),
        voie: cell(row, 11),
        codePostal: cell(row, 12),
      },
      ...(tspr.length > 0 ? { tspr } : {}),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Generated people and households

function genere(
  spi: string,
  nomNaissance: string,
  prenoms: string,
  sexe: '1' | '2',
  naissanceIso: string,
  cogNaissance: string,
  extra: { nomUsage?: string; nonCommunicable?: true } = {},
): Personne {
  const naissance = dateNaissance(naissanceIso);
  return {
    spi,
    nomNaissance,
    ...(extra.nomUsage ? { nomUsage: extra.nomUsage } : {}),
    ...(extra.nonCommunicable ? { nonCommunicable: true } : {}),
    prenoms,
    sexe,
    ...(naissance ? { naissance } : {}),
    cogNaissance,
    paysNaissance: '99100',
    origine: 'genere',
  };
}

function adresse(voie: string, codePostal: string, complementAdresse?: string): AdresseFiscale {
  return {
    // The complement stays out of the one-line address, as in the published data.
    aft: `${voie} ${codePostal}`,
    ...(complementAdresse ? { complementAdresse } : {}),
    voie,
    codePostal,
  };
}

const S = SPI_SANDBOX;
const P = {
  bertin: genere(S.coupleMarie.declarant1, 'BERTIN', 'PAUL HENRI', '1', '1981-04-09', '44109'),
  roussel: genere(S.coupleMarie.declarant2, 'ROUSSEL', 'CLAIRE ANNE', '2', '1983-12-01', '35238', { nomUsage: 'BERTIN' }),
  chevalier: genere(S.couplePacse.declarant1, 'CHEVALIER', 'MARC', '1', '1988-06-30', '69123'),
  ndiaye: genere(S.couplePacse.declarant2, 'NDIAYE-FALL', 'AMINATA', '2', '1990-02-14', '75056'),
  garnier: genere(S.parentsNonMaries.parentAvecEnfant, 'GARNIER', 'JULIE', '2', '1992-09-17', '59350'),
  moreau: genere(S.parentsNonMaries.parentSansEnfant, 'MOREAU', 'THOMAS', '1', '1991-01-05', '59350'),
  lambert: genere(S.residenceAlternee.parentA, 'LAMBERT', 'SOPHIE', '2', '1984-07-22', '33063'),
  faure: genere(S.residenceAlternee.parentB, 'FAURE', 'NICOLAS', '1', '1982-03-11', '33063'),
  roux: genere(S.rfrZero, 'ROUX', 'LEA', '2', '2003-05-19', '13055'),
  perrinAlain: genere(S.deces.defunt, 'PERRIN', 'ALAIN', '1', '1958-10-02', '21231'),
  perrinMonique: genere(S.deces.survivant, 'BLANC', 'MONIQUE', '2', '1961-08-27', '21231', { nomUsage: 'PERRIN' }),
  girard: genere(S.primoDeclarant, 'GIRARD', 'HUGO', '1', '2004-11-30', '67482'),
  mercier: genere(S.canari, 'MERCIER', 'ANNE', '2', '1987-02-03', '31555'),
  camilleParis: genere(S.homonymes.paris, 'MARTIN', 'CAMILLE', '2', '1985-06-15', '75056'),
  camilleLyon: genere(S.homonymes.lyon, 'MARTIN', 'CAMILLE', '2', '1985-06-15', '69123'),
  secret: genere(S.nonCommunicable, 'SECRET', 'DOMINIQUE', '2', '1975-05-05', '75056', { nonCommunicable: true }),
};

const faultPeople: Personne[] = Object.entries(S.fautes).map(([nom, spi], i) =>
  genere(spi, `PANNE ${nom.toUpperCase()}`, 'TEST', i % 2 === 0 ? '1' : '2', '1980-01-01', '75056'),
);

/** A situation before the year is known: `offset` 1 is the income year N-1 of the clock's year N. */
interface Gabarit {
  readonly offset: number;
  readonly cas: string;
  readonly origine: Origine;
  readonly declarant1: Personne;
  readonly declarant2?: Personne;
  readonly sitFam: SitFam;
  readonly nbPart: number;
  readonly pac: Pac;
  readonly rfr: number;
  readonly adresse: AdresseFiscale;
  readonly details?: DetailsAvis;
  /** Period, with dates given as month-day inside the income year. */
  readonly periode?: { debut: string; fin: string; typeAvis: number; decesDec1?: string; decesDec2?: string };
}

function chaqueAnnee(offsets: readonly number[], make: (offset: number) => Omit<Gabarit, 'offset'>): Gabarit[] {
  return offsets.map((offset) => ({ offset, ...make(offset) }));
}

function gabaritsGeneres(): Gabarit[] {
  const nantes = adresse('12 RUE DES LILAS', '44000 NANTES', 'BAT B APT 12');
  const lyon = adresse('7 QUAI SAINT VINCENT', '69001 LYON');
  const lille = adresse('25 RUE ESQUERMOISE', '59000 LILLE');
  const dijon = adresse('3 ALLEE DES TILLEULS', '21000 DIJON');
  const g: Gabarit[] = [];

  g.push(
    ...chaqueAnnee([1, 2, 3], (o) => ({
      cas: 'Couple marié : chacun des deux numéros fiscaux donne le même foyer',
      origine: 'genere',
      declarant1: P.bertin,
      declarant2: P.roussel,
      sitFam: 'M',
      nbPart: 3,
      pac: { nbPac: 2, nbPacF: 2 },
      rfr: [52340, 50110, 48020][o - 1] as number,
      adresse: nantes,
      details: {
        revenuBrutGlobal: [55210, 52980, 50870][o - 1] as number,
        revImposable: [55210, 52980, 50870][o - 1] as number,
        mntRevbareme: [2830, 2610, 2455][o - 1] as number,
        impAvImput: [2830, 2610, 2455][o - 1] as number,
        montTotIr: [2830, 2610, 2455][o - 1] as number,
        numRole: '001',
        rev: {
          tspr: [
            { code: '1AJ', valeur: String([31200, 30100, 29000][o - 1]) },
            { code: '1BJ', valeur: String([26140, 25100, 24300][o - 1]) },
          ],
        },
      },
    })),
  );

  g.push(
    ...chaqueAnnee([1, 2], (o) => ({
      cas: 'Couple pacsé : chacun des deux numéros fiscaux donne le même foyer',
      origine: 'genere',
      declarant1: P.chevalier,
      declarant2: P.ndiaye,
      sitFam: 'O',
      nbPart: 2.5,
      pac: { nbPac: 1, nbPacF: 1 },
      rfr: [38900, 37250][o - 1] as number,
      adresse: lyon,
      details: { revenuBrutGlobal: [40100, 38400][o - 1] as number, revImposable: [40100, 38400][o - 1] as number },
    })),
  );

  g.push(
    ...chaqueAnnee([1, 2], (o) => ({
      cas: 'Parents non mariés : deux numéros fiscaux, deux foyers (enfant rattaché à la mère)',
      origine: 'genere',
      declarant1: P.garnier,
      sitFam: 'C',
      nbPart: 1.5,
      pac: { nbPac: 1, nbPacF: 1 },
      rfr: [24500, 23800][o - 1] as number,
      adresse: lille,
    })),
    ...chaqueAnnee([1, 2], (o) => ({
      cas: 'Parents non mariés : deux numéros fiscaux, deux foyers (le père, sans personne à charge)',
      origine: 'genere',
      declarant1: P.moreau,
      sitFam: 'C',
      nbPart: 1,
      pac: { nbPac: 0 },
      rfr: [27800, 26900][o - 1] as number,
      adresse: lille,
    })),
  );

  g.push(
    ...chaqueAnnee([1, 2], (o) => ({
      cas: 'Résidence alternée : deux enfants en case H, parent isolé (case T), 1,75 part',
      origine: 'genere',
      declarant1: P.lambert,
      sitFam: 'D',
      nbPart: 1.75,
      pac: { nbPac: 2, nbPacH: 2 },
      rfr: [31200, 30500][o - 1] as number,
      adresse: adresse('18 COURS DE L INTENDANCE', '33000 BORDEAUX'),
      details: { sitParIso: 'T' },
    })),
    ...chaqueAnnee([1, 2], (o) => ({
      cas: 'Résidence alternée : l’autre parent, mêmes enfants en case H, 1,5 part',
      origine: 'genere',
      declarant1: P.faure,
      sitFam: 'D',
      nbPart: 1.5,
      pac: { nbPac: 2, nbPacH: 2 },
      rfr: [35600, 34900][o - 1] as number,
      adresse: adresse('4 RUE SAINTE CATHERINE', '33000 BORDEAUX'),
    })),
  );

  g.push(
    ...chaqueAnnee([1, 2], () => ({
      cas: 'Revenu fiscal de référence nul (déficit, non imposable)',
      origine: 'genere',
      declarant1: P.roux,
      sitFam: 'C',
      nbPart: 1,
      pac: { nbPac: 0 },
      rfr: 0,
      adresse: adresse('9 RUE DE LA REPUBLIQUE', '13002 MARSEILLE'),
      details: { revenuBrutGlobal: -4200, revImposable: 0, montTotIr: 0, indDeficit: 'O' },
    })),
  );

  // Death of a married spouse on 14 March of N-1: two avis that year, the couple's until the death
  // and the survivor's after it (the survivor becomes declarant 1 of the second one).
  g.push(
    {
      offset: 1,
      cas: 'Décès du conjoint en N-1 : avis du couple jusqu’au décès',
      origine: 'genere',
      declarant1: P.perrinAlain,
      declarant2: P.perrinMonique,
      sitFam: 'M',
      nbPart: 2.5,
      pac: { nbPac: 1, nbPacR: 1 },
      rfr: 9800,
      adresse: dijon,
      periode: { debut: '01-01', fin: '03-14', typeAvis: 2, decesDec1: '03-14' },
    },
    {
      offset: 1,
      cas: 'Décès du conjoint en N-1 : avis du survivant après le décès',
      origine: 'genere',
      declarant1: P.perrinMonique,
      sitFam: 'V',
      nbPart: 2.5,
      pac: { nbPac: 1, nbPacR: 1 },
      rfr: 31500,
      adresse: dijon,
      periode: { debut: '03-15', fin: '12-31', typeAvis: 3 },
    },
    ...chaqueAnnee([2, 3], (o) => ({
      cas: 'Décès du conjoint en N-1 : années précédentes, couple marié',
      origine: 'genere',
      declarant1: P.perrinAlain,
      declarant2: P.perrinMonique,
      sitFam: 'M',
      nbPart: 2.5,
      pac: { nbPac: 1, nbPacR: 1 },
      rfr: [40200, 39000][o - 2] as number,
      adresse: dijon,
    })),
  );

  g.push({
    offset: 1,
    cas: 'Primo-déclarant : seule l’année N-1 existe (rien avant la date de taxation)',
    origine: 'genere',
    declarant1: P.girard,
    sitFam: 'C',
    nbPart: 1,
    pac: { nbPac: 0 },
    rfr: 14300,
    adresse: adresse('30 RUE DU VIEUX MARCHE AUX POISSONS', '67000 STRASBOURG'),
  });

  g.push(
    ...chaqueAnnee([1, 2], (o) => ({
      cas: 'Numéro fiscal « canari » de la batterie de sécurité : parent isolé, un enfant',
      origine: 'genere',
      declarant1: P.mercier,
      sitFam: 'C',
      nbPart: 2,
      pac: { nbPac: 1, nbPacF: 1 },
      rfr: [21000, 20400][o - 1] as number,
      adresse: adresse('2 PLACE DU CAPITOLE', '31000 TOULOUSE'),
      details: { sitParIso: 'T' },
    })),
  );

  for (const person of faultPeople) {
    g.push(
      ...chaqueAnnee([1, 2], () => ({
        cas: 'Numéro fiscal réservé à une panne simulée',
        origine: 'genere',
        declarant1: person,
        sitFam: 'C',
        nbPart: 1,
        pac: { nbPac: 0 },
        rfr: 18000,
        adresse: adresse('1 RUE DE LA PANNE', '75001 PARIS'),
      })),
    );
  }
  return g;
}

// ---------------------------------------------------------------------------------------------
// The population

export interface CriteresEtatCivil {
  readonly nom: string;
  readonly prenom: string;
  readonly sexe?: '1' | '2';
  readonly naissance?: { annee: string; mois?: string; jour?: string };
  readonly naisCodePays?: string;
  readonly naisCodeDept?: string;
  readonly naisCodeCommune?: string;
}

/** Names compared the way a search engine of the DGFiP plausibly does: case, accents, hyphens ignored. */
function normaliserNom(s: string): string {
  return majusculesSansAccents(s).replace(/[-'’]/g, ' ').replace(/\s+/g, ' ').trim();
}

const sansZerosDeTete = (s: string): string => s.replace(/^0+(?=.)/, '');

export function departementEtCommune(cog: string): { dept: string; commune: string } {
  // DOM codes have a 3-character département (971..976) and a 2-digit commune.
  return cog.startsWith('97') ? { dept: cog.slice(0, 3), commune: cog.slice(3) } : { dept: cog.slice(0, 2), commune: cog.slice(2) };
}

export class Population {
  readonly personnes: ReadonlyMap<string, Personne>;
  private readonly gabarits: readonly Gabarit[];
  private readonly parAnnee = new Map<number, ReadonlyMap<string, readonly Situation[]>>();

  constructor(private readonly taxation: TaxationDate) {
    const personnes = new Map<string, Personne>();
    for (const row of [...readCsv('DGFiP-shared-database.csv'), ...readCsv('DGFiP-database.csv')]) {
      const p = personneDesFichiers(row);
      personnes.set(p.spi, p);
    }
    for (const p of [...Object.values(P), ...faultPeople]) personnes.set(p.spi, p);
    this.personnes = personnes;
    this.gabarits = this.construireGabarits(personnes);
  }

  private construireGabarits(personnes: ReadonlyMap<string, Personne>): Gabarit[] {
    const gabarits: Gabarit[] = [];
    const couverts = new Set<string>();

    // Published IR rows: 2019 becomes N-1 and 2018 N-2 (offset = 2020 - published year).
    for (const l of lignesIrPubliees()) {
      const identite = personnes.get(l.spi);
      const declarant1: Personne = {
        spi: l.spi,
        nomNaissance: l.nmNaiDec1,
        ...(l.nmUsaDec1 ? { nomUsage: l.nmUsaDec1 } : {}),
        prenoms: l.prnmDec1,
        sexe: identite?.sexe ?? '1',
        ...(identite?.naissance ? { naissance: identite.naissance } : {}),
        ...(identite?.cogNaissance ? { cogNaissance: identite.cogNaissance } : {}),
        paysNaissance: identite?.paysNaissance ?? '99100',
        origine: 'publie',
      };
      gabarits.push({
        offset: 2020 - l.annee,
        cas: 'Foyer publié du bac à sable de la DGFiP',
        origine: 'publie',
        declarant1,
        sitFam: l.sitFam,
        nbPart: l.nbPart,
        pac: { nbPac: l.nbPac },
        rfr: l.rfr,
        adresse: l.adresse,
        ...(l.tspr ? { details: { rev: { tspr: l.tspr } } } : {}),
      });
      couverts.add(l.spi);
    }

    // The answer siade received from the DGFiP sandbox in 2022 (see the reference, §6.2): most
    // probably this pair of identities. Served for N-1 and N-2 like the published rows.
    const { declarant1: fn1, declarant2: fn2 } = S.familleNombreuse;
    const tatiana = personnes.get(fn1);
    const gabin = personnes.get(fn2);
    if (tatiana && gabin) {
      for (const offset of [1, 2]) {
        gabarits.push({
          offset,
          cas: 'Famille nombreuse pacsée, 6,75 parts, impôt négatif (réponse observée du bac à sable DGFiP)',
          origine: 'observe',
          declarant1: tatiana,
          declarant2: gabin,
          sitFam: 'O',
          nbPart: 6.75,
          pac: { nbPac: 5 },
          rfr: 33640,
          adresse: adresse('55 BOULEVARD MARCELLIN BERTHELOT', '13200 ARLES'),
          details: { revenuBrutGlobal: 13070, revImposable: 10586, impAvImput: 99, montTotIr: -36 },
        });
      }
      couverts.add(fn1).add(fn2);
    }

    const generes = gabaritsGeneres();
    for (const gab of generes) {
      couverts.add(gab.declarant1.spi);
      if (gab.declarant2) couverts.add(gab.declarant2.spi);
    }
    gabarits.push(...generes);

    // Everyone else of the identity files gets a plain single-person foyer, generated from the
    // SPI so that it never changes between runs. DUBIGNOT is a widower, as in the SFiP example.
    for (const p of personnes.values()) {
      if (couverts.has(p.spi)) continue;
      const rfr = 9000 + ((Number(p.spi.slice(-6)) * 7919) % 40000);
      for (const offset of [1, 2]) {
        gabarits.push({
          offset,
          cas: 'Identité publiée, foyer généré (personne seule)',
          origine: 'genere',
          declarant1: p,
          sitFam: p.spi === '3999999776202' ? 'V' : 'C',
          nbPart: 1,
          pac: { nbPac: 0 },
          rfr,
          adresse: p.adresse ?? adresse('20 AVENUE DE SEGUR', '75007 PARIS'),
        });
      }
    }
    return gabarits;
  }

  /** Every avis (all years, all periods) in which `spi` is a declarant, for the calendar year `n`. */
  situations(spi: string, n: number): readonly Situation[] {
    return this.index(n).get(spi) ?? [];
  }

  /** A taxpayer the DGFiP knows (present in an identity file or a household). */
  connu(spi: string): boolean {
    return this.personnes.has(spi);
  }

  /** The avis whose référence is `reference` and of which `spi` is a declarant. */
  avisParReference(spi: string, reference: string, n: number): Situation | undefined {
    return this.situations(spi, n).find((s) => s.referenceAvis === reference);
  }

  rechercher(c: CriteresEtatCivil): Personne[] {
    const nom = normaliserNom(c.nom);
    const prenom = normaliserNom(c.prenom).split(' ');
    return [...this.personnes.values()].filter((p) => {
      if (normaliserNom(p.nomNaissance) !== nom) return false;
      const prenoms = normaliserNom(p.prenoms).split(' ');
      // The first names given must be the person's first names, in order (all or the first ones).
      if (prenom.length > prenoms.length || prenom.some((x, i) => prenoms[i] !== x)) return false;
      if (c.sexe && p.sexe !== c.sexe) return false;
      if (c.naissance) {
        const n = p.naissance;
        if (!n || n.annee !== c.naissance.annee) return false;
        if (c.naissance.mois && n.mois !== c.naissance.mois) return false;
        if (c.naissance.jour && n.jour !== c.naissance.jour) return false;
      }
      if (c.naisCodePays && p.paysNaissance !== c.naisCodePays) return false;
      if (c.naisCodeDept || c.naisCodeCommune) {
        if (!p.cogNaissance) return false;
        const lieu = departementEtCommune(p.cogNaissance);
        if (c.naisCodeDept && sansZerosDeTete(c.naisCodeDept.toUpperCase()) !== sansZerosDeTete(lieu.dept)) return false;
        if (c.naisCodeCommune && sansZerosDeTete(c.naisCodeCommune) !== sansZerosDeTete(lieu.commune)) return false;
      }
      return true;
    });
  }

  private index(n: number): ReadonlyMap<string, readonly Situation[]> {
    const cached = this.parAnnee.get(n);
    if (cached) return cached;
    const index = new Map<string, Situation[]>();
    for (const gab of this.gabarits) {
      const s = this.situation(gab, n);
      for (const d of [s.declarant1, s.declarant2]) {
        if (!d) continue;
        const list = index.get(d.spi) ?? [];
        list.push(s);
        index.set(d.spi, list);
      }
    }
    for (const list of index.values()) {
      list.sort((a, b) => b.annrev - a.annrev || (a.periode?.debut ?? '').localeCompare(b.periode?.debut ?? ''));
    }
    this.parAnnee.set(n, index);
    return index;
  }

  private situation(gab: Gabarit, n: number): Situation {
    const annrev = n - gab.offset;
    const avis = annrev + 1;
    const { month, day } = this.taxation;
    const jour = (md: string): string => `${annrev}-${md}`;
    const periode = gab.periode
      ? {
          debut: jour(gab.periode.debut),
          fin: jour(gab.periode.fin),
          typeAvis: gab.periode.typeAvis,
          ...(gab.periode.decesDec1 ? { dateDecesDec1: jour(gab.periode.decesDec1) } : {}),
          ...(gab.periode.decesDec2 ? { dateDecesDec2: jour(gab.periode.decesDec2) } : {}),
        }
      : undefined;
    return {
      annrev,
      declarant1: gab.declarant1,
      ...(gab.declarant2 ? { declarant2: gab.declarant2 } : {}),
      sitFam: gab.sitFam,
      nbPart: gab.nbPart,
      pac: gab.pac,
      rfr: gab.rfr,
      adresse: gab.adresse,
      details: gab.details ?? {},
      ...(periode ? { periode } : {}),
      // Established a fortnight before the taxation date, collected nine days after (7 and 31 July
      // with the default 22 July, as in the answer siade observed).
      datEtab: isoDate(avis, month, day - 15),
      datRec: isoDate(avis, month, day + 9),
      referenceAvis: `${String(avis % 100).padStart(2, '0')}${gab.declarant1.spi.slice(2)}`,
      origine: gab.origine,
      cas: gab.cas,
    };
  }
}
