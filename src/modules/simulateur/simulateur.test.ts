import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createTestApp, type TestApp } from '../../http/testing.ts';

/** The public simulator as a family meets it: the demo commune applies the Boulogne-Billancourt policy. */

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => t.close());

const NBSP = '\u00a0';
const get = (query: string) => t.app.inject({ url: `/simulateur${query}` });

/** The visible text of a page, with tags dropped and spaces made plain, for readable assertions. */
function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[\s\u00a0\u202f]+/g, ' ');
}

/** The cells of the price table, row by row, as read aloud. */
function priceRows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => text(c[1] ?? '').trim()),
  );
}

function assertPageFrame(html: string, where: string) {
  assert.match(html, /^<!doctype html><html lang="fr">/, where);
  assert.ok(html.includes('Ville de Démonstration'), `${where}: header`);
  assert.ok(html.includes('href="/mentions-legales"'), `${where}: footer`);
}

test('the empty form asks for the RFR and the parts, says where to find them, and that nothing is stored', async () => {
  const res = await get('');
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['cache-control'], 'no-store');
  assertPageFrame(res.body, 'form');
  const page = text(res.body);
  assert.match(res.body, /<form method="get" action="\/simulateur#resultat"/);
  assert.match(res.body, /<label for="rfr">Revenu fiscal de référence \(en euros\)<\/label>/);
  assert.match(res.body, /<label for="parts">Nombre de parts<\/label>/);
  assert.match(res.body, /<input id="hors-commune" name="hors-commune" type="checkbox" value="oui"/);
  assert.ok(!res.body.includes('id="personnes"'), 'this policy divides by parts: no household field');
  assert.match(page, /première page de votre avis d’impôt sur le revenu, cadre « Vos références »/);
  assert.match(page, /Rien n’est enregistré : les chiffres saisis servent au calcul, puis sont oubliés/);
  assert.match(page, /Les chiffres saisis apparaissent dans l’adresse de la page de résultat/);
  assert.match(page, /Une estimation/);
  assert.match(page, /votre revenu fiscal de référence divisé par 12 pour obtenir un montant par mois, puis divisé par le nombre de parts/);
  assert.match(
    page,
    /Restauration scolaire : 0,36 % du quotient familial, au moins 0,50 € et au plus 7,20 € par repas ; 8,05 € pour les familles qui n’habitent pas la commune/,
  );
  assert.match(page, /délibération du 1er décembre 2022 du conseil municipal/);
  assert.match(page, /applicables à partir du 1er septembre 2024/);
  assert.ok(!res.body.includes('id="resultat"'), 'no result before the form is sent');
});

test('48 000 € and 3 parts: a QF of 1 333,33 € explained, and the canteen at 4,80 € a meal', async () => {
  const res = await get('?rfr=48000&parts=3');
  assert.equal(res.statusCode, 200);
  const page = text(res.body);
  assert.match(page, /Quotient familial estimé 1 333,33 € par mois/);
  assert.match(page, /Quotient familial = revenu fiscal de référence de 48 000 € ÷ 12 mois ÷ 3 parts = 1 333,33 € par mois \(arrondi au centime inférieur\)\./);
  assert.match(res.body, /<caption>Prix des activités pour une famille qui habite la commune<\/caption>/);
  assert.match(res.body, /<th scope="col">Activité<\/th>/);
  assert.deepEqual(priceRows(res.body), [
    ['Restauration scolaire', 'Taux d’effort 0,36 %', '4,80 € par repas'],
    ['Temps périscolaire du soir', 'Taux d’effort 0,28 %', '3,73 € par séance'],
    ['Centre de loisirs du mercredi', 'Taux d’effort 0,6 %', '8,00 € par journée'],
  ]);
  assert.match(res.body, /<th scope="row">Restauration scolaire<\/th>/);
  assert.match(page, /Restauration scolaire : Taux d’effort : 0,36 % × 1 333,33 € = 4,80 €/);
  // What was typed stays in the form, to be corrected or refined.
  assert.match(res.body, /id="rfr" name="rfr"[^>]* value="48000"/);
  assert.match(res.body, /id="parts" name="parts"[^>]* value="3"/);
});

test('numbers typed the French way are read as a person means them', async () => {
  const typed: [string, string][] = [
    ['48 000', '3'],
    [`48${NBSP}000 €`, '3,0'],
    ['48\u202f000', ' 3 '],
    ['48000,00', '3 parts'],
  ];
  for (const [rfr, parts] of typed) {
    const res = await get(`?rfr=${encodeURIComponent(rfr)}&parts=${encodeURIComponent(parts)}`);
    assert.equal(res.statusCode, 200, `${rfr} / ${parts}`);
    assert.match(text(res.body), /Quotient familial estimé 1 333,33 € par mois/, `${rfr} / ${parts}`);
  }
  const quarter = await get('?rfr=48000&parts=2%2C5');
  assert.match(text(quarter.body), /Quotient familial estimé 1 600,00 € par mois/);
  const zero = await get('?rfr=0&parts=1');
  assert.equal(zero.statusCode, 200);
  assert.deepEqual(priceRows(zero.body)[0], ['Restauration scolaire', 'Taux d’effort 0,36 % (prix plancher)', '0,50 € par repas']);
  const rich = await get('?rfr=200000&parts=1');
  assert.deepEqual(priceRows(rich.body)[0], ['Restauration scolaire', 'Taux d’effort 0,36 % (prix plafond)', '7,20 € par repas']);
});

test('a family living outside the commune pays the flat price where there is one, the grid elsewhere', async () => {
  const res = await get('?rfr=48000&parts=3&hors-commune=oui');
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /<caption>Prix des activités pour une famille qui n’habite pas la commune<\/caption>/);
  assert.deepEqual(priceRows(res.body), [
    ['Restauration scolaire', 'Tarif hors commune', '8,05 € par repas'],
    ['Temps périscolaire du soir', 'Tarif hors commune', '9,55 € par séance'],
    ['Centre de loisirs du mercredi', 'Taux d’effort 0,6 %', '8,00 € par journée'],
  ]);
  assert.match(res.body, /id="hors-commune"[^>]* checked/);
});

/** The error messages of a 400 answer, by field, as the error summary lists them. */
function summary(html: string): Record<string, string> {
  const block = /<div class="error-summary"[\s\S]*?<\/ul><\/div>/.exec(html)?.[0] ?? '';
  return Object.fromEntries([...block.matchAll(/<a href="#([a-z-]+)">([\s\S]*?)<\/a>/g)].map((m) => [m[1] ?? '', text(m[2] ?? '').trim()]));
}

test('wrong input comes back with French messages, a summary linking to each field, and the fields marked', async () => {
  const res = await get('?rfr=&parts=');
  assert.equal(res.statusCode, 400);
  assertPageFrame(res.body, 'errors');
  assert.match(res.body, /<title>Erreur : /);
  assert.match(res.body, /<div class="error-summary" id="resultat" role="alert" tabindex="-1" aria-labelledby="resultat-titre">/);
  assert.match(text(res.body), /2 informations sont à corriger/);
  assert.deepEqual(summary(res.body), {
    rfr: 'Indiquez votre revenu fiscal de référence, en euros (0 si votre avis indique 0).',
    parts: 'Indiquez le nombre de parts de votre avis d’imposition, par exemple 2 ou 2,5.',
  });
  assert.match(res.body, /<input id="rfr"[^>]* aria-describedby="rfr-aide rfr-erreur" aria-invalid="true"/);
  assert.match(res.body, /<span class="field__error" id="rfr-erreur"><span class="visually-hidden">Erreur : <\/span>Indiquez votre revenu/);
  assert.ok(!res.body.includes('class="resultat"'), 'no result next to errors');

  const cases: [string, Record<string, RegExp>][] = [
    ['rfr=abc&parts=trois', { rfr: /en chiffres, par exemple 48 000/, parts: /en chiffres, par exemple 2 ou 2,5/ }],
    ['rfr=-5000&parts=-1', { rfr: /ne peut pas être négatif/, parts: /ne peut pas être négatif/ }],
    ['rfr=48.000&parts=0', { rfr: /sans point ni virgule entre les milliers/, parts: /supérieur à 0/ }],
    ['rfr=48%20000%2C50&parts=2%2C3', { rfr: /sans les centimes/, parts: /de quart en quart/ }],
    ['rfr=999999999999999&parts=1000', { rfr: /trop élevé/, parts: /trop élevé/ }],
    [`rfr=${'9'.repeat(60)}&parts=1`, { rfr: /Valeur trop longue/ }],
  ];
  for (const [query, expected] of cases) {
    const r = await get(`?${query}`);
    assert.equal(r.statusCode, 400, query);
    const messages = summary(r.body);
    assert.deepEqual(Object.keys(messages).sort(), Object.keys(expected).sort(), query);
    for (const [field, pattern] of Object.entries(expected)) assert.match(messages[field] ?? '', pattern, `${query} → ${field}`);
  }
});

test('what a person typed is shown back escaped, never as markup', async () => {
  const res = await get(`?rfr=${encodeURIComponent('"><script>alert(1)</script>')}&parts=3`);
  assert.equal(res.statusCode, 400);
  assert.ok(!res.body.includes('<script>alert(1)'));
  assert.match(res.body, /value="&quot;>&lt;script>alert\(1\)&lt;\/script>"/);
});

test('a link with only other parameters shows the empty form; a repeated parameter keeps its first value', async () => {
  const other = await get('?utm_source=journal');
  assert.equal(other.statusCode, 200);
  assert.ok(!other.body.includes('error-summary') && !other.body.includes('id="resultat"'));
  const repeated = await get('?rfr=48000&rfr=1&parts=3');
  assert.match(text(repeated.body), /Quotient familial estimé 1 333,33 €/);
});

test('nothing typed in the simulator reaches the logs', async () => {
  const before = t.logLines.length;
  await get('?rfr=48123&parts=2%2C75&hors-commune=oui');
  const lines = t.logLines.slice(before).join('\n');
  assert.ok(lines.includes('/simulateur'), 'the request itself is logged');
  assert.ok(!lines.includes('48123') && !lines.includes('2%2C75'), lines);
});

test('the home page leads to the simulator', async () => {
  const res = await t.app.inject({ url: '/' });
  assert.match(res.body, /<a class="button" href="\/simulateur">Estimer mes tarifs<\/a>/);
});

/** Any query string a browser, a bot or a person could send: known and unknown names, odd values, broken encodings. */
const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom('rfr', 'parts', 'hors-commune', 'personnes', 'rang', 'rfr[]', '__proto__', 'constructor'), fc.string({ maxLength: 8 })),
      fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.stringMatching(/^-?[0-9 .,]{0,16}(€| parts)?$/),
        fc.constantFrom('%', '%E0%A4%A', '%00', '%FF', 'NaN', 'Infinity', '1e309', '0x10', '1_000', '٣', '４８０００', '0,25', '100', '100,25'),
      ),
      fc.boolean(),
    ),
    { maxLength: 6 },
  )
  .map((pairs) =>
    pairs
      .map(([name, value, raw]) => {
        // Raw values keep broken percent-encodings; characters a URL cannot carry are encoded.
        const encode = (s: string) => (raw ? s.replace(/[^A-Za-z0-9%.,_~!$'()*+;:@/?=-]/gu, (c) => encodeURIComponent(c)) : encodeURIComponent(s));
        return `${encode(name)}=${encode(value)}`;
      })
      .join('&'),
  );

test('no query string ever gets a 500: always the page, 200 or 400', async () => {
  await fc.assert(
    fc.asyncProperty(queryString, async (query) => {
      const r = await get(`?${query}`);
      assert.ok(r.statusCode === 200 || r.statusCode === 400, `${r.statusCode} for ?${query}`);
      assertPageFrame(r.body, query);
      assert.match(r.body, /<form method="get" action="\/simulateur#resultat"/, query);
      // A 400 always says what to correct.
      if (r.statusCode === 400) assert.match(r.body, /class="error-summary"/, query);
    }),
    { numRuns: 400 },
  );
});

test('any RFR and quarter of parts, however spaced, gives RFR ÷ 12 ÷ parts rounded down to the cent', async () => {
  const grouped = (n: number, sep: string) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 5_000_000 }),
      fc.integer({ min: 1, max: 80 }),
      fc.constantFrom('', ' ', NBSP, '\u202f'),
      fc.constantFrom('', ' €', '€'),
      async (rfr, quarters, sep, unit) => {
        const parts = (quarters / 4).toString().replace('.', ',');
        const r = await get(`?rfr=${encodeURIComponent(grouped(rfr, sep) + unit)}&parts=${encodeURIComponent(parts)}`);
        assert.equal(r.statusCode, 200);
        const cents = Math.floor((rfr * 100 * 4) / (12 * quarters));
        const expected = `${grouped(Math.trunc(cents / 100), ' ')},${String(cents % 100).padStart(2, '0')} €`;
        assert.ok(text(r.body).includes(`Quotient familial estimé ${expected} par mois`), `${rfr} / ${parts}: ${expected}`);
      },
    ),
    { numRuns: 150 },
  );
});

test('with another commune policy: brackets, child rank and no flat non-resident price', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quotient-simulateur-'));
  const demo = new URL('../../../examples/commune-demo.yaml', import.meta.url);
  const strasbourg = new URL('../../../examples/strasbourg.yaml', import.meta.url).pathname;
  // The Strasbourg grid with a reduction from the second child, to see the rank field.
  writeFileSync(join(dir, 'politique.yaml'), `${readFileSync(strasbourg, 'utf8')}    reductionsRang:\n      - { rang: 2, pourcentage: 10 }\n`);
  writeFileSync(join(dir, 'commune.yaml'), readFileSync(demo, 'utf8').replace(/^politiqueTarifaire: .*$/m, 'politiqueTarifaire: politique.yaml'));
  const other = await createTestApp({ env: { QUOTIENT_CONFIG: join(dir, 'commune.yaml') } });
  try {
    const form = await other.app.inject({ url: '/simulateur' });
    assert.ok(!form.body.includes('id="hors-commune"'), 'no flat price for non-residents: the question is not asked');
    assert.match(form.body, /<select id="rang" name="rang"/);
    assert.match(form.body, /<option value="2">2e enfant et suivants<\/option>/);
    assert.match(
      text(form.body),
      /Accueil du soir en école maternelle : 11 tranches de quotient, de 11,85 € à 54,90 € par mois ; 10 % de réduction à partir du 2e enfant\./,
    );

    const first = await other.app.inject({ url: '/simulateur?rfr=48000&parts=3&rang=1' });
    assert.deepEqual(priceRows(first.body), [['Accueil du soir en école maternelle', 'Tranche 8', '41,99 € par mois']]);
    assert.match(text(first.body), /Tranche 8 \(quotient de 1 300 € à moins de 1 500 €\) : 41,99 €/);
    const second = await other.app.inject({ url: '/simulateur?rfr=48000&parts=3&rang=2' });
    assert.match(second.body, /<caption>Prix des activités pour une famille qui habite la commune, pour le 2e enfant<\/caption>/);
    assert.deepEqual(priceRows(second.body)[0]?.[2], '37,79 € par mois');
    const badRank = await other.app.inject({ url: '/simulateur?rfr=48000&parts=3&rang=7' });
    assert.equal(badRank.statusCode, 400);
    assert.deepEqual(summary(badRank.body), { rang: 'Choisissez le rang de l’enfant dans la liste.' });
  } finally {
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
