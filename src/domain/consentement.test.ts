import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  champsNonCouverts,
  consentementCouvre,
  exigerConsentement,
  listeEnFrancais,
  parseConsentement,
  type Consentement,
  type ConsentementInput,
} from './consentement.ts';
import { QuotientError } from './errors.ts';

/** Some fields of an habilitation with their labels, as the commune configuration gives them. */
const LIBELLES: Record<string, string> = {
  rfr: 'le revenu fiscal de référence',
  nbPart: 'le nombre de parts',
  sitFam: 'la situation de famille',
  'pac.nbPac': 'le nombre de personnes à charge',
  nmNaiDec1: 'le nom de naissance du premier déclarant',
  prnmDec1: 'les prénoms du premier déclarant',
  dateNaisDec1: 'la date de naissance du premier déclarant',
  aft: 'l’adresse fiscale au 1er janvier',
};
const CHAMPS = Object.keys(LIBELLES);

const enLigne: ConsentementInput = {
  declarant: 'titulaire',
  donnePar: { type: 'famille', id: 'famille-42' },
  mode: 'en_ligne',
  recueilliLe: '2025-09-02T08:15:00Z',
  versionTexte: '2025-06',
  donnees: ['rfr', 'nbPart', 'sitFam', 'pac.nbPac'],
  finalite: 'Calcul du quotient familial pour les tarifs des activités municipales',
};

const auGuichet: ConsentementInput = {
  ...enLigne,
  declarant: 'autre_parent',
  donnePar: { type: 'agent', id: 'agent-7' },
  mode: 'formulaire_signe',
  piece: 'Formulaire signé du 12/09/2025, remis au guichet',
  recueilliLe: '2025-09-12T14:03:00+02:00',
};

const parse = (input: unknown) => parseConsentement(input, { libelles: LIBELLES });

function invalidDetails(input: unknown, options = { libelles: LIBELLES }): { path: string; message: string }[] {
  try {
    parseConsentement(input, options);
  } catch (error) {
    assert.ok(error instanceof QuotientError);
    assert.equal(error.kind, 'invalid');
    assert.equal(error.code, 'consentement_invalide');
    assert.equal(error.message, 'Le consentement est incomplet ou incohérent.');
    return [...error.details];
  }
  assert.fail('le consentement aurait dû être refusé');
}

function refus(fn: () => unknown): QuotientError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof QuotientError, String(error));
    return error;
  }
  assert.fail('l’appel aurait dû être refusé');
}

test('an online consent records who, when, how, the text version, the data with their labels and the purpose', () => {
  const c = parse(enLigne);
  assert.deepEqual(c, {
    declarant: 'titulaire',
    donnePar: { type: 'famille', id: 'famille-42' },
    mode: 'en_ligne',
    piece: null,
    recueilliLe: '2025-09-02T08:15:00Z',
    versionTexte: '2025-06',
    donnees: [
      { champ: 'rfr', libelle: 'le revenu fiscal de référence' },
      { champ: 'nbPart', libelle: 'le nombre de parts' },
      { champ: 'sitFam', libelle: 'la situation de famille' },
      { champ: 'pac.nbPac', libelle: 'le nombre de personnes à charge' },
    ],
    finalite: 'Calcul du quotient familial pour les tarifs des activités municipales',
    retireLe: null,
  });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.donnees) && Object.isFrozen(c.donnees[0]) && Object.isFrozen(c.donnePar));
});

test('a consent at the counter is recorded by an agent on the basis of a described signed form or e-mail', () => {
  const c = parse(auGuichet);
  assert.equal(c.mode, 'formulaire_signe');
  assert.equal(c.piece, 'Formulaire signé du 12/09/2025, remis au guichet');
  assert.equal(parse({ ...auGuichet, mode: 'courriel', piece: 'Courriel du 10/09/2025 de la mère' }).mode, 'courriel');
  // The label shown is kept as shown, even when the catalogue says it differently.
  const propre = parse({ ...enLigne, donnees: [{ champ: 'rfr', libelle: 'votre revenu fiscal de référence 2024' }] });
  assert.equal(propre.donnees[0]?.libelle, 'votre revenu fiscal de référence 2024');
});

test('inconsistent consents are refused, each problem at its field', () => {
  const cas: [unknown, { path: string; message: string }[]][] = [
    [
      { ...enLigne, donnePar: { type: 'agent', id: 'agent-7' } },
      [{ path: 'donnePar.type', message: 'un accord donné en ligne est donné par la famille elle-même' }],
    ],
    [
      { ...auGuichet, donnePar: { type: 'famille', id: 'f' } },
      [{ path: 'donnePar.type', message: 'un accord sur formulaire signé ou par courriel est enregistré par un agent' }],
    ],
    [
      { ...auGuichet, piece: undefined },
      [{ path: 'piece', message: 'obligatoire pour un accord sur formulaire signé ou par courriel : décrivez la pièce reçue et sa date' }],
    ],
    [{ ...auGuichet, piece: '   ' }, [{ path: 'piece', message: 'ne doit pas être vide' }]],
    [{ ...enLigne, piece: 'Formulaire' }, [{ path: 'piece', message: 'sans objet pour un accord donné en ligne' }]],
    [{ ...enLigne, donnees: ['rfr', 'ifi'] }, [{ path: 'donnees[1].champ', message: 'cette donnée ne figure pas dans l’habilitation de la commune' }]],
    [{ ...enLigne, donnees: ['rfr', 'nbPart', 'rfr'] }, [{ path: 'donnees[2].champ', message: 'donnée listée deux fois' }]],
    [{ ...enLigne, donnees: [] }, [{ path: 'donnees', message: 'au moins une donnée' }]],
    [
      { ...enLigne, donnees: ['rfr; DROP'] },
      [
        { path: 'donnees[0].champ', message: 'nom de champ de l’habilitation attendu (par exemple « rfr » ou « pac.nbPac »)' },
        { path: 'donnees[0].champ', message: 'cette donnée ne figure pas dans l’habilitation de la commune' },
      ],
    ],
    [
      { ...enLigne, recueilliLe: '02/09/2025' },
      [{ path: 'recueilliLe', message: 'date et heure attendues au format ISO 8601 (par exemple 2025-09-02T08:15:00Z)' }],
    ],
    [{ ...enLigne, retireLe: '2025-09-01T00:00:00Z' }, [{ path: 'retireLe', message: 'le retrait ne peut pas précéder l’accord' }]],
    [
      { ...enLigne, declarant: 'grand_parent' },
      [{ path: 'declarant', message: '« grand_parent » n’est pas une valeur reconnue ; valeurs possibles : « titulaire », « autre_parent »' }],
    ],
    [
      { ...enLigne, mode: 'telephone' },
      [{ path: 'mode', message: '« telephone » n’est pas une valeur reconnue ; valeurs possibles : « en_ligne », « formulaire_signe », « courriel »' }],
    ],
    [{ ...enLigne, versionTexte: '' }, [{ path: 'versionTexte', message: 'ne doit pas être vide' }]],
    [{ ...enLigne, finalite: undefined }, [{ path: 'finalite', message: 'champ obligatoire manquant' }]],
    [{ ...enLigne, spi: '3999999930262' }, [{ path: 'spi', message: 'champ inconnu (faute de frappe ?)' }]],
  ];
  for (const [input, attendu] of cas) assert.deepEqual(invalidDetails(input), attendu, JSON.stringify(input));
});

test('without a catalogue, any well-formed field is accepted but its label must be given', () => {
  const libre = parseConsentement({ ...enLigne, donnees: [{ champ: 'rfr', libelle: 'le revenu fiscal de référence' }] });
  assert.deepEqual(libre.donnees, [{ champ: 'rfr', libelle: 'le revenu fiscal de référence' }]);
  assert.deepEqual(invalidDetails({ ...enLigne, donnees: ['rfr'] }, {} as { libelles: Record<string, string> }), [
    { path: 'donnees[0].libelle', message: 'indiquez le libellé montré à la famille' },
  ]);
});

test('coverage: every requested field listed, consent not withdrawn, something actually requested', () => {
  const c = parse(enLigne);
  assert.equal(consentementCouvre(c, ['rfr', 'nbPart']), true);
  assert.equal(consentementCouvre(c, ['rfr', 'nbPart', 'sitFam', 'pac.nbPac']), true);
  assert.equal(consentementCouvre(c, ['rfr', 'aft']), false);
  assert.deepEqual(champsNonCouverts(c, ['aft', 'rfr', 'aft', 'dateNaisDec1']), ['aft', 'dateNaisDec1']);
  assert.equal(consentementCouvre(c, []), false);
  assert.equal(consentementCouvre(parse({ ...enLigne, retireLe: '2025-09-03T10:00:00Z' }), ['rfr']), false);
});

test('before a call: the covering consent of that declarant is required, or a French refusal says what is missing', () => {
  const titulaire = parse(enLigne);
  const autre = parse(auGuichet);
  const appel = { declarant: 'titulaire' as const, champs: ['rfr', 'nbPart'] };
  assert.equal(exigerConsentement([autre, titulaire], appel), titulaire);

  const absent = refus(() => exigerConsentement([titulaire], { ...appel, declarant: 'autre_parent' }));
  assert.deepEqual(
    [absent.kind, absent.code, absent.message],
    ['forbidden', 'consentement_absent', 'Aucun accord de l’autre parent n’est enregistré : la DGFiP ne peut pas être interrogée.'],
  );

  const retire = refus(() => exigerConsentement([parse({ ...enLigne, retireLe: '2025-09-05T09:00:00Z' })], appel));
  assert.deepEqual(
    [retire.code, retire.message],
    ['consentement_retire', 'L’accord du titulaire du compte a été retiré : la DGFiP ne peut plus être interrogée pour cette personne.'],
  );

  const insuffisant = refus(() => exigerConsentement([titulaire], { ...appel, champs: ['rfr', 'aft', 'dateNaisDec1'] }, { libelles: LIBELLES }));
  assert.equal(insuffisant.code, 'consentement_insuffisant');
  assert.equal(
    insuffisant.message,
    'L’accord du titulaire du compte ne couvre pas l’adresse fiscale au 1er janvier et la date de naissance du premier déclarant : un nouvel accord est nécessaire avant d’interroger la DGFiP.',
  );
  assert.match(refus(() => exigerConsentement([titulaire], { ...appel, champs: ['aft'] })).message, /ne couvre pas « aft »/);

  // A consent recorded after the call does not count.
  assert.equal(refus(() => exigerConsentement([titulaire], { ...appel, le: '2025-09-01T00:00:00Z' })).code, 'consentement_absent');
  assert.equal(refus(() => exigerConsentement([titulaire], { ...appel, champs: [] })).code, 'appel_sans_donnee');
});

test('a newer consent wins over an older one; a withdrawn one is skipped for an active one', () => {
  const ancien = parse({ ...enLigne, versionTexte: '2024-06', recueilliLe: '2024-09-01T08:00:00Z' });
  const recent = parse(enLigne);
  const retire = parse({ ...enLigne, recueilliLe: '2025-09-03T08:00:00Z', retireLe: '2025-09-04T08:00:00Z' });
  assert.equal(exigerConsentement([ancien, recent, retire], { declarant: 'titulaire', champs: ['rfr'] }), recent);
  assert.equal(exigerConsentement([ancien, retire], { declarant: 'titulaire', champs: ['rfr'] }), ancien);
});

test('listeEnFrancais joins as French does', () => {
  assert.deepEqual([[], ['a'], ['a', 'b'], ['a', 'b', 'c']].map(listeEnFrancais), ['', 'a', 'a et b', 'a, b et c']);
});

// ---------------------------------------------------------------------------------------------
// Properties

const instant = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
const sousEnsemble = fc.subarray(CHAMPS, { minLength: 1 });
const consentement: fc.Arbitrary<Consentement> = fc
  .record({
    declarant: fc.constantFrom('titulaire' as const, 'autre_parent' as const),
    guichet: fc.option(fc.constantFrom('formulaire_signe' as const, 'courriel' as const), { nil: undefined }),
    recueilliLe: instant,
    versionTexte: fc.constantFrom('2024-06', '2025-06', 'v3'),
    donnees: sousEnsemble,
    retrait: fc.option(fc.integer({ min: 0, max: 10 ** 9 }), { nil: undefined }),
  })
  .map((r) =>
    parse({
      ...enLigne,
      declarant: r.declarant,
      ...(r.guichet ? { mode: r.guichet, donnePar: { type: 'agent', id: 'agent-1' }, piece: 'Pièce reçue le 01/09' } : {}),
      recueilliLe: r.recueilliLe,
      versionTexte: r.versionTexte,
      donnees: r.donnees,
      retireLe: r.retrait === undefined ? null : new Date(Date.parse(r.recueilliLe) + r.retrait).toISOString(),
    }),
  );

test('property: a consent covers exactly the non-empty requests made of the data it lists, unless withdrawn', () => {
  fc.assert(
    fc.property(consentement, fc.subarray(CHAMPS), (c, demandes) => {
      const listes = c.donnees.map((d) => d.champ);
      const attendu = c.retireLe === null && demandes.length > 0 && demandes.every((d) => listes.includes(d));
      assert.equal(consentementCouvre(c, demandes), attendu);
      if (c.retireLe === null && demandes.length > 0) assert.equal(champsNonCouverts(c, demandes).length === 0, attendu);
      // Monotone: what covers a request covers any part of it.
      if (attendu) for (const d of demandes) assert.ok(consentementCouvre(c, [d]));
    }),
  );
});

test('property: a stored consent reads back identical', () => {
  fc.assert(
    fc.property(consentement, (c) => {
      assert.deepEqual(parse(JSON.parse(JSON.stringify(c))), c);
      assert.deepEqual(parseConsentement(JSON.parse(JSON.stringify(c))), c);
    }),
  );
});

test('property: the check before a call returns a covering consent of the right declarant, whatever the order of the list', () => {
  fc.assert(
    fc.property(
      fc.array(consentement, { maxLength: 5 }),
      sousEnsemble,
      fc.constantFrom('titulaire' as const, 'autre_parent' as const),
      (liste, champs, declarant) => {
        const appel = { declarant, champs };
        let choisi: Consentement | undefined;
        try {
          choisi = exigerConsentement(liste, appel);
        } catch (error) {
          assert.ok(error instanceof QuotientError && error.kind === 'forbidden');
          assert.ok(!liste.some((c) => c.declarant === declarant && consentementCouvre(c, champs)));
        }
        if (choisi) {
          assert.equal(choisi.declarant, declarant);
          assert.ok(consentementCouvre(choisi, champs));
          assert.equal(exigerConsentement([...liste].reverse(), appel), choisi);
        }
      },
    ),
  );
});

test('property: arbitrary input never crashes validation; it is accepted or refused with located problems', () => {
  const presque = fc.record(
    {
      declarant: fc.oneof(fc.constantFrom('titulaire', 'autre_parent'), fc.anything()),
      donnePar: fc.oneof(fc.constant({ type: 'famille', id: 'f' }), fc.anything()),
      mode: fc.oneof(fc.constantFrom('en_ligne', 'courriel'), fc.anything()),
      piece: fc.oneof(fc.constant(null), fc.string(), fc.anything()),
      recueilliLe: fc.oneof(instant, fc.string()),
      versionTexte: fc.string(),
      donnees: fc.oneof(sousEnsemble, fc.array(fc.anything())),
      finalite: fc.string(),
      retireLe: fc.oneof(fc.constant(null), instant, fc.anything()),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(presque, fc.anything()), (input) => {
      try {
        const c = parse(input);
        assert.ok(c.donnees.length > 0);
      } catch (error) {
        assert.ok(error instanceof QuotientError && error.code === 'consentement_invalide', String(error));
        assert.ok(error.details.length > 0 && error.details.every((d) => d.path.length > 0 && d.message.length > 0));
      }
    }),
    { numRuns: 1000 },
  );
});
