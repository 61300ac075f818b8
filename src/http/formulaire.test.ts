import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { QuotientError } from '../domain/errors.ts';
import { NumeroFiscal } from '../domain/numero-fiscal.ts';
import {
  PARAMS_ID,
  coche,
  libre,
  liste,
  lireChamps,
  lireFormulaire,
  lireParams,
  numerosFiscaux,
  CLE_A_CONFIRMER,
  CLE_AGENT,
  CLE_FAMILLE,
  pageFormulaire,
  radio,
  refusDe,
  saisieAReafficher,
  nom,
  texte,
  texteBrut,
  texteOptionnel,
  TexteNumeroFiscal,
  type EnvoiPage,
} from './formulaire.ts';

/** A numéro fiscal whose mod-511 key checks (3012345678 mod 511 = 167). */
const SPI = '3012345678167';

/** A form with one field of each kind. */
const FORMULAIRE = z.object({
  nom: texte(libre().min(1, 'Indiquez votre nom.')),
  commentaire: texte(),
  age: texte(z.string().regex(/^[0-9]{1,3}$/)),
  residence: radio(['exclusive', 'alternee'], 'exclusive', 'Indiquez où vit l’enfant.'),
  jours: liste(),
  accord: coche(),
  page: texteOptionnel(),
});
const IDS = new Set(['nom', 'commentaire', 'age', 'residence-exclusive', 'jours', 'accord', 'page']);

test('a form reads into typed values: texts, a radio answer, a list, a checkbox, an optional parameter', () => {
  const lecture = lireFormulaire(FORMULAIRE, { nom: '  Bertin ', age: '42', residence: 'alternee', jours: ['lundi', 'jeudi'], accord: 'oui', _csrf: 'x' });
  assert.deepEqual(
    lecture,
    { ok: true, values: { nom: 'Bertin', commentaire: '', age: '42', residence: 'alternee', jours: ['lundi', 'jeudi'], accord: true } },
    'an optional parameter not sent is absent',
  );
  const defauts = lireFormulaire(FORMULAIRE, { nom: 'Bertin', age: '1' });
  assert.deepEqual(
    defauts.ok && defauts.values,
    { nom: 'Bertin', commentaire: '', age: '1', residence: 'exclusive', jours: [], accord: false },
    'a radio left unanswered is its default',
  );
});

test('a repeated name keeps its first text; a missing or non-text field reads as empty; any body that is no object is an empty form', () => {
  const lecture = lireFormulaire(FORMULAIRE, {
    nom: ['Paul', 'Pierre'],
    age: [{}, '7'],
    commentaire: 12,
    jours: 'mardi',
    accord: ['non', 'oui'],
    page: ['2', '3'],
  });
  assert.ok(lecture.ok);
  assert.equal(lecture.values.nom, 'Paul');
  assert.equal(lecture.values.age, '7', 'the first text of the list');
  assert.equal(lecture.values.commentaire, '');
  assert.deepEqual(lecture.values.jours, ['mardi'], 'one checkbox checked is a list of one');
  assert.equal(lecture.values.accord, false);
  assert.equal(lecture.values.page, '2');
  for (const body of [undefined, null, 'nom=Paul', 42, ['nom']]) {
    const vide = lireFormulaire(FORMULAIRE, body);
    assert.equal(vide.ok, false);
    assert.deepEqual(!vide.ok && vide.errors.map((e) => e.path).sort(), ['age', 'nom']);
  }
  const proto = lireFormulaire(z.object({ constructor: texte(), toString: texte() }), JSON.parse('{"__proto__": {"constructor": "x"}}'));
  assert.deepEqual(proto, { ok: true, values: { constructor: '', toString: '' } }, 'an inherited or magic name is no field of the form');
});

test('errors name the field the summary links to, in French: the schema’s message, or zod-francais’s', () => {
  const lecture = lireFormulaire(FORMULAIRE, { nom: '', age: 'quarante', residence: 'moitie' });
  assert.equal(lecture.ok, false);
  if (lecture.ok) return;
  assert.deepEqual(lecture.errors, [
    { path: 'nom', message: 'Indiquez votre nom.' },
    { path: 'age', message: 'format invalide' },
    { path: 'residence-exclusive', message: 'Indiquez où vit l’enfant.' },
  ]);
});

test('a free text refuses the shape of a numéro fiscal first, with one message, and never quotes it', () => {
  for (const typed of [SPI, '30 12 345 678 167', `Formulaire ${SPI.slice(0, 6)}\u202f${SPI.slice(6)}`]) {
    const lecture = lireFormulaire(FORMULAIRE, { nom: typed, age: '1' });
    assert.equal(lecture.ok, false);
    if (lecture.ok) continue;
    assert.equal(lecture.errors.length, 1);
    assert.match(lecture.errors[0]?.message ?? '', /semble contenir un numéro fiscal/);
    assert.equal(JSON.stringify(lecture.errors).includes(SPI.slice(0, 6)), false);
  }
});

test('numéros fiscaux: parsed per declarant; each wrong one on its field, named when two are asked, never echoed', () => {
  const deux = numerosFiscaux(
    [
      { rang: 1, nom: 'Paul Bertin' },
      { rang: 2, nom: 'Claire Bertin' },
    ],
    CLE_FAMILLE,
  );
  const ok = lireFormulaire(deux, { 'numero-1': '30 12 345 678 167', 'numero-2': SPI });
  assert.ok(ok.ok);
  assert.ok(ok.values.get(1) instanceof NumeroFiscal);
  assert.equal(ok.values.get(2)?.revealForUpstreamCall(), SPI);
  const bad = lireFormulaire(deux, { 'numero-1': SPI, 'numero-2': '4999990141182' });
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.deepEqual(
      bad.errors.map((e) => e.path),
      ['numero-2'],
    );
    assert.match(bad.errors[0]?.message ?? '', /^Claire Bertin : .*commence par 0, 1, 2 ou 3/);
    assert.equal(JSON.stringify(bad.errors).includes('4999990141182'), false);
  }
  const un = lireFormulaire(numerosFiscaux([{ rang: 1, nom: 'Paul Bertin' }], CLE_FAMILLE), {});
  assert.equal(un.ok, false);
  if (!un.ok) {
    assert.deepEqual(
      un.errors.map((e) => e.path),
      ['numero-1'],
    );
    assert.doesNotMatch(un.errors[0]?.message ?? '', /Paul Bertin/, 'one declarant: the message alone');
  }
});

test('numéros fiscaux: a key that does not check is asked again on its field, unless its box is ticked; never echoed', () => {
  const typo = `${SPI.slice(0, 12)}8`;
  const deux = numerosFiscaux(
    [
      { rang: 1, nom: 'Paul Bertin' },
      { rang: 2, nom: 'Claire Bertin' },
    ],
    CLE_FAMILLE,
  );
  // Both problems at once: a number too short for one declarant, a key that does not check for the other.
  const lecture = lireFormulaire(deux, { 'numero-1': SPI.slice(0, 12), 'numero-2': typo });
  assert.ok(!lecture.ok);
  assert.deepEqual(
    lecture.errors.map((e) => [e.path, e.code]),
    [
      ['numero-1', undefined],
      ['numero-2', CLE_A_CONFIRMER],
    ],
  );
  assert.equal(lecture.errors[1]?.message, `Claire Bertin : ${CLE_FAMILLE.message}`);
  assert.match(CLE_FAMILLE.message, /les trois derniers chiffres ne correspondent pas aux dix premiers/);
  assert.equal(JSON.stringify(lecture.errors).includes(typo.slice(0, 8)), false, 'nothing typed is echoed');
  // The box ticked: the number goes as typed.
  const confirme = lireFormulaire(deux, { 'numero-1': SPI, 'numero-2': typo, 'confirme-2': 'oui' });
  assert.ok(confirme.ok);
  assert.equal(confirme.values.get(2)?.revealForUpstreamCall(), typo);
  assert.equal(confirme.values.get(2)?.cleValide, false);
  // The box of the other declarant confirms nothing here; a box on a right number changes nothing.
  assert.equal(lireFormulaire(deux, { 'numero-1': SPI, 'numero-2': typo, 'confirme-1': 'oui' }).ok, false);
  assert.ok(lireFormulaire(deux, { 'numero-1': SPI, 'confirme-1': 'oui', 'numero-2': SPI }).ok);
  // The counter's wording.
  const guichet = lireFormulaire(numerosFiscaux([{ rang: 1, nom: 'Paul Bertin' }], CLE_AGENT), { 'numero-1': typo });
  assert.ok(!guichet.ok);
  assert.equal(guichet.errors[0]?.message, CLE_AGENT.message);
  assert.match(CLE_AGENT.message, /cochez « Numéro vérifié sur le document »/);
});

test('route parameters: a malformed id is the route’s own « not found »', () => {
  const introuvable = () => new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
  const request = (params: unknown) => ({ params }) as FastifyRequest;
  const id = crypto.randomUUID();
  assert.deepEqual(lireParams(PARAMS_ID, request({ id }), introuvable), { id });
  for (const params of [{ id: '../etc/passwd' }, { id: `${id}x` }, { id: '' }, {}, undefined, { id: [id] }]) {
    assert.throws(
      () => lireParams(PARAMS_ID, request(params), introuvable),
      (e: unknown) => e instanceof QuotientError && e.code === 'demande_introuvable',
      JSON.stringify(params),
    );
  }
});

test('shown again: what was typed, never the CSRF token, a password, a numéro fiscal field or a text shaped like one', () => {
  const body = { email: 'lea@exemple.fr', password: 'secret', _csrf: 'jeton', 'numero-1': SPI, piece: `Formulaire ${SPI}`, roles: ['a', 'b'], nom: ' Roux ' };
  assert.deepEqual(saisieAReafficher(body, ['password']), { email: 'lea@exemple.fr', piece: '', roles: 'a', nom: ' Roux ' });
  assert.deepEqual(saisieAReafficher('pas un formulaire'), {});
});

test('a refusal of the service: its details on the fields, its status; anything else thrown again', () => {
  const invalide = new QuotientError('invalid', 'x', 'Vérifiez le formulaire.', { details: [{ path: 'parents[0].nom', message: 'trop long' }] });
  assert.deepEqual(refusDe(invalide), { errors: [{ path: 'parents[0].nom', message: 'trop long' }], status: 400, message: 'Vérifiez le formulaire.' });
  assert.deepEqual(
    refusDe(invalide, { champ: () => null }).errors,
    [{ path: '', message: 'Vérifiez le formulaire.' }],
    'details of no field: the message on top',
  );
  assert.deepEqual(refusDe(invalide, { champ: (d) => ({ ...d, path: d.path === '' ? 'decision' : 'nom' }) }).errors, [{ path: 'nom', message: 'trop long' }]);
  assert.equal(refusDe(new QuotientError('conflict', 'x', 'Déjà décidée.'), { kinds: ['conflict'] }).status, 409);
  assert.equal(refusDe(new QuotientError('rate_limited', 'x', 'Patientez.'), { kinds: ['rate_limited'] }).status, 429);
  const reference = new QuotientError('not_found', 'x', 'Aucune famille.', {
    details: [{ path: 'famille', message: 'Aucune famille ne porte cette référence.' }],
  });
  assert.equal(refusDe(reference, { kinds: ['not_found'] }).errors[0]?.path, 'famille');
  for (const error of [new QuotientError('not_found', 'x', 'Ce contrôle n’existe pas.'), new QuotientError('conflict', 'x', 'Non.'), new Error('bug')]) {
    assert.throws(
      () => refusDe(error, { kinds: ['invalid', 'not_found'] }),
      (e: unknown) => e === error,
    );
  }
});

test('a form page: as asked, 200 and its title; again with errors, « Erreur : » first and 400 or the refusal’s status', () => {
  const sent: Array<[string, number | undefined]> = [];
  const envoyer: EnvoiPage = (_request, reply, title, _body, status) => {
    sent.push([title, status]);
    return reply;
  };
  const [request, reply] = [{} as FastifyRequest, {} as FastifyReply];
  pageFormulaire(envoyer, request, reply, 'Créer une famille', [], null);
  pageFormulaire(envoyer, request, reply, 'Créer une famille', [{ path: 'nom', message: 'Indiquez le nom.' }], null);
  pageFormulaire(envoyer, request, reply, 'Se connecter', [{ path: '', message: 'Patientez.' }], null, 429);
  assert.deepEqual(sent, [
    ['Créer une famille', 200],
    ['Erreur : Créer une famille', 400],
    ['Erreur : Se connecter', 429],
  ]);
});

/** What a browser or a crafted request may post: texts, lists, nested objects, odd names. */
const corps = fc.oneof(
  fc.dictionary(
    fc.oneof(fc.constantFrom(...IDS, 'residence', '__proto__', 'constructor', '_csrf', 'numero-1'), fc.string({ maxLength: 8 })),
    fc.oneof(fc.string({ maxLength: 20 }), fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer())), fc.constantFrom(SPI, 'alternee', 'oui', '')),
    { maxKeys: 12 },
  ),
  fc.anything(),
);

test('any body: the reader never throws, and every error names a field of the form (property)', () => {
  fc.assert(
    fc.property(corps, (body) => {
      const lecture = lireFormulaire(FORMULAIRE, body);
      if (!lecture.ok) for (const e of lecture.errors) assert.ok(IDS.has(e.path) && e.message !== '', e.path);
      const numeros = lireFormulaire(
        numerosFiscaux(
          [
            { rang: 1, nom: 'A' },
            { rang: 2, nom: 'B' },
          ],
          CLE_AGENT,
        ),
        body,
      );
      if (!numeros.ok) for (const e of numeros.errors) assert.ok(['numero-1', 'numero-2'].includes(e.path));
      const shown = saisieAReafficher(body, ['password']);
      assert.ok(Object.values(shown).every((v) => typeof v === 'string' && !v.includes(SPI)));
      // A form read whole either gives its values or refuses a numéro fiscal's shape, typed: nothing else.
      try {
        lireChamps(z.object({ a: texte(), b: liste(), c: coche(), d: texteOptionnel() }), body);
      } catch (error) {
        assert.ok(error instanceof TexteNumeroFiscal, String(error));
      }
    }),
    { numRuns: 500 },
  );
});

/** A numéro fiscal written every way people (or an attacker) write one: any separators, any digit forms, mixed. */
const CHIFFRES_LARGES = '０１２３４５６７８９';
const SEPARATEURS = [' ', '  ', '\t', '\u00a0', '\u202f', '-', '.', '/', ' - ', '\u2013', '\u200b', '_'];
const numeroDeguise = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 13, maxLength: 13 }),
    fc.array(fc.constantFrom('', ...SEPARATEURS), { minLength: 12, maxLength: 12 }),
    fc.array(fc.boolean(), { minLength: 13, maxLength: 13 }),
  )
  .map(([digits, gaps, larges]) => digits.map((d, i) => (larges[i] ? CHIFFRES_LARGES[d] : String(d)) + (gaps[i] ?? '')).join(''));

test('every free-text field refuses a numéro fiscal in any separator or digit form, with the French message on its field (property)', () => {
  const LIBRES = z.object({ commentaire: texte(), page: texteOptionnel(), jours: liste(), nom: texte(nom()) });
  fc.assert(
    fc.property(numeroDeguise, fc.constantFrom('commentaire', 'page', 'jours', 'nom'), fc.string({ maxLength: 10 }), (typed, champ, autour) => {
      const lecture = lireFormulaire(LIBRES, { [champ]: `${autour}${typed}${autour}` });
      assert.equal(lecture.ok, false, JSON.stringify(typed));
      assert.ok(!lecture.ok && lecture.errors.some((e) => e.path === champ && /semble contenir un numéro fiscal/.test(e.message)));
    }),
    { numRuns: 2000 },
  );
  for (const typed of [
    '31-41-592-653-423',
    '31.41.592.653.423',
    '31/41/592/653/423',
    '31  41  592 653 423',
    '31\t41\t592\t653\t423',
    '３１４１５９２６５３４２３',
  ])
    assert.equal(lireFormulaire(z.object({ motif: texte() }), { motif: `pour ${typed}` }).ok, false, typed);
  // JSON bodies are read by the same reader: a text inside one is a text like any other.
  assert.equal(lireFormulaire(z.object({ libelle: texte() }), JSON.parse('{"libelle":"31-41-592-653-423"}')).ok, false);
});

test('what is not free text is read as sent: passwords, tokens, the numéro fiscal itself', () => {
  assert.deepEqual(lireChamps(z.object({ password: texteBrut() }), { password: '3141592653423' }), { password: '3141592653423' });
  assert.equal(lireFormulaire(numerosFiscaux([{ rang: 1, nom: 'A' }], CLE_FAMILLE), { 'numero-1': '31 41 592 653 423' }).ok, true);
});

test('a form read whole (lireChamps) refuses a numéro fiscal with a typed error naming the field, never the value', () => {
  const schema = z.object({ libelle: texte(), motif: texte() });
  assert.throws(
    () => lireChamps(schema, { libelle: 'Logiciel 31-41-592-653-423', motif: 'ok' }),
    (e: unknown) =>
      e instanceof TexteNumeroFiscal &&
      e.kind === 'invalid' &&
      e.details.map((d) => d.path).join() === 'libelle' &&
      !JSON.stringify(e.details).includes('31-41') &&
      /semble contenir un numéro fiscal/.test(e.message),
  );
});

test('a name holds no digit at all', () => {
  const schema = z.object({ nom: texte(nom()) });
  for (const typed of ['Martin2', 'Ma3tin', 'Ｍａｒｔｉｎ３', 'Martin²']) {
    const lecture = lireFormulaire(schema, { nom: typed });
    assert.ok(!lecture.ok && /ne contient pas de chiffre/.test(lecture.errors[0]?.message ?? ''), typed);
  }
  assert.deepEqual(lireFormulaire(schema, { nom: ' N’Diaye-Ørsted ' }), { ok: true, values: { nom: 'N’Diaye-Ørsted' } });
});
