import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isQuotientError } from './errors.ts';
import { libelleMoisReference, normaliserQuotientCaf } from './quotient-caf.ts';

/** The v3 body of the official file's examples (the MSA family). */
const exemple = () => ({
  data: {
    allocataires: [{ nom_naissance: 'JACQUES', nom_usage: 'DUPONT', prenoms: 'JEAN-PIERRE THOMAS', date_naissance: '2000-01-20', sexe: 'M' }],
    enfants: [{ nom_naissance: 'DUPONT', nom_usage: null, prenoms: 'JEAN-PIERRE THOMAS JUNIOR', date_naissance: '2000-01-20', sexe: 'M' }],
    adresse: {
      destinataire: 'Monsieur JEAN JACQUES',
      complement_information: null,
      complement_information_geographique: null,
      numero_libelle_voie: '1 RUE DE LA GARE',
      lieu_dit: null,
      code_postal_ville: '75002',
      pays: 'FRANCE',
    },
    quotient_familial: { fournisseur: 'MSA', valeur: 1045, annee: 2023, mois: 6, annee_calcul: 2023, mois_calcul: 9 },
  },
  links: {},
  meta: {},
});

test('the example of the official file: value, caisse, month of reference, people; the address and the computation month are dropped', () => {
  const q = normaliserQuotientCaf(exemple());
  assert.deepEqual(q, {
    fournisseur: 'MSA',
    valeurEuros: 1045,
    moisReference: '2023-06',
    allocataires: [{ nomNaissance: 'JACQUES', nomUsage: 'DUPONT', prenoms: 'JEAN-PIERRE THOMAS', dateNaissance: '2000-01-20' }],
    enfants: [{ prenoms: 'JEAN-PIERRE THOMAS JUNIOR', dateNaissance: '2000-01-20' }],
  });
  assert.doesNotMatch(JSON.stringify(q), /GARE|75002|Monsieur|mois_calcul|sexe/);
  assert.equal(libelleMoisReference(q.moisReference), 'juin 2023');
});

test('a malformed answer is a typed upstream error naming the member, not its value', () => {
  const body = exemple();
  (body.data.quotient_familial as Record<string, unknown>).valeur = 'mille';
  try {
    normaliserQuotientCaf(body);
    assert.fail('refused expected');
  } catch (error) {
    assert.ok(isQuotientError(error));
    assert.equal(error.kind, 'upstream');
    assert.match(error.message, /data\.quotient_familial\.valeur/);
    assert.doesNotMatch(error.message, /mille/);
  }
  assert.throws(() => normaliserQuotientCaf({ ...exemple(), data: { ...exemple().data, allocataires: [] } }), { code: 'reponse_caf_invalide' });
});

const personne = fc.record({
  nom_naissance: fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== ''),
  nom_usage: fc.option(fc.string({ maxLength: 30 })),
  prenoms: fc.string({ maxLength: 40 }),
  date_naissance: fc.oneof(fc.constant('1984-02-29'), fc.constant('1985-02-29'), fc.string({ maxLength: 12 })),
  sexe: fc.constantFrom('M', 'F'),
});
const corps = fc.record({
  data: fc.record({
    allocataires: fc.array(personne, { minLength: 1, maxLength: 3 }),
    enfants: fc.array(personne, { maxLength: 6 }),
    adresse: fc.record({ destinataire: fc.string(), code_postal_ville: fc.string() }),
    quotient_familial: fc.record({
      fournisseur: fc.constantFrom('CNAF', 'MSA'),
      valeur: fc.integer({ min: 0, max: 100_000 }),
      annee: fc.integer({ min: 2000, max: 2100 }),
      mois: fc.integer({ min: 1, max: 12 }),
      annee_calcul: fc.integer(),
      mois_calcul: fc.integer(),
    }),
  }),
  links: fc.constant({}),
  meta: fc.constant({}),
});

test('property: every well-formed answer keeps its value and people, and nothing beyond the minimised fields', () => {
  fc.assert(
    fc.property(corps, (body) => {
      const q = normaliserQuotientCaf(body);
      assert.equal(q.valeurEuros, body.data.quotient_familial.valeur);
      assert.equal(q.fournisseur, body.data.quotient_familial.fournisseur);
      assert.match(q.moisReference, /^\d{4}-(0[1-9]|1[0-2])$/);
      assert.equal(q.allocataires.length, body.data.allocataires.length);
      assert.equal(q.enfants.length, body.data.enfants.length);
      assert.deepEqual(Object.keys(q).sort(), ['allocataires', 'enfants', 'fournisseur', 'moisReference', 'valeurEuros']);
      for (const a of q.allocataires) assert.deepEqual(Object.keys(a).sort(), ['dateNaissance', 'nomNaissance', 'nomUsage', 'prenoms']);
      for (const e of q.enfants) assert.deepEqual(Object.keys(e).sort(), ['dateNaissance', 'prenoms']);
      // A date is kept only when it is a real calendar date; an empty usage name is no usage name.
      for (const a of [...q.allocataires, ...q.enfants]) assert.ok(a.dateNaissance === null || /^\d{4}-\d{2}-\d{2}$/.test(a.dateNaissance));
      for (const a of q.allocataires) assert.notEqual(a.nomUsage, '');
    }),
  );
});

test('property: whatever the body, the normaliser answers a QuotientCaf or a typed error, never anything else', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue(),
        corps.map((b) => ({ ...b, data: { ...b.data, quotient_familial: { ...b.data.quotient_familial, valeur: -1 } } })),
      ),
      (body) => {
        try {
          const q = normaliserQuotientCaf(body);
          assert.ok(Number.isInteger(q.valeurEuros) && q.valeurEuros >= 0);
        } catch (error) {
          assert.ok(isQuotientError(error) && error.code === 'reponse_caf_invalide', String(error));
        }
      },
    ),
  );
});
