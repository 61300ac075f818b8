import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { QuotientDate } from './attestation.ts';
import { etatQuotient, quotientEnVigueur } from './quotient-en-vigueur.ts';

/*
 * Properties of « the QF in force », over families of QFs drawn at random: periods anywhere in
 * three years, recorded in any order. The instants of recording are distinct (a QF is recorded by
 * one transaction, to the millisecond); the billing export breaks a tie by id, which a pure
 * `QuotientDate` does not carry.
 */

const JOUR0 = Date.UTC(2025, 0, 1);
const jour = (n: number) => new Date(JOUR0 + n * 86_400_000).toISOString().slice(0, 10);
const instant = (n: number) => new Date(JOUR0 + n * 60_000).toISOString();
const JOURS = 3 * 366;

interface Q extends QuotientDate {
  readonly n: number;
}

/** A period of one day to a year and a half, starting anywhere in the three years. */
const periode = fc.record({ debut: fc.integer({ min: 0, max: JOURS }), duree: fc.integer({ min: 0, max: 540 }) });

const quotients = fc
  .uniqueArray(fc.integer({ min: 0, max: JOURS * 1440 }), { minLength: 0, maxLength: 8 })
  .chain((instants) => fc.tuple(fc.constant(instants), fc.array(periode, { minLength: instants.length, maxLength: instants.length })))
  .map(([instants, periodes]) =>
    instants.map((t, n): Q => ({ n, calculeLe: instant(t), valideDu: jour(periodes[n]!.debut), valideAu: jour(periodes[n]!.debut + periodes[n]!.duree) })),
  );

const unJour = fc.integer({ min: 0, max: JOURS }).map(jour);

const couvre = (q: QuotientDate, j: string) => q.valideDu <= j && j <= q.valideAu;

/** The billing export's rule (facturation-service `enVigueurLe`): valid that day, and the newest recorded of those. */
function reference(tous: readonly Q[], j: string): Q | undefined {
  return tous.filter((q) => couvre(q, j)).reduce<Q | undefined>((a, q) => (a === undefined || q.calculeLe > a.calculeLe ? q : a), undefined);
}

test('on any day, at most one QF is in force, and it is the one the billing export reads for that day', () => {
  fc.assert(
    fc.property(quotients, unJour, (tous, j) => {
      const enVigueur = tous.filter((q) => etatQuotient(q, tous, j) === 'en_vigueur');
      assert.ok(enVigueur.length <= 1, `${enVigueur.length} QFs in force on ${j}`);
      assert.equal(quotientEnVigueur(tous, j), reference(tous, j));
      assert.equal(enVigueur[0], reference(tous, j));
    }),
    { numRuns: 2000 },
  );
});

test('the order in which the QFs are listed changes nothing', () => {
  fc.assert(
    fc.property(
      quotients.chain((tous) => fc.tuple(fc.constant(tous), fc.shuffledSubarray(tous, { minLength: tous.length, maxLength: tous.length }))),
      unJour,
      ([tous, melanges], j) => {
        assert.equal(quotientEnVigueur(melanges, j), quotientEnVigueur(tous, j));
        for (const q of tous) assert.equal(etatQuotient(q, melanges, j), etatQuotient(q, tous, j));
      },
    ),
  );
});

test('each state says what it means: expired is over, to come has not started, in force covers the day', () => {
  fc.assert(
    fc.property(quotients, unJour, (tous, j) => {
      for (const q of tous) {
        const etat = etatQuotient(q, tous, j);
        assert.equal(etat === 'expire', q.valideAu < j, `${etat} ${JSON.stringify(q)} on ${j}`);
        if (etat === 'a_venir') assert.ok(q.valideDu > j);
        if (etat === 'en_vigueur') assert.ok(couvre(q, j));
      }
    }),
  );
});

test('a QF recorded after all others and valid today is the one in force today; the one it follows becomes history', () => {
  fc.assert(
    fc.property(quotients, unJour, fc.integer({ min: 0, max: 540 }), fc.integer({ min: 0, max: 540 }), (tous, j, avant, apres) => {
      const precedent = quotientEnVigueur(tous, j);
      const dernier = tous.reduce((max, q) => (q.calculeLe > max ? q.calculeLe : max), instant(0));
      const nouveau: Q = {
        n: tous.length,
        calculeLe: new Date(Date.parse(dernier) + 60_000).toISOString(),
        valideDu: jour(Math.max(0, Date.parse(j) / 86_400_000 - JOUR0 / 86_400_000 - avant)),
        valideAu: jour(Date.parse(j) / 86_400_000 - JOUR0 / 86_400_000 + apres),
      };
      const apresDecision = [...tous, nouveau];
      assert.equal(quotientEnVigueur(apresDecision, j), nouveau);
      if (precedent) assert.equal(etatQuotient(precedent, apresDecision, j), 'remplace');
    }),
  );
});

test('a QF recorded for a later, separate period changes nothing today', () => {
  fc.assert(
    fc.property(quotients, unJour, fc.integer({ min: 1, max: 400 }), (tous, j, dans) => {
      const aujourdhui = Date.parse(j) / 86_400_000 - JOUR0 / 86_400_000;
      const suivant: Q = {
        n: tous.length,
        calculeLe: instant(JOURS * 1440 + 1),
        valideDu: jour(aujourdhui + dans),
        valideAu: jour(aujourdhui + dans + 365),
      };
      const avec = [...tous, suivant];
      assert.equal(quotientEnVigueur(avec, j), quotientEnVigueur(tous, j));
      assert.equal(etatQuotient(suivant, avec, j), 'a_venir');
    }),
  );
});
