import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { controlerIdentite, type ParentDeclare } from './controle-identite.ts';
import { QuotientError } from './errors.ts';
import { etatCivilAConserver, parseEtatCivilConserve } from './etat-civil-conserve.ts';
import type { Declarant } from './situation-fiscale.ts';

const PAUL: ParentDeclare = { role: 'titulaire', nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' };
const CLAIRE: ParentDeclare = { role: 'autre_parent', nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' };
const AVIS_COMMUN: Declarant[] = [
  { nomNaissance: 'BERTIN', nomUsage: null, prenoms: 'PAUL HENRI', dateNaissance: '1981-04-09' },
  { nomNaissance: 'ROUSSEL', nomUsage: 'BERTIN', prenoms: 'CLAIRE ANNE', dateNaissance: '1983-12-01' },
];

const controle = (parents: ParentDeclare[], declarants: Declarant[]) =>
  controlerIdentite({ parents, foyers: [{ declarants, parentsAttendus: parents.map((p) => p.role) }] });

test('from a matched avis: birth name, first names and birth date as the DGFiP writes them, for the parent who consented', () => {
  const c = controle([PAUL, CLAIRE], AVIS_COMMUN);
  assert.equal(c.verdict, 'concordant');
  assert.deepEqual(etatCivilAConserver({ role: 'titulaire', controle: c, foyers: [{ declarants: AVIS_COMMUN }] }), {
    nom: 'BERTIN',
    prenoms: 'PAUL HENRI',
    dateNaissance: '1981-04-09',
  });
  // The other parent of a joint avis is the second declarant, not the first.
  assert.equal(etatCivilAConserver({ role: 'autre_parent', controle: c, foyers: [{ declarants: AVIS_COMMUN }] })?.nom, 'ROUSSEL');
});

test('sex and place of birth come from the état civil typed for the call when it names the same person, else from what was kept', () => {
  const c = controle([PAUL], AVIS_COMMUN.slice(0, 1));
  const saisi = {
    nom: 'Bertin',
    prenoms: 'Paul Henri',
    sexe: 'M' as const,
    dateNaissance: '1981-04-09',
    naisCodePays: '99100',
    naisCodeDept: '44',
    naisCodeCommune: '109',
  };
  const garde = etatCivilAConserver({ role: 'titulaire', controle: c, foyers: [{ declarants: AVIS_COMMUN.slice(0, 1) }], saisi });
  assert.deepEqual(garde, {
    nom: 'BERTIN',
    prenoms: 'PAUL HENRI',
    dateNaissance: '1981-04-09',
    sexe: 'M',
    naisCodePays: '99100',
    naisCodeDept: '44',
    naisCodeCommune: '109',
  });
  // Next year, by numéro fiscal: nothing typed, what was kept for the same person stays.
  assert.deepEqual(
    etatCivilAConserver({ role: 'titulaire', controle: c, foyers: [{ declarants: AVIS_COMMUN.slice(0, 1) }], precedent: garde ?? undefined }),
    garde,
  );
  // Typed for somebody else (another birth date): not believed.
  const autre = { ...saisi, dateNaissance: '1980-01-01' };
  assert.deepEqual(etatCivilAConserver({ role: 'titulaire', controle: c, foyers: [{ declarants: AVIS_COMMUN.slice(0, 1) }], saisi: autre }), {
    nom: 'BERTIN',
    prenoms: 'PAUL HENRI',
    dateNaissance: '1981-04-09',
  });
});

test('nothing is kept from an avis the control did not match without doubt', () => {
  // Another person's avis: discordant.
  const autre: Declarant[] = [{ nomNaissance: 'DURAND', nomUsage: null, prenoms: 'LUC', dateNaissance: '1970-01-01' }];
  assert.equal(etatCivilAConserver({ role: 'titulaire', controle: controle([PAUL], autre), foyers: [{ declarants: autre }] }), null);
  // A birth date that differs: to be checked by an instructor.
  const douteux: Declarant[] = [{ ...AVIS_COMMUN[0], dateNaissance: '1981-04-10' } as Declarant];
  const c = controle([PAUL], douteux);
  assert.notEqual(c.verdict, 'concordant');
  assert.equal(etatCivilAConserver({ role: 'titulaire', controle: c, foyers: [{ declarants: douteux }] }), null);
  // The avis gives no birth date (the control lets the names decide): the declared one is kept.
  const sansDate: Declarant[] = [{ ...AVIS_COMMUN[0], dateNaissance: null } as Declarant];
  const c2 = controle([PAUL], sansDate);
  assert.equal(c2.verdict, 'concordant');
  assert.equal(
    etatCivilAConserver({ role: 'titulaire', controle: c2, foyers: [{ declarants: sansDate }], dateNaissanceDeclaree: '1981-04-09' })?.dateNaissance,
    '1981-04-09',
  );
});

test('a kept état civil read back is checked: no digit in a name, real dates, INSEE codes; French messages', () => {
  assert.deepEqual(parseEtatCivilConserve({ nom: 'BERTIN', prenoms: 'PAUL', sexe: 'M' }), { nom: 'BERTIN', prenoms: 'PAUL', sexe: 'M' });
  try {
    parseEtatCivilConserve({ nom: 'B3RTIN', prenoms: 'PAUL', dateNaissance: '1981-02-30', naisCodePays: '100', spi: '3999990101012' });
    assert.fail('refused');
  } catch (error) {
    assert.ok(error instanceof QuotientError);
    assert.equal(error.code, 'etat_civil_conserve_invalide');
    assert.ok(
      ['nom', 'dateNaissance', 'naisCodePays'].every((p) => error.details.some((d) => d.path === p)),
      JSON.stringify(error.details),
    );
    assert.ok(error.details.some((d) => d.path === 'nom' && /chiffre/.test(d.message)));
    assert.ok(error.details.some((d) => d.path === 'dateNaissance'));
    assert.ok(
      error.details.some((d) => /spi/.test(d.path) || /spi/.test(d.message)),
      'an unknown key (a numéro fiscal) is refused',
    );
  }
});

test('property: whatever names the avis holds, a kept état civil never holds a digit and always names the matched declarant', () => {
  const lettres = fc.stringMatching(/^[A-Z][A-Z' -]{0,30}[A-Z]$/);
  fc.assert(
    fc.property(lettres, lettres, fc.string({ maxLength: 20 }), (nom, prenom, bruit) => {
      const declarants: Declarant[] = [{ nomNaissance: `${nom}${bruit}`, nomUsage: null, prenoms: prenom, dateNaissance: '1990-05-05' }];
      const parent: ParentDeclare = { role: 'titulaire', nomNaissance: `${nom}${bruit}`, prenoms: prenom, dateNaissance: '1990-05-05' };
      let c;
      try {
        c = controle([parent], declarants);
      } catch {
        return;
      }
      const garde = etatCivilAConserver({ role: 'titulaire', controle: c, foyers: [{ declarants }] });
      if (garde === null) return;
      assert.ok(!/[0-9]/.test(`${garde.nom}${garde.prenoms}`));
      assert.equal(garde.nom, `${nom}${bruit}`.trim());
    }),
  );
});
