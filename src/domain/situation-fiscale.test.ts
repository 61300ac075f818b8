import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuotientError } from './errors.ts';
import { createSituationFiscale, nbPersonnesFoyerFiscal, SITUATIONS_FAMILLE, type SituationFiscaleInput } from './situation-fiscale.ts';

/** CIS QUARANTESEPT of the DGFiP sandbox (married, 2.5 parts, one dependant, RFR 0). */
const couple: SituationFiscaleInput = {
  anneeRevenus: 2023,
  rfr: 0,
  nbParts: 2.5,
  situationFamille: 'M',
  nbPac: 1,
  declarants: [{ nomNaissance: 'CIS QUARANTESEPT', prenoms: 'PRENOM YVES', dateNaissance: '1967-11-12' }],
  adresse: '8 RUE JULIEN LACROIX 75020 PARIS',
  source: 'impot-particulier',
};

function invalidDetails(input: unknown): { path: string; message: string }[] {
  try {
    createSituationFiscale(input);
  } catch (error) {
    assert.ok(error instanceof QuotientError);
    assert.equal(error.kind, 'invalid');
    assert.equal(error.code, 'situation_fiscale_invalide');
    return [...error.details];
  }
  assert.fail('la situation aurait dû être refusée');
}

test('a sandbox avis becomes a situation with its household size and defaults made explicit', () => {
  const s = createSituationFiscale(couple);
  assert.equal(s.nbPersonnes, 3);
  assert.equal(s.detailPac, null);
  assert.equal(s.parentIsole, null);
  assert.equal(s.dateEtablissement, null);
  assert.deepEqual(s.declarants[0], { nomNaissance: 'CIS QUARANTESEPT', nomUsage: null, prenoms: 'PRENOM YVES', dateNaissance: '1967-11-12' });
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.declarants[0]));
});

test('a stored situation reads back identical; a tampered household size is recomputed', () => {
  const s = createSituationFiscale(couple);
  assert.deepEqual(createSituationFiscale(JSON.parse(JSON.stringify(s))), s);
  assert.equal(createSituationFiscale({ ...couple, nbPersonnes: 9 }).nbPersonnes, 3);
});

test('household size counts two declarants only for married or pacsed couples', () => {
  assert.deepEqual(
    SITUATIONS_FAMILLE.map((situationFamille) => nbPersonnesFoyerFiscal({ situationFamille, nbPac: 2 })),
    [4, 4, 3, 3, 3],
  );
});

test('an empty usage name or address from the source reads as absent', () => {
  const s = createSituationFiscale({
    ...couple,
    adresse: '  ',
    declarants: [{ nomNaissance: 'A', nomUsage: '', prenoms: 'B', dateNaissance: null }],
  });
  assert.equal(s.adresse, null);
  assert.equal(s.declarants[0]?.nomUsage, null);
});

test('each faulty field is named, in French', () => {
  const details = invalidDetails({
    ...couple,
    rfr: -5,
    nbParts: 2.3,
    situationFamille: 'X',
    declarants: [{ nomNaissance: 'A', prenoms: 'B', dateNaissance: '2023-02-29' }],
    spi: '3999999930262',
  });
  const byPath = new Map(details.map((d) => [d.path, d.message]));
  assert.match(byPath.get('rfr') ?? '', /ne peut pas être négatif/);
  assert.match(byPath.get('nbParts') ?? '', /multiple de 0,25/);
  assert.match(byPath.get('situationFamille') ?? '', /« M », « O », « C », « D », « V »/);
  assert.match(byPath.get('declarants[0].dateNaissance') ?? '', /AAAA-MM-JJ/);
  // An unexpected field (here a numéro fiscal) is refused rather than silently carried along.
  assert.match(byPath.get('spi') ?? '', /champ inconnu/);
});

test('parts 0, no declarant and three declarants are refused', () => {
  assert.ok(invalidDetails({ ...couple, nbParts: 0 }).some((d) => d.path === 'nbParts'));
  assert.ok(invalidDetails({ ...couple, declarants: [] }).some((d) => d.path === 'declarants'));
  const three = [0, 1, 2].map((i) => ({ nomNaissance: `N${i}`, prenoms: 'P', dateNaissance: null }));
  assert.ok(invalidDetails({ ...couple, declarants: three }).some((d) => d.path === 'declarants'));
});

test('the detail of persons at charge must add up to nbPac and its subsets stay within their totals', () => {
  const detail = {
    enfantsResidenceExclusive: 1,
    dontInvalidesResidenceExclusive: 2,
    enfantsResidenceAlternee: 1,
    dontInvalidesResidenceAlternee: 0,
    adultesRattaches: 0,
    autresInvalides: 0,
  };
  const paths = invalidDetails({ ...couple, detailPac: detail })
    .map((d) => d.path)
    .sort();
  assert.deepEqual(paths, ['detailPac', 'detailPac.dontInvalidesResidenceExclusive']);
  const ok = createSituationFiscale({ ...couple, nbPac: 2, detailPac: { ...detail, dontInvalidesResidenceExclusive: 1 } });
  assert.equal(ok.nbPersonnes, 4);
});

test('property: any valid avis is accepted and its household size is declarants plus dependants', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10_000_000 }),
      fc.integer({ min: 1, max: 40 }),
      fc.constantFrom(...SITUATIONS_FAMILLE),
      fc.integer({ min: 0, max: 12 }),
      (rfr, quarters, situationFamille, nbPac) => {
        const s = createSituationFiscale({ ...couple, rfr, nbParts: quarters / 4, situationFamille, nbPac });
        const declarants = situationFamille === 'M' || situationFamille === 'O' ? 2 : 1;
        assert.equal(s.nbPersonnes, declarants + nbPac);
        assert.equal(s.nbParts * 4, quarters);
      },
    ),
  );
});

test('property: non-finite, negative or fractional amounts are refused with a typed error, never accepted', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.double({ noDefaultInfinity: false, noNaN: false }).filter((x) => !(Number.isInteger(x) && x >= 0)),
        fc.constant(Number.NaN),
      ),
      (rfr) => {
        assert.ok(invalidDetails({ ...couple, rfr }).some((d) => d.path === 'rfr'));
      },
    ),
  );
});
