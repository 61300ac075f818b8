import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { choisirQuotient, SOURCES_QUOTIENT, type SourceQuotient } from './choix-quotient.ts';
import { QuotientError } from './errors.ts';
import { parsePolitiqueTarifaire } from './politique-tarifaire.ts';
import type { QuotientCaf } from './quotient-caf.ts';
import { politiqueInput, withChanges } from './test-support.ts';

const caf = (valeurEuros: number, fournisseur: 'CNAF' | 'MSA' = 'CNAF'): QuotientCaf => ({
  fournisseur,
  valeurEuros,
  moisReference: '2026-10',
  allocataires: [{ nomNaissance: 'BERTIN', nomUsage: null, prenoms: 'PAUL HENRI', dateNaissance: '1981-04-09' }],
  enfants: [],
});

test('fiscal: the avis’s QF even when the CAF’s is lower; none without an avis', () => {
  const r = choisirQuotient('fiscal', { fiscalCents: 145_389, caf: caf(812) });
  assert.equal(r?.origine, 'fiscal');
  assert.equal(r?.cents, 145_389);
  assert.equal(r?.cafCents, 81_200, 'the instructor still sees the CAF’s value');
  assert.equal(choisirQuotient('fiscal', { fiscalCents: null, caf: caf(812) }), null);
});

test('caf: the caisse’s QF, named with its month; none for a family the caisses do not know', () => {
  const r = choisirQuotient('caf', { fiscalCents: 50_000, caf: caf(1045, 'MSA') });
  assert.equal(r?.origine, 'caf');
  assert.equal(r?.cents, 104_500);
  assert.match(r?.raison ?? '', /la MSA \(octobre 2026\)/);
  assert.equal(choisirQuotient('caf', { fiscalCents: 50_000, caf: null }), null);
});

test('le-plus-favorable: the lower QF, the reason quoting both; equal values keep the avis’s', () => {
  const lower = choisirQuotient('le-plus-favorable', { fiscalCents: 145_389, caf: caf(812) });
  assert.equal(lower?.origine, 'caf');
  assert.match(lower?.raison ?? '', /^Le quotient de la CAF est le plus favorable.*812,00\s€.*1\s453,89\s€/);
  assert.equal(lower?.motif, 'Le quotient de la CAF est le plus favorable des deux : il est retenu.', 'what third parties read names no value');
  assert.equal(choisirQuotient('le-plus-favorable', { fiscalCents: 60_000, caf: caf(812) })?.origine, 'fiscal');
  const tie = choisirQuotient('le-plus-favorable', { fiscalCents: 81_200, caf: caf(812) });
  assert.equal(tie?.origine, 'fiscal');
  assert.match(tie?.raison ?? '', /égaux/);
  assert.doesNotMatch(tie?.motif ?? '', /€|812/);
  assert.equal(choisirQuotient('le-plus-favorable', { fiscalCents: null, caf: caf(812) })?.origine, 'caf');
  assert.equal(choisirQuotient('le-plus-favorable', { fiscalCents: 1, caf: null })?.origine, 'fiscal');
});

test('caf-sinon-fiscal: an allocataire is priced on the caisse’s QF even when higher, others on the avis', () => {
  assert.equal(choisirQuotient('caf-sinon-fiscal', { fiscalCents: 10_000, caf: caf(812) })?.origine, 'caf');
  const r = choisirQuotient('caf-sinon-fiscal', { fiscalCents: 10_000, caf: null });
  assert.equal(r?.origine, 'fiscal');
  assert.match(r?.raison ?? '', /Aucun quotient de la CAF/);
});

test('property: the QF retained is one of those given, never lower than the minimum of both, and only null when the source has nothing', () => {
  const opt = fc.option(fc.integer({ min: 0, max: 10_000_000 }));
  fc.assert(
    fc.property(fc.constantFrom(...SOURCES_QUOTIENT), opt, fc.option(fc.integer({ min: 0, max: 100_000 })), (source: SourceQuotient, fiscalCents, euros) => {
      const c = { fiscalCents, caf: euros === null ? null : caf(euros) };
      const r = choisirQuotient(source, c);
      const values = [fiscalCents, euros === null ? null : euros * 100].filter((v) => v !== null);
      const needs = { fiscal: fiscalCents !== null, caf: euros !== null };
      const expectNull = source === 'fiscal' ? !needs.fiscal : source === 'caf' ? !needs.caf : !needs.fiscal && !needs.caf;
      assert.equal(r === null, expectNull);
      if (r) {
        assert.ok(values.includes(r.cents));
        assert.ok(r.raison.length > 20);
        assert.doesNotMatch(r.motif, /€/, 'the value-free reason quotes no amount');
        if (source === 'le-plus-favorable') assert.equal(r.cents, Math.min(...values));
      }
    }),
  );
});

test('the policy names its source; default fiscal; a CAF source needs a monthly QF', () => {
  assert.equal(parsePolitiqueTarifaire(politiqueInput()).quotient.source, 'fiscal');
  const choix = parsePolitiqueTarifaire(withChanges(politiqueInput(), { quotient: { source: 'le-plus-favorable' } }));
  assert.equal(choix.quotient.source, 'le-plus-favorable');
  assert.throws(
    () => parsePolitiqueTarifaire(withChanges(politiqueInput(), { quotient: { source: 'caf', periode: 'annuelle' } })),
    (error: unknown) => error instanceof QuotientError && error.details.some((d) => d.path === 'quotient.periode' && /mensuel/.test(d.message)),
  );
  assert.throws(
    () => parsePolitiqueTarifaire(withChanges(politiqueInput(), { quotient: { source: 'msa' as never } })),
    (error: unknown) => error instanceof QuotientError && error.details.some((d) => d.path === 'quotient.source' && /le-plus-favorable/.test(d.message)),
  );
});
