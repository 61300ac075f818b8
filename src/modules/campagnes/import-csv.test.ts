import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { lireImport, modeleImport } from './import-csv.ts';
import { bertinRoussel, fichierCsv, garnier, homonyme } from './test-support.ts';

const AUJOURDHUI = '2026-09-10';
const messages = (r: ReturnType<typeof lireImport>) => r.erreurs.map((e) => e.message);

test('a good file gives one line per family: état civil for the call, the household, the signed form', () => {
  const r = lireImport(fichierCsv([bertinRoussel('FAM-1'), garnier('FAM-2')]), AUJOURDHUI);
  assert.deepEqual(r.erreurs, []);
  assert.equal(r.total, 2);
  assert.equal(r.lecture, 'lu en UTF-8, séparateur point-virgule');
  const [couple, seule] = r.lignes;
  assert.deepEqual(couple?.rangsAppeles, [1], 'one avis for a married couple');
  assert.deepEqual(couple?.parents[0]?.etatCivil, {
    nom: 'Bertin',
    prenoms: 'Paul Henri',
    dateNaissance: '1981-04-09',
    sexe: 'M',
    naisCodePays: '99100',
    naisCodeDept: '44',
    naisCodeCommune: '109',
  });
  assert.equal(couple?.parents[1]?.nomUsage, 'Bertin');
  assert.deepEqual(couple?.accord, { date: '2025-09-01', reference: 'Formulaire 2025-0042' });
  assert.deepEqual(seule?.parents.length, 1);
  // The template administrators download reads without a fault.
  assert.deepEqual(lireImport(new TextEncoder().encode(modeleImport()), AUJOURDHUI).erreurs, []);
});

test('each fault is named in French with its line and column, duplicates with the line they repeat', () => {
  const r = lireImport(
    fichierCsv([
      garnier('FAM-1'),
      { ...garnier('FAM-1') },
      { ...bertinRoussel('FAM-3'), avis_commun: '' },
      { ...garnier('FAM-4'), p1_date_naissance: '31/02/1990' },
      { ...garnier('FAM-5'), p1_sexe: 'X', p1_lieu_naissance: '123' },
      { ...garnier('FAM-6'), accord_reference: '' },
      { ...garnier('FAM-7'), p1_nom_naissance: 'G4rnier', courriel: 'pas-une-adresse' },
      homonyme('FAM-8'),
    ]),
    AUJOURDHUI,
  );
  const m = messages(r);
  assert.ok(m.includes('Ligne 3, reference : la référence « FAM-1 » figure déjà ligne 2 (doublon).'), m.join('\n'));
  assert.ok(m.some((x) => x.startsWith('Ligne 4, avis_commun : avec deux parents')));
  assert.ok(m.some((x) => x.startsWith('Ligne 5, p1_date_naissance : date de naissance attendue')));
  assert.ok(m.some((x) => x.startsWith('Ligne 6, p1_sexe')));
  assert.ok(m.some((x) => x.startsWith('Ligne 6, p1_lieu_naissance')));
  assert.ok(m.some((x) => x.startsWith('Ligne 7, accord_reference')));
  assert.ok(m.some((x) => x.startsWith('Ligne 8, p1_nom_naissance : nom invalide')));
  assert.ok(m.some((x) => x.startsWith('Ligne 8, courriel')));
  assert.deepEqual(
    r.lignes.map((l) => l.reference),
    ['FAM-1', 'FAM-8'],
  );
  assert.ok(r.avertissements.some((a) => a.message === 'Ligne 9 : sans lieu de naissance, des homonymes ne pourront pas être distingués.'));
  assert.ok(r.avertissements.some((a) => /le parent 1 est le même que celui de la ligne 2/.test(a.message)));
});

test('a numéro fiscal is refused wherever it is, and never repeated in a message', () => {
  const spi = '3999990101142';
  const r = lireImport(fichierCsv([{ ...garnier('FAM-1'), accord_reference: `avis ${spi}` }, { ...garnier(spi) }]), AUJOURDHUI);
  assert.equal(r.lignes.length, 0);
  assert.ok(messages(r).some((x) => x.startsWith('Ligne 2, accord_reference : ressemble à un numéro fiscal')));
  assert.ok(messages(r).some((x) => x.startsWith('Ligne 3, reference : ressemble à un numéro fiscal')));
  assert.ok(!JSON.stringify(r).includes(spi));
  const colonne = lireImport(fichierCsv([garnier('FAM-1')], ['reference', 'numero_fiscal', 'p1_nom_naissance', 'p1_prenoms', 'p1_date_naissance']), AUJOURDHUI);
  assert.match(messages(colonne)[0] as string, /semble porter des numéros fiscaux/);
});

test('the header is checked first: unknown or missing columns, a file with only its header', () => {
  const r = lireImport(new TextEncoder().encode('reference;nom;p1_prenoms\r\nF1;Durand;Paul\r\n'), AUJOURDHUI);
  assert.ok(messages(r).includes('Colonne inconnue « nom » ; colonnes possibles : ' + messages(r)[0]?.split('colonnes possibles : ')[1]));
  assert.ok(messages(r).includes('La colonne obligatoire « p1_nom_naissance » manque.'));
  assert.deepEqual(messages(lireImport(new TextEncoder().encode('reference;p1_nom_naissance;p1_prenoms;p1_date_naissance\r\n'), AUJOURDHUI)), [
    'Le fichier ne contient que sa ligne d’en-tête.',
  ]);
  // Headers as a spreadsheet may write them: accents, capitals, spaces.
  const souple = lireImport(
    new TextEncoder().encode(
      'Référence,P1 Nom Naissance,P1 Prénoms,P1 Date Naissance,Accord Date,Accord Référence\nF1,Durand,Paul,01/01/1980,01/09/2026,F-9\n',
    ),
    AUJOURDHUI,
  );
  assert.deepEqual(souple.erreurs, []);
  assert.equal(souple.lecture, 'lu en UTF-8, séparateur virgule');
});

test('whatever the upload (binary, wrong encoding, random text), the import answers line errors, never throws', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 600 }),
        fc.string({ maxLength: 400 }).map((s) => new TextEncoder().encode(`reference;p1_nom_naissance;p1_prenoms;p1_date_naissance\n${s}`)),
      ),
      (octets) => {
        const r = lireImport(octets, AUJOURDHUI);
        for (const e of r.erreurs) assert.ok(typeof e.message === 'string' && e.message.length > 0);
        assert.ok(r.lignes.length + r.erreurs.length > 0 || r.total === 0);
      },
    ),
    { numRuns: 500 },
  );
});
