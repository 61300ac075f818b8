import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuotientError } from './errors.ts';
import { parsePolitiqueTarifaire, type PolitiqueTarifaire } from './politique-tarifaire.ts';
import {
  baseFromSimulation,
  baseFromSituations,
  computeQuotientFamilial,
  quotientFromSituations,
  quotientsResidenceAlternee,
  type SimulationInput,
} from './quotient-familial.ts';
import { createSituationFiscale, type SituationFiscaleInput } from './situation-fiscale.ts';
import { avisInput, politiqueInput, withChanges } from './test-support.ts';

type QuotientChanges = Parameters<typeof withChanges<ReturnType<typeof politiqueInput>>>[1]['quotient'];

function politique(quotient: QuotientChanges = {}): PolitiqueTarifaire {
  return parsePolitiqueTarifaire(withChanges(politiqueInput(), { quotient }));
}

const coefficients = {
  adulte: 1,
  enfant: 0.5,
  adulteRattache: 0.8,
  autrePersonneACharge: 1,
  majorationParentIsole: 0.5,
  majorationInvalidite: 0.5,
};

function simulate(p: PolitiqueTarifaire, input: SimulationInput) {
  return computeQuotientFamilial(p.quotient, baseFromSimulation(input));
}

const avis = (changes: Partial<SituationFiscaleInput> = {}) => createSituationFiscale(avisInput(changes));

function typedError(fn: () => unknown): QuotientError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof QuotientError, String(error));
    assert.equal(error.kind, 'invalid');
    return error;
  }
  assert.fail('une erreur typée était attendue');
}

test('RFR 48 000 € and 3 parts give a monthly QF of 1 333,33 €, explained in one sentence', () => {
  const qf = simulate(politique(), { rfr: 48_000, nbParts: 3 });
  assert.equal(qf.cents, 133_333);
  assert.equal(qf.diviseur, 3);
  assert.equal(
    qf.explication,
    'Quotient familial = revenu fiscal de référence de 48\u00a0000\u00a0€ ÷ 12 mois ÷ 3 parts = 1\u00a0333,33\u00a0€ par mois (arrondi au centime inférieur).',
  );
});

test('the rounding rule of the policy decides the last cent or euro', () => {
  // 50 000 / 12 / 2.5 = 1 666.666… €
  const cases = [
    [{ unite: 'centime', mode: 'inferieur' }, 166_666],
    [{ unite: 'centime', mode: 'plus-proche' }, 166_667],
    [{ unite: 'centime', mode: 'superieur' }, 166_667],
    [{ unite: 'euro', mode: 'inferieur' }, 166_600],
    [{ unite: 'euro', mode: 'plus-proche' }, 166_700],
  ] as const;
  for (const [arrondi, expected] of cases) {
    assert.equal(simulate(politique({ arrondi }), { rfr: 50_000, nbParts: 2.5 }).cents, expected, JSON.stringify(arrondi));
  }
  const annual = simulate(politique({ periode: 'annuelle' }), { rfr: 50_000, nbParts: 2.5 });
  assert.equal(annual.cents, 2_000_000);
  assert.match(annual.explication, /÷ 2,5 parts = 20\u00a0000,00\u00a0€ par an/);
});

test('income ÷ 12 ÷ persons: the household of the avis, declarants by family situation plus dependants', () => {
  const p = politique({ formule: 'revenu-personnes', plusieursFoyers: 'somme-rfr-recompte-personnes' });
  assert.equal(quotientFromSituations(p, [avis()]).cents, 100_000); // 48 000 / 12 / 4
  assert.equal(quotientFromSituations(p, [avis({ situationFamille: 'D', nbParts: 2.5 })]).cents, 133_333); // 3 persons
  assert.equal(simulate(p, { rfr: 48_000, nbPersonnes: 4 }).cents, 100_000);
  assert.equal(typedError(() => simulate(p, { rfr: 48_000, nbParts: 3 })).code, 'personnes_manquantes');
});

test('council coefficients: adults, children and the single-parent increase', () => {
  const p = politique({ formule: 'coefficients', plusieursFoyers: 'refuser', coefficients });
  const couple = quotientFromSituations(p, [avis()]); // 2 × 1 + 2 × 0.5 = 3
  assert.equal(couple.cents, 133_333);
  assert.equal(couple.diviseur, 3);
  const single = quotientFromSituations(p, [avis({ situationFamille: 'C', nbParts: 2.5, rfr: 36_000 })]); // 1 + 1 + 0.5 = 2.5
  assert.equal(single.cents, 120_000);
  assert.match(single.explication, /1 adulte × 1 \+ 2 enfants × 0,5 \+ 1 majoration parent isolé × 0,5/);
  // A single adult without children gets no increase.
  assert.equal(quotientFromSituations(p, [avis({ situationFamille: 'C', nbPac: 0, nbParts: 1, rfr: 12_000 })]).cents, 100_000);
  assert.equal(simulate(p, { rfr: 36_000, adultes: 1, enfants: 2 }).cents, 120_000);
});

test('coefficients use the detail of dependants: attached adults and disabled persons', () => {
  const p = politique({ formule: 'coefficients', plusieursFoyers: 'refuser', coefficients });
  const detailPac = {
    enfantsResidenceExclusive: 1,
    dontInvalidesResidenceExclusive: 1,
    enfantsResidenceAlternee: 0,
    dontInvalidesResidenceAlternee: 0,
    adultesRattaches: 1,
    autresInvalides: 0,
  };
  // 2 adults + 1 child × 0.5 + 1 attached adult × 0.8 + 1 disability × 0.5 = 3.8
  const qf = quotientFromSituations(p, [avis({ rfr: 45_600, detailPac })]);
  assert.equal(qf.diviseur, 3.8);
  assert.equal(qf.cents, 100_000);
  assert.match(qf.explication, /÷ 3,8 \(coefficients : 2 adultes × 1 \+ 1 enfant × 0,5 \+ 1 adulte rattaché × 0,8 \+ 1 majoration pour invalidité × 0,5\)/);
  // Two children in alternating residence count 2 × 0.5 × 0.5; a divorced parent alone with them gets the increase.
  const alternee = { ...detailPac, enfantsResidenceExclusive: 0, dontInvalidesResidenceExclusive: 0, enfantsResidenceAlternee: 2, adultesRattaches: 0 };
  const parent = quotientFromSituations(p, [avis({ situationFamille: 'D', nbParts: 1.5, rfr: 24_000, detailPac: alternee })]);
  assert.equal(parent.diviseur, 2); // 1 + 0.5 + 0.5
  assert.match(parent.explication, /1 adulte × 1 \+ 2 enfants en résidence alternée × 0,5 × 0,5 \+ 1 majoration parent isolé × 0,5/);
});

test('tricky case: unmarried parents, two avis combined as the policy says', () => {
  const mere = avis({
    situationFamille: 'C',
    rfr: 30_000,
    nbParts: 2,
    nbPac: 2,
    declarants: [{ nomNaissance: 'MARTIN', prenoms: 'JEANNE', dateNaissance: null }],
  });
  const pereAvis: Partial<SituationFiscaleInput> = {
    situationFamille: 'C',
    rfr: 18_000,
    nbParts: 1,
    nbPac: 0,
    declarants: [{ nomNaissance: 'DURAND', prenoms: 'PAUL', dateNaissance: null }],
  };
  const pere = avis(pereAvis);

  const sommeParts = quotientFromSituations(politique(), [mere, pere]); // 48 000 / 12 / 3
  assert.equal(sommeParts.cents, 133_333);
  assert.equal(sommeParts.nbFoyersFiscaux, 2);
  assert.match(sommeParts.explication, /des 2 foyers fiscaux additionnés \(30\u00a0000\u00a0€ \+ 18\u00a0000\u00a0€ = 48\u00a0000\u00a0€\)/);

  const recompte = quotientFromSituations(politique({ plusieursFoyers: 'somme-rfr-recompte-personnes' }), [mere, pere]); // 48 000 / 12 / 4 persons
  assert.equal(recompte.cents, 100_000);
  assert.equal(recompte.natureDiviseur, 'personnes');
  assert.match(recompte.explication, /personnes du foyer étant recomptées/);
  // With a single avis the same policy still divides by parts.
  assert.equal(quotientFromSituations(politique({ plusieursFoyers: 'somme-rfr-recompte-personnes' }), [avis()]).natureDiviseur, 'parts');

  assert.equal(typedError(() => quotientFromSituations(politique({ plusieursFoyers: 'refuser' }), [mere, pere])).code, 'plusieurs_foyers_non_prevus');
  assert.equal(typedError(() => quotientFromSituations(politique(), [mere, avis({ ...pereAvis, anneeRevenus: 2022 })])).code, 'annees_revenus_differentes');
  assert.equal(typedError(() => quotientFromSituations(politique(), [])).code, 'aucun_avis');
});

test('tricky case: separate taxation the year of a marriage is combined like two foyers', () => {
  const avant = avis({ situationFamille: 'C', rfr: 25_000, nbParts: 1, nbPac: 0 });
  const apres = avis({ situationFamille: 'C', rfr: 23_000, nbParts: 1, nbPac: 0 });
  assert.equal(quotientFromSituations(politique(), [avant, apres]).cents, 200_000); // 48 000 / 12 / 2
});

test('tricky case: alternating residence gives one QF per parent, children weighted by the policy', () => {
  const detail = (alternee: number) => ({
    enfantsResidenceExclusive: 0,
    dontInvalidesResidenceExclusive: 0,
    enfantsResidenceAlternee: alternee,
    dontInvalidesResidenceAlternee: 0,
    adultesRattaches: 0,
    autresInvalides: 0,
  });
  const parent1 = avis({ situationFamille: 'D', rfr: 36_000, nbParts: 1.5, nbPac: 2, detailPac: detail(2) });
  const parent2 = avis({ situationFamille: 'D', rfr: 18_000, nbParts: 1.5, nbPac: 2, detailPac: detail(2) });

  const parParts = quotientsResidenceAlternee(politique(), [parent1], [parent2]);
  assert.deepEqual(
    parParts.map((q) => q.cents),
    [200_000, 100_000],
  ); // the avis parts already count the quarter parts

  const personnes = politique({ formule: 'revenu-personnes', plusieursFoyers: 'somme-rfr-recompte-personnes' });
  const [q1, q2] = quotientsResidenceAlternee(personnes, [parent1], [parent2]); // 1 + 2 × 0.5 = 2 persons each
  assert.deepEqual([q1.cents, q2.cents], [150_000, 75_000]);
  assert.match(q1.explication, /dont 2 enfants en résidence alternée comptés pour 0,5/);

  const entiers = politique({ formule: 'revenu-personnes', plusieursFoyers: 'somme-rfr-recompte-personnes', residenceAlternee: { poidsEnfant: 1 } });
  assert.equal(quotientFromSituations(entiers, [parent1]).cents, 100_000); // 3 persons
});

test('tricky case: RFR 0 gives a QF of 0, not an error', () => {
  const qf = quotientFromSituations(politique(), [avis({ rfr: 0, nbParts: 2.5, nbPac: 1 })]);
  assert.equal(qf.cents, 0);
});

test('tricky case: a newborn added by an agent decision', () => {
  const naissance = { motif: 'naissance en 2024, livret de famille', enfants: 1, parts: 0.5 };
  const parParts = quotientFromSituations(politique(), [avis()], naissance); // 48 000 / 12 / 3.5
  assert.equal(parParts.cents, 114_285);
  assert.match(parParts.explication, /3,5 parts dont 0,5 part ajoutée par décision d’un agent \(naissance en 2024, livret de famille\)/);

  const personnes = politique({ formule: 'revenu-personnes', plusieursFoyers: 'somme-rfr-recompte-personnes' });
  const parPersonnes = quotientFromSituations(personnes, [avis()], { motif: 'naissance', enfants: 1 }); // 48 000 / 12 / 5
  assert.equal(parPersonnes.cents, 80_000);
  assert.match(parPersonnes.explication, /dont 1 enfant ajouté par décision d’un agent \(naissance\)/);

  assert.equal(typedError(() => quotientFromSituations(politique(), [avis()], { motif: 'naissance', enfants: 1 })).code, 'ajustement_parts_manquantes');
  assert.equal(typedError(() => quotientFromSituations(politique(), [avis()], { motif: '', enfants: -1 })).code, 'ajustement_invalide');
});

test('parts 0 and a negative RFR are refused with a typed error naming the field', () => {
  const parts = typedError(() => simulate(politique(), { rfr: 48_000, nbParts: 0 }));
  assert.equal(parts.code, 'simulation_invalide');
  assert.deepEqual(
    parts.details.map((d) => d.path),
    ['nbParts'],
  );
  const rfr = typedError(() => simulate(politique(), { rfr: -1, nbParts: 1 }));
  assert.deepEqual(
    rfr.details.map((d) => d.path),
    ['rfr'],
  );
  assert.equal(typedError(() => simulate(politique(), { rfr: 1000 })).code, 'parts_manquantes');
});

test('property: the QF is the exact integer computation, rounded down, for any RFR and parts', () => {
  const p = politique();
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100_000_000_000 }), fc.integer({ min: 1, max: 400 }), (rfr, quarters) => {
      const qf = simulate(p, { rfr, nbParts: quarters / 4 });
      // rfr × 100 cents ÷ 12 ÷ (quarters / 4), in integers only.
      const expected = (BigInt(rfr) * 100n * 4n) / (12n * BigInt(quarters));
      assert.equal(BigInt(qf.cents), expected);
      assert.ok(Number.isSafeInteger(qf.cents));
    }),
  );
});

test('property: the QF never decreases when the RFR grows', () => {
  const p = politique({ arrondi: { unite: 'euro', mode: 'plus-proche' } });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 40 }), (rfr, more, quarters) => {
      assert.ok(simulate(p, { rfr, nbParts: quarters / 4 }).cents <= simulate(p, { rfr: rfr + more, nbParts: quarters / 4 }).cents);
    }),
  );
});

test('property: any numbers, NaN and infinities included, give a finite QF or a typed error', () => {
  const number = fc.oneof(fc.double(), fc.integer({ min: -10, max: 1_000_000 }), fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, 0.25, 2.5));
  const policies = [
    politique(),
    politique({ formule: 'revenu-personnes', plusieursFoyers: 'refuser' }),
    politique({ formule: 'coefficients', plusieursFoyers: 'refuser', coefficients }),
  ];
  fc.assert(
    fc.property(fc.constantFrom(...policies), number, number, number, (p, rfr, nbParts, nbPersonnes) => {
      try {
        const qf = simulate(p, { rfr, nbParts, nbPersonnes, adultes: 1, enfants: 1 });
        assert.ok(Number.isSafeInteger(qf.cents) && qf.cents >= 0);
        assert.ok(Number.isFinite(qf.diviseur) && qf.diviseur > 0);
      } catch (error) {
        assert.ok(error instanceof QuotientError && error.kind === 'invalid', String(error));
      }
    }),
  );
});

test('the base of several avis keeps each RFR for the explanation', () => {
  const base = baseFromSituations(politique().quotient, [avis({ rfr: 1 }), avis({ rfr: 2 })]);
  assert.deepEqual(base.revenus, [1, 2]);
  assert.equal(base.parts, 6);
});
