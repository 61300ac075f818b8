import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { renderToString } from 'preact-render-to-string';
import { addDays, formatDateCourte } from '../../domain/dates.ts';
import { lireFormulaire } from '../../http/formulaire.ts';
import { ChampsComposition, ENFANTS_MAX, champDeLaComposition, schemaComposition, valeursDeLaComposition, type Espace } from './formulaire-composition.tsx';

const AUJOURDHUI = '2026-03-15';
const ESPACES: readonly Espace[] = ['famille', 'agents'];
const lire = (espace: Espace, body: Record<string, unknown>) => lireFormulaire(schemaComposition(espace, AUJOURDHUI), body);
const messages = (espace: Espace, body: Record<string, unknown>) => {
  const lecture = lire(espace, body);
  return lecture.ok ? [] : lecture.errors.map((e) => `${e.path} : ${e.message}`);
};

const BERTIN = {
  'parent1-prenoms': 'Paul',
  'parent1-nomNaissance': 'Bertin',
  'parent1-dateNaissance': '09/04/1981',
  'parent2-prenoms': 'Claire',
  'parent2-nomNaissance': 'Roussel',
  'parent2-nomUsage': 'Bertin',
  'parent2-dateNaissance': '1983-12-01',
  'parent2-foyer': 'ailleurs',
  'enfant1-prenoms': 'Léa',
  'enfant1-nom': 'Bertin',
  'enfant1-dateNaissance': '02/05/2016',
  'enfant1-residence': 'alternee',
};

test('the household read the same way at the portal and at the counter: parents, who lives elsewhere, children and their residence', () => {
  for (const espace of ESPACES) {
    assert.deepEqual(lire(espace, BERTIN), {
      ok: true,
      values: {
        parents: [
          { prenoms: 'Paul', nomNaissance: 'Bertin', nomUsage: null, dateNaissance: '1981-04-09' },
          { prenoms: 'Claire', nomNaissance: 'Roussel', nomUsage: 'Bertin', dateNaissance: '1983-12-01', cohabite: false },
        ],
        enfants: [{ prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02', residence: 'alternee' }],
      },
    });
  }
});

test('one set of rules: no digit in a name, a birth date from 1900 to today, wherever the form is filled in', () => {
  for (const espace of ESPACES) {
    assert.deepEqual(messages(espace, { ...BERTIN, 'parent1-nomNaissance': 'B3rtin' }), [
      'parent1-nomNaissance : Un nom ou un prénom ne contient pas de chiffres : vérifiez le nom de naissance du premier parent.',
    ]);
    assert.deepEqual(messages(espace, { ...BERTIN, 'enfant1-prenoms': 'Léa2' }), [
      'enfant1-prenoms : Un nom ou un prénom ne contient pas de chiffres : vérifiez les prénoms de l’enfant 1.',
    ]);
    assert.deepEqual(messages(espace, { ...BERTIN, 'parent2-nomUsage': 'x'.repeat(101) }), [
      'parent2-nomUsage : Vérifiez le nom d’usage du second parent : 100 caractères au plus.',
    ]);
    assert.deepEqual(messages(espace, { ...BERTIN, 'parent1-dateNaissance': '31/12/1899' }), [
      'parent1-dateNaissance : La date de naissance du premier parent est antérieure à 1900 : vérifiez l’année, au format JJ/MM/AAAA.',
    ]);
    for (const date of [formatDateCourte(addDays(AUJOURDHUI, 1)), '31/02/2020', 'hier']) {
      assert.deepEqual(
        messages(espace, { ...BERTIN, 'enfant1-dateNaissance': date }),
        ['enfant1-dateNaissance : La date de naissance de l’enfant 1 doit être une date passée au format JJ/MM/AAAA, par exemple 09/04/1981.'],
        date,
      );
    }
    assert.equal(lire(espace, { ...BERTIN, 'enfant1-dateNaissance': formatDateCourte(AUJOURDHUI) }).ok, true, 'born today');
  }
});

test('whoever is meant to be there is asked for: the second parent who lives elsewhere, a child in alternating residence', () => {
  for (const espace of ESPACES) {
    const errors = messages(espace, {
      'parent1-prenoms': 'Paul',
      'parent1-nomNaissance': 'Bertin',
      'parent1-dateNaissance': '09/04/1981',
      'parent2-foyer': 'ailleurs',
      'enfant3-residence': 'alternee',
      'enfant2-residence': 'moitie',
    });
    assert.deepEqual(errors, [
      'parent2-prenoms : Indiquez les prénoms du second parent, qui vit ailleurs.',
      'parent2-nomNaissance : Indiquez le nom de naissance du second parent, qui vit ailleurs.',
      ...(espace === 'agents' ? ['parent2-dateNaissance : Indiquez la date de naissance du second parent, au format JJ/MM/AAAA.'] : []),
      'enfant2-residence-exclusive : Indiquez où vit l’enfant 2.',
      'enfant3-prenoms : Indiquez les prénoms de l’enfant 3, en résidence alternée.',
      `enfant3-nom : Indiquez ${espace === 'famille' ? 'le nom de naissance' : 'le nom'} de l’enfant 3, en résidence alternée.`,
    ]);
  }
});

test('the counter asks for the parents’ birth dates, the family may leave them out; the words follow who reads', () => {
  const sansDate = { 'parent1-prenoms': 'Paul', 'parent1-nomNaissance': 'Bertin' };
  assert.equal(lire('famille', sansDate).ok, true);
  assert.deepEqual(messages('agents', sansDate), ['parent1-dateNaissance : Indiquez la date de naissance du premier parent, au format JJ/MM/AAAA.']);
  assert.deepEqual(messages('famille', { ...sansDate, 'parent2-foyer': 'peut-etre' }), ['parent2-foyer-oui : Indiquez si le second parent vit avec vous.']);
  assert.deepEqual(messages('agents', { ...sansDate, 'parent1-dateNaissance': '09/04/1981', 'parent2-foyer': 'peut-etre' }), [
    'parent2-foyer-oui : Indiquez si le second parent vit dans le foyer.',
  ]);
  assert.deepEqual(messages('famille', {}), [
    'parent1-prenoms : Indiquez les prénoms du premier parent.',
    'parent1-nomNaissance : Indiquez le nom de naissance du premier parent.',
  ]);
});

test('a numéro fiscal typed in a field of the household is refused there, once, and counts as something typed', () => {
  const spi = '30 12 345 678 901';
  for (const espace of ESPACES) {
    const errors = messages(espace, { ...BERTIN, 'enfant2-prenoms': spi });
    assert.deepEqual(
      errors.filter((e) => e.startsWith('enfant2-prenoms')),
      [
        'enfant2-prenoms : Ce champ semble contenir un numéro fiscal : retirez-le. Le numéro fiscal se saisit seulement à l’étape « Numéro fiscal » de la demande, et n’est jamais enregistré.',
      ],
    );
    assert.ok(
      errors.includes('enfant2-nom : Indiquez ' + (espace === 'famille' ? 'le nom de naissance' : 'le nom') + ' de l’enfant 2.'),
      'the child is meant to be there',
    );
  }
});

test('the household recorded, shown in the form and read again, is the same household (property)', () => {
  const nom = fc.string({ unit: fc.constantFrom(...'abcéèçñ -’'), minLength: 1, maxLength: 20 }).map((s) => `L${s}`.trim());
  const date = fc.option(
    fc
      .integer({ min: 0, max: 40_000 })
      .map((n) => addDays('1910-01-01', n))
      .filter((d) => d <= AUJOURDHUI),
    { nil: null },
  );
  const parent = fc.record({ prenoms: nom, nomNaissance: nom, nomUsage: fc.option(nom, { nil: null }), dateNaissance: date });
  const enfant = fc.record({ prenoms: nom, nom, dateNaissance: date, residence: fc.constantFrom('exclusive' as const, 'alternee' as const) });
  fc.assert(
    fc.property(parent, fc.option(fc.tuple(parent, fc.boolean()), { nil: null }), fc.array(enfant, { maxLength: ENFANTS_MAX }), (p1, p2, enfants) => {
      const composition = {
        reference: 'F-AAAA-BBBB',
        resident: true,
        courriel: null,
        aCompleter: false,
        parents: [{ rang: 1 as const, ...p1, cohabite: true }, ...(p2 ? [{ rang: 2 as const, ...p2[0], cohabite: p2[1] }] : [])],
        enfants,
      };
      const lecture = lire('famille', valeursDeLaComposition(composition));
      assert.ok(lecture.ok, JSON.stringify(!lecture.ok && lecture.errors));
      assert.deepEqual(lecture.values.parents, [{ ...p1 }, ...(p2 ? [{ ...p2[0], cohabite: p2[1] }] : [])]);
      assert.deepEqual(
        lecture.values.enfants,
        enfants.map((e) => ({ ...e })),
      );
    }),
    { numRuns: 200 },
  );
});

test('any body: the household reader never throws, and each error names a field or radio button of the form (property)', () => {
  const ids = new Set<string>();
  for (const espace of ESPACES)
    for (const [, id] of renderToString(<ChampsComposition espace={espace} values={{}} errors={[]} />).matchAll(/ id="([^"]+)"/g)) ids.add(id as string);
  const nom = fc.constantFrom(...ids, 'parent2-foyer', 'enfant1-residence', '__proto__', 'resident');
  const valeur = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('ailleurs', 'alternee', '3012345678901', '01/01/1899', '31/12/2999', '1981-04-09', 'B3rtin', ''),
    fc.array(fc.string({ maxLength: 4 })),
  );
  fc.assert(
    fc.property(fc.dictionary(nom, valeur, { maxKeys: 20 }), fc.constantFrom(...ESPACES), (body, espace) => {
      const lecture = lire(espace, body);
      if (!lecture.ok) for (const e of lecture.errors) assert.ok(ids.has(e.path), e.path);
    }),
    { numRuns: 500 },
  );
});

test('a families service’s error path is the form’s field', () => {
  assert.deepEqual(champDeLaComposition({ path: 'parents[1].nomUsage', message: 'trop long' }), { path: 'parent2-nomUsage', message: 'trop long' });
  assert.deepEqual(champDeLaComposition({ path: 'enfants[0].nom', message: 'obligatoire' }), { path: 'enfant1-nom', message: 'obligatoire' });
  assert.deepEqual(champDeLaComposition({ path: 'courriel', message: 'adresse électronique invalide' }), {
    path: 'courriel',
    message: 'adresse électronique invalide',
  });
  assert.deepEqual(champDeLaComposition({ path: 'resident', message: 'vrai ou faux' }), { path: '', message: 'vrai ou faux' });
});
