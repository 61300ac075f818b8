import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuotientError } from './errors.ts';
import { eurosToCents } from './money.ts';
import { parsePolitiqueTarifaire, type GrilleTauxEffort, type GrilleTranches, type PolitiqueTarifaire } from './politique-tarifaire.ts';
import { baseFromSimulation, computeQuotientFamilial } from './quotient-familial.ts';
import { gridPrice, highestPrice, priceActivite, priceActivites, trancheContains } from './tarification.ts';
import { politiqueInput } from './test-support.ts';

const politique = (): PolitiqueTarifaire => parsePolitiqueTarifaire(politiqueInput());

function activite(p: PolitiqueTarifaire, id: string) {
  const a = p.activites.find((x) => x.id === id);
  assert.ok(a);
  return a;
}

const qf = (euros: number) => ({ cents: eurosToCents(euros) ?? Number.NaN });

test('the Boulogne example: QF 1 333,33 € → canteen 4,80 €; non-resident 8,05 € whatever the QF', () => {
  const p = politique();
  const quotient = computeQuotientFamilial(p.quotient, baseFromSimulation({ rfr: 48_000, nbParts: 3 }));
  const [cantine] = priceActivites(p, { quotient, resident: true });
  assert.equal(cantine?.cents, 480);
  assert.equal(cantine?.origine, 'grille');
  assert.equal(cantine?.tranche, null);
  assert.equal(
    cantine?.explication,
    'Taux d’effort : 0,36 % × 1\u00a0333,33\u00a0€ = 4,80\u00a0€ (entre le plancher de 0,50\u00a0€ et le plafond de 7,20\u00a0€).',
  );

  for (const quotientAutre of [quotient, qf(0), qf(5000), null]) {
    const hc = priceActivite(p, activite(p, 'restauration'), { quotient: quotientAutre, resident: false });
    assert.equal(hc.cents, 805);
    assert.equal(hc.origine, 'non-resident');
  }
});

test('floor and ceiling of the taux d’effort, with the reason in the explanation', () => {
  const p = politique();
  const low = priceActivite(p, activite(p, 'restauration'), { quotient: qf(100), resident: true });
  assert.equal(low.cents, 50);
  assert.match(low.explication, /0,36\u00a0€, porté au tarif plancher de 0,50\u00a0€/);
  const high = priceActivite(p, activite(p, 'restauration'), { quotient: qf(3000), resident: true });
  assert.equal(high.cents, 720);
  assert.match(high.explication, /10,80\u00a0€, ramené au tarif plafond de 7,20\u00a0€/);
});

test('tricky case: RFR 0 pays the floor of a taux d’effort and the first bracket', () => {
  const p = politique();
  const quotient = computeQuotientFamilial(p.quotient, baseFromSimulation({ rfr: 0, nbParts: 1 }));
  const [cantine, soir] = priceActivites(p, { quotient, resident: true });
  assert.equal(cantine?.cents, 50);
  assert.equal(soir?.cents, 1185);
  assert.equal(soir?.tranche, 'A');
});

test('without QF the highest price applies, unless the policy fixes one', () => {
  const p = politique();
  assert.deepEqual(
    priceActivites(p, { quotient: null, resident: true }).map((x) => [x.cents, x.origine]),
    [
      [720, 'sans-quotient'],
      [2046, 'sans-quotient'],
    ],
  );
  const input = politiqueInput();
  input.activites[0]!.prixSansQuotient = 6;
  const fixed = parsePolitiqueTarifaire(input);
  const price = priceActivite(fixed, activite(fixed, 'restauration'), { quotient: null, resident: true });
  assert.equal(price.cents, 600);
  assert.match(price.explication, /tarif fixé dans ce cas/);
});

test('non-residents without a flat price follow the grid, and are told so', () => {
  const p = politique();
  const price = priceActivite(p, activite(p, 'accueil-soir'), { quotient: qf(150), resident: false });
  assert.equal(price.cents, 1616);
  assert.match(price.explication, /Aucun tarif particulier.*la grille s’applique/);
});

test('brackets: lower bound included by default; upper bound included when the policy says so', () => {
  const p = politique();
  const grid = activite(p, 'accueil-soir').grille as GrilleTranches;
  assert.equal(gridPrice(grid, 9_999, 'plus-proche').tranche?.code, 'A');
  assert.equal(gridPrice(grid, 10_000, 'plus-proche').tranche?.code, 'B');
  assert.equal(gridPrice(grid, 30_000, 'plus-proche').tranche?.code, 'C');
  const upper: GrilleTranches = { ...grid, borneIncluse: 'max' };
  assert.equal(gridPrice(upper, 0, 'plus-proche').tranche?.code, 'A');
  assert.equal(gridPrice(upper, 10_000, 'plus-proche').tranche?.code, 'A');
  assert.equal(gridPrice(upper, 10_001, 'plus-proche').tranche?.code, 'B');
  assert.equal(gridPrice(upper, 30_001, 'plus-proche').tranche?.code, 'C');
  const explained = priceActivite(p, activite(p, 'accueil-soir'), { quotient: qf(150), resident: true });
  assert.equal(explained.explication, 'Tranche B (quotient de 100\u00a0€ à moins de 300\u00a0€) : 16,16\u00a0€.');
});

test('child-rank reductions apply from their rank on, to grid and default prices, not to the non-resident price', () => {
  const input = politiqueInput();
  input.activites[0]!.reductionsRang = [
    { rang: 2, pourcentage: 10 },
    { rang: 3, pourcentage: 50 },
  ];
  const p = parsePolitiqueTarifaire(input);
  const a = activite(p, 'restauration');
  const price = (rangEnfant: number, resident = true, quotient: { cents: number } | null = qf(1333.33)) =>
    priceActivite(p, a, { quotient, resident, rangEnfant });
  assert.deepEqual(
    [1, 2, 3, 4].map((r) => price(r).cents),
    [480, 432, 240, 240],
  );
  assert.equal(price(3).reduction, 50);
  assert.match(price(3).explication, /Réduction de 50 % à partir du 3e enfant : 2,40\u00a0€/);
  assert.equal(price(3, true, null).cents, 360);
  assert.equal(price(3, false).cents, 805);
  assert.throws(
    () => price(0),
    (e) => e instanceof QuotientError && e.code === 'rang_invalide',
  );
});

test('a negative or non-integer QF is refused with a typed error', () => {
  const grid = activite(politique(), 'restauration').grille;
  for (const cents of [-1, 1.5, Number.NaN]) {
    assert.throws(
      () => gridPrice(grid, cents, 'plus-proche'),
      (e) => e instanceof QuotientError && e.kind === 'invalid',
    );
  }
});

const tauxEffortGrid = fc
  .record({
    taux: fc.integer({ min: 1, max: 100_000 }).map((k) => k / 10_000), // 0.0001 % to 10 %
    plancher: fc.integer({ min: 0, max: 5_000 }),
    ecart: fc.integer({ min: 0, max: 5_000 }),
  })
  .map(({ taux, plancher, ecart }): GrilleTauxEffort => ({ type: 'taux-effort', taux, plancher: plancher / 100, plafond: (plancher + ecart) / 100 }));

const qfCents = fc.integer({ min: 0, max: 100_000_000 });
const arrondi = fc.constantFrom('inferieur', 'superieur', 'plus-proche' as const);

test('property: a taux d’effort price stays between floor and ceiling, in whole cents', () => {
  fc.assert(
    fc.property(tauxEffortGrid, qfCents, arrondi, (grid, qf, mode) => {
      const { cents } = gridPrice(grid, qf, mode);
      assert.ok(Number.isSafeInteger(cents));
      assert.ok(cents >= eurosToCents(grid.plancher)! && cents <= eurosToCents(grid.plafond)!);
    }),
  );
});

test('property: cents never drift, the price is the integer computation of QF × rate', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100_000 }), qfCents, (k, qf) => {
      const grid: GrilleTauxEffort = { type: 'taux-effort', taux: k / 10_000, plancher: 0, plafond: 1_000_000 };
      // qf × (k / 10 000) % = qf × k / 1 000 000, rounded down in integers.
      assert.equal(BigInt(gridPrice(grid, qf, 'inferieur').cents), (BigInt(qf) * BigInt(k)) / 1_000_000n);
    }),
  );
});

const nonDecreasingBrackets = fc
  .uniqueArray(fc.integer({ min: 1, max: 500_000 }), { minLength: 0, maxLength: 11 })
  .chain((bounds) =>
    fc
      .array(fc.integer({ min: 0, max: 2_000 }), { minLength: bounds.length + 1, maxLength: bounds.length + 1 })
      .map((steps) => ({ bounds: [...bounds].sort((a, b) => a - b), steps })),
  )
  .chain(({ bounds, steps }) =>
    fc.constantFrom('min' as const, 'max' as const).map((borneIncluse): GrilleTranches => {
      const edges = [0, ...bounds];
      let price = 0;
      const tranches = edges.map((min, i) => {
        price += steps[i]!;
        const max = edges[i + 1];
        return { code: String(i + 1), min: min / 100, ...(max === undefined ? {} : { max: max / 100 }), prix: price / 100 };
      });
      return { type: 'tranches', borneIncluse, derniereTranche: 'ouverte', tranches };
    }),
  );

test('property: with a non-decreasing grid, the price never decreases when the QF grows', () => {
  fc.assert(
    fc.property(
      fc.oneof(nonDecreasingBrackets, tauxEffortGrid),
      fc.integer({ min: 0, max: 600_000 }),
      fc.integer({ min: 0, max: 100_000 }),
      arrondi,
      (grid, qf, more, mode) => {
        assert.ok(gridPrice(grid, qf, mode).cents <= gridPrice(grid, qf + more, mode).cents);
      },
    ),
  );
});

/** A grid and a QF that is often a bound, a cent below or a cent above it. */
const gridAndQf = nonDecreasingBrackets.chain((grid) => {
  const bounds = grid.tranches.flatMap((t) => [t.min, t.max ?? t.min]).map((e) => eurosToCents(e)!);
  const nearBound = fc.tuple(fc.constantFrom(...bounds), fc.integer({ min: -1, max: 1 })).map(([b, d]) => Math.max(0, b + d));
  return fc.tuple(fc.constant(grid), fc.oneof(nearBound, qfCents));
});

test('property: every QF falls in exactly one bracket, and the highest price is the default', () => {
  fc.assert(
    fc.property(gridAndQf, ([grid, qf]) => {
      const holders = grid.tranches.filter((_, i) => trancheContains(grid, i, qf));
      assert.equal(holders.length, 1);
      const { tranche, cents } = gridPrice(grid, qf, 'plus-proche');
      assert.equal(tranche, holders[0]);
      assert.ok(cents <= highestPrice(grid));
    }),
  );
});
