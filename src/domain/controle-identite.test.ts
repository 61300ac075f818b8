import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  controlerIdentite,
  motifsControleIdentite,
  normaliserNom,
  RANG_PARENT,
  roleParent,
  parentsAttendusParFoyerFiscal,
  type EntreeControleIdentite,
  type FoyerFiscalAControler,
  type ParentDeclare,
  type ResultatControleIdentite,
  type RoleParent,
} from './controle-identite.ts';
import { QuotientError } from './errors.ts';
import { createSituationFiscale, type Declarant } from './situation-fiscale.ts';
import { avisInput } from './test-support.ts';

// Households of the generated sandbox population (src/sandbox/population.ts).
const BERTIN: Declarant = { nomNaissance: 'BERTIN', nomUsage: null, prenoms: 'PAUL HENRI', dateNaissance: '1981-04-09' };
const ROUSSEL: Declarant = { nomNaissance: 'ROUSSEL', nomUsage: 'BERTIN', prenoms: 'CLAIRE ANNE', dateNaissance: '1983-12-01' };
const CHEVALIER: Declarant = { nomNaissance: 'CHEVALIER', nomUsage: null, prenoms: 'MARC', dateNaissance: '1988-06-30' };
const NDIAYE: Declarant = { nomNaissance: 'NDIAYE-FALL', nomUsage: null, prenoms: 'AMINATA', dateNaissance: '1990-02-14' };
const GARNIER: Declarant = { nomNaissance: 'GARNIER', nomUsage: null, prenoms: 'JULIE', dateNaissance: '1992-09-17' };
const MOREAU: Declarant = { nomNaissance: 'MOREAU', nomUsage: null, prenoms: 'THOMAS', dateNaissance: '1991-01-05' };

const titulaire = (p: Omit<ParentDeclare, 'role'>): ParentDeclare => ({ role: 'titulaire', ...p });
const autreParent = (p: Omit<ParentDeclare, 'role'>): ParentDeclare => ({ role: 'autre_parent', ...p });
const foyerFiscal = (declarants: Declarant[], parentsAttendus: RoleParent[] = ['titulaire']): FoyerFiscalAControler => ({ declarants, parentsAttendus });

const julie = titulaire({ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' });
const thomas = autreParent({ nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' });

function seul(parent: Omit<ParentDeclare, 'role'>, declarant: Declarant): ResultatControleIdentite {
  return controlerIdentite({ parents: [titulaire(parent)], foyers: [foyerFiscal([declarant])] });
}

function invalidDetails(entree: unknown): { path: string; message: string }[] {
  try {
    controlerIdentite(entree as EntreeControleIdentite);
  } catch (error) {
    assert.ok(error instanceof QuotientError);
    assert.equal(error.kind, 'invalid');
    assert.equal(error.code, 'controle_identite_invalide');
    return [...error.details];
  }
  assert.fail('l’entrée aurait dû être refusée');
}

const tout = (r: ResultatControleIdentite) => JSON.stringify(r);

// ---------------------------------------------------------------------------------------------
// Normalisation

test('names are compared without case, accents, ligatures, hyphens, apostrophes or extra spaces', () => {
  const table: [string, string][] = [
    ['  Hélène  ', 'HELENE'],
    ['Ndiaye-Fall', 'NDIAYE FALL'],
    ['NDIAYE -  FALL', 'NDIAYE FALL'],
    ['N’Diaye', 'N DIAYE'],
    ["d'Almeida", 'D ALMEIDA'],
    ['Nʼgolo', 'N GOLO'],
    ['Œuvrard', 'OEUVRARD'],
    ['Lætitia', 'LAETITIA'],
    ['Çağlar', 'CAGLAR'],
    ['Łukasz Øster', 'LUKASZ OSTER'],
    ['Strauß', 'STRAUSS'],
    ['Jean-Pierre', 'JEAN PIERRE'],
    ['---', ''],
  ];
  for (const [input, attendu] of table) assert.equal(normaliserNom(input), attendu, input);
});

test('property: normalisation is idempotent and yields upper-case words separated by single spaces', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.string()), (s) => {
      const n = normaliserNom(s);
      assert.equal(normaliserNom(n), n);
      assert.ok(!/^ | $| {2}/.test(n), n);
      assert.ok(!/[a-z\p{M}]/u.test(n), n);
    }),
    { numRuns: 2000 },
  );
});

// Variations a person makes when typing a name the DGFiP writes in upper case.
const ACCENTS: Record<string, string[]> = {
  A: ['À', 'Â', 'Ä', 'á'],
  E: ['É', 'È', 'Ê', 'Ë', 'é', 'è'],
  I: ['Î', 'Ï', 'í'],
  O: ['Ô', 'Ö', 'ó'],
  U: ['Ù', 'Û', 'Ü', 'ú'],
  C: ['Ç', 'ç'],
  N: ['Ñ', 'ñ'],
  Y: ['Ÿ', 'ÿ'],
};
const SEPARATEURS = [' ', '-', '  ', ' - ', '’', "'", '- '];

const mot = fc.stringMatching(/^[A-Z]{1,8}$/);
/** Names of 1 to 3 words joined by a space or a hyphen, as the DGFiP writes them. */
const nomAvis = fc
  .tuple(fc.array(mot, { minLength: 1, maxLength: 3 }), fc.array(fc.constantFrom(' ', '-'), { minLength: 2, maxLength: 2 }))
  .map(([mots, seps]) => mots.reduce((acc, m, i) => (i === 0 ? m : `${acc}${seps[i - 1]}${m}`), ''));

function variante(nom: string): fc.Arbitrary<string> {
  const morceaux = nom.split(/([ -])/);
  return fc
    .tuple(
      fc.array(fc.nat(), { minLength: nom.length * 2, maxLength: nom.length * 2 }),
      fc.array(fc.constantFrom(...SEPARATEURS), { minLength: morceaux.length, maxLength: morceaux.length }),
      fc.constantFrom('', ' ', '  '),
      fc.constantFrom('', ' ', '   '),
    )
    .map(([choix, seps, avant, apres]) => {
      let k = 0;
      const out = morceaux.map((m, i) => {
        if (m === ' ' || m === '-') return seps[i] as string;
        let mot = m.replace(/OE/g, () => ((choix[k++] ?? 0) % 2 === 0 ? 'Œ' : 'OE')).replace(/AE/g, () => ((choix[k++] ?? 0) % 2 === 0 ? 'æ' : 'AE'));
        mot = [...mot]
          .map((c) => {
            const r = choix[k++] ?? 0;
            const accents = ACCENTS[c];
            if (accents && r % 3 === 0) return accents[r % accents.length] as string;
            return r % 2 === 0 ? c.toLowerCase() : c;
          })
          .join('');
        return mot;
      });
      return `${avant}${out.join('')}${apres}`;
    });
}

test('property: a typed variant of a name normalises like the name itself', () => {
  fc.assert(
    fc.property(
      nomAvis.chain((n) => fc.tuple(fc.constant(n), variante(n))),
      ([nom, v]) => assert.equal(normaliserNom(v), normaliserNom(nom)),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Table: the tricky cases of one person

test('a parent typed in lower case with accents and a space for the hyphen matches the DGFiP declarant', () => {
  const r = seul({ nomNaissance: ' ndiaye  fall ', prenoms: 'Aminata', dateNaissance: '1990-02-14' }, NDIAYE);
  assert.equal(r.verdict, 'concordant');
  assert.deepEqual(
    r.parents[0]?.correspondances.map((c) => [c.declarant, c.nom, c.prenom, c.dateNaissance]),
    [[1, 'identique', 'premier', 'identique']],
  );
  assert.match(r.parents[0]?.raisons[0] ?? '', /correspond au déclarant 1 de l’avis \(AMINATA NDIAYE-FALL\) : même nom de naissance \(à l’écriture près/);
});

test('only a part of a compound name is a partial match sent to review, in either direction', () => {
  const partiel = seul({ nomNaissance: 'Ndiaye', prenoms: 'Aminata', dateNaissance: '1990-02-14' }, NDIAYE);
  assert.equal(partiel.verdict, 'a_verifier');
  assert.equal(partiel.parents[0]?.correspondances[0]?.nom, 'partiel');
  assert.match(tout(partiel), /le nom déclaré « Ndiaye » n’est qu’une partie du nom « NDIAYE-FALL » de l’avis/);

  const inverse = seul({ nomNaissance: 'Ndiaye Fall', prenoms: 'Aminata', dateNaissance: '1990-02-14' }, { ...NDIAYE, nomNaissance: 'NDIAYE' });
  assert.equal(inverse.verdict, 'a_verifier');
  assert.match(tout(inverse), /le nom « NDIAYE » de l’avis n’est qu’une partie du nom déclaré « Ndiaye Fall »/);

  // A particle alone is not a part of a name.
  const particule = seul({ nomNaissance: 'De', prenoms: 'Marc', dateNaissance: null }, { ...CHEVALIER, nomNaissance: 'DE LA TOUR' });
  assert.equal(particule.verdict, 'discordant');
});

test('a married woman may declare her usage name; the avis may or may not carry it', () => {
  const claire = { prenoms: 'Claire', dateNaissance: '1983-12-01' };
  // Birth name and usage name both declared, both on the avis.
  const complet = seul({ ...claire, nomNaissance: 'Roussel', nomUsage: 'Bertin' }, ROUSSEL);
  assert.equal(complet.verdict, 'concordant');
  // Only the usage name typed, in the birth-name field: it meets the usage name of the avis.
  const usage = seul({ ...claire, nomNaissance: 'Bertin' }, ROUSSEL);
  assert.equal(usage.verdict, 'concordant');
  assert.match(tout(usage), /nom de naissance déclaré identique au nom d’usage de l’avis/);
  // The avis has no usage name: first name and birth date agree, the surname does not — review.
  const sansUsage = seul({ ...claire, nomNaissance: 'Bertin' }, { ...ROUSSEL, nomUsage: null });
  assert.equal(sansUsage.verdict, 'a_verifier');
  assert.match(tout(sansUsage), /nom différent \(déclaré « Bertin », sur l’avis « ROUSSEL »\) : changement de nom ou nom d’usage possible/);
});

test('first names: the declared one must be among those of the avis, composed names in any spelling', () => {
  const cas: [string, string, string, 'concordant' | 'a_verifier' | 'discordant'][] = [
    ['Paul', 'PAUL HENRI', 'premier', 'concordant'],
    ['Paul Henri', 'PAUL HENRI', 'premier', 'concordant'],
    ['Henri', 'PAUL HENRI', 'autre', 'concordant'],
    ['Jean Pierre', 'JEAN-PIERRE', 'premier', 'concordant'],
    ['Jean-Pierre', 'JEAN PIERRE MARIE', 'premier', 'concordant'],
    ['Jean', 'JEAN-PIERRE MARIE', 'partiel', 'a_verifier'],
    ['Pierre', 'JEAN-PIERRE', 'partiel', 'a_verifier'],
    ['Marie Jean', 'JEAN MARIE', 'partiel', 'a_verifier'],
    ['Hélène', 'HELENE', 'premier', 'concordant'],
    ['Lucie', 'PAUL HENRI', 'different', 'a_verifier'],
  ];
  for (const [declare, avis, niveau, verdict] of cas) {
    const r = seul({ nomNaissance: 'Bertin', prenoms: declare, dateNaissance: '1981-04-09' }, { ...BERTIN, prenoms: avis });
    assert.equal(r.verdict, verdict, `${declare} / ${avis}`);
    if (verdict !== 'discordant') assert.equal(r.foyers[0]?.correspondances[0]?.prenom, niveau, `${declare} / ${avis}`);
  }
  assert.match(
    tout(seul({ nomNaissance: 'Bertin', prenoms: 'Henri', dateNaissance: '1981-04-09' }, BERTIN)),
    /est le 2e prénom de l’avis \(« PAUL HENRI »\), pas le premier/,
  );
});

test('a differing birth date is a mismatch, explained without copying the date of the avis', () => {
  const r = seul({ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-07-19' }, GARNIER);
  assert.equal(r.verdict, 'discordant');
  assert.deepEqual(r.parents[0]?.correspondances, []);
  assert.equal(r.parents[0]?.verdict, 'discordant');
  const texte = tout(r);
  assert.match(texte, /a les mêmes nom et prénom, mais une date de naissance différente de celle déclarée \(19 juillet 1992\)/);
  assert.ok(!texte.includes('1992-09-17') && !texte.includes('17 septembre'), 'la date de l’avis ne doit pas être recopiée');
});

test('an unknown birth date on either side is noted; it sends to review only when the commune requires it', () => {
  const sansDateAvis = seul({ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' }, { ...GARNIER, dateNaissance: null });
  assert.equal(sansDateAvis.verdict, 'concordant');
  assert.match(tout(sansDateAvis), /date de naissance absente de l’avis, donc non comparée/);
  const sansDateDeclaree = seul({ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: null }, GARNIER);
  assert.equal(sansDateDeclaree.verdict, 'concordant');
  assert.match(tout(sansDateDeclaree), /date de naissance non déclarée par la famille/);
  const exige = controlerIdentite({ parents: [julie], foyers: [foyerFiscal([{ ...GARNIER, dateNaissance: null }])] }, { exigerDateNaissance: true });
  assert.equal(exige.verdict, 'a_verifier');
});

test('same surname and birth date but another first name (a twin?) goes to review, not through', () => {
  const r = seul({ nomNaissance: 'Garnier', prenoms: 'Justine', dateNaissance: '1992-09-17' }, GARNIER);
  assert.equal(r.verdict, 'a_verifier');
  assert.equal(r.parents[0]?.correspondances[0]?.prenom, 'different');
});

test('someone else’s numéro fiscal: the avis concerns none of the parents, it is discordant and names who it concerns', () => {
  const r = controlerIdentite({ parents: [julie], foyers: [foyerFiscal([BERTIN, ROUSSEL])] });
  assert.equal(r.verdict, 'discordant');
  assert.deepEqual(r.foyers[0]?.declarantsNonReconnus, [1, 2]);
  assert.match(
    r.foyers[0]?.raisons[0] ?? '',
    /Aucun des parents déclarés ne figure sur l’avis, qui concerne PAUL HENRI BERTIN et CLAIRE ANNE ROUSSEL \(nom d’usage BERTIN\) : le numéro fiscal saisi est peut-être celui d’une autre personne\./,
  );
  assert.match(r.raisons[0] ?? '', /a échoué/);
});

// ---------------------------------------------------------------------------------------------
// Table: which parents must be found

test('married or pacsed couple in one foyer: both declared parents must be found, in any order on the avis', () => {
  const marc = titulaire({ nomNaissance: 'CHEVALIER', prenoms: 'Marc', dateNaissance: '1988-06-30' });
  const aminata = autreParent({ nomNaissance: 'Ndiaye-Fall', prenoms: 'Aminata', dateNaissance: '1990-02-14' });
  const [attendus] = parentsAttendusParFoyerFiscal('couple_un_foyer');
  for (const declarants of [
    [CHEVALIER, NDIAYE],
    [NDIAYE, CHEVALIER],
  ]) {
    const r = controlerIdentite({ parents: [aminata, marc], foyers: [foyerFiscal(declarants, attendus)] });
    assert.equal(r.verdict, 'concordant');
    assert.deepEqual(
      r.parents.map((p) => [p.role, p.verdict]),
      [
        ['titulaire', 'concordant'],
        ['autre_parent', 'concordant'],
      ],
    );
    const parRole = Object.fromEntries(r.foyers[0]?.correspondances.map((c) => [c.role, declarants[c.declarant - 1]?.nomNaissance]) ?? []);
    assert.deepEqual(parRole, { titulaire: 'CHEVALIER', autre_parent: 'NDIAYE-FALL' });
  }
});

test('couple declared together but the avis has one declarant (union after the income year): review', () => {
  const r = controlerIdentite({ parents: [julie, thomas], foyers: [foyerFiscal([GARNIER], ['titulaire', 'autre_parent'])] });
  assert.equal(r.verdict, 'a_verifier');
  assert.equal(r.parents[1]?.verdict, 'discordant');
  assert.match(tout(r), /Thomas Moreau \(autre parent\) était attendu\(e\) sur l’avis mais n’y a pas été reconnu\(e\)/);
});

test('couple declared together, the second declarant of the avis is someone else: review', () => {
  const r = controlerIdentite({ parents: [julie, thomas], foyers: [foyerFiscal([GARNIER, CHEVALIER], ['titulaire', 'autre_parent'])] });
  assert.equal(r.verdict, 'a_verifier');
  assert.deepEqual(r.foyers[0]?.declarantsNonReconnus, [2]);
});

test('single parent: the holder must be found; an undeclared second declarant (new spouse) goes to review', () => {
  const [attendus] = parentsAttendusParFoyerFiscal('parent_seul');
  assert.equal(controlerIdentite({ parents: [julie], foyers: [foyerFiscal([GARNIER], attendus)] }).verdict, 'concordant');
  const recompose = controlerIdentite({ parents: [julie], foyers: [foyerFiscal([CHEVALIER, GARNIER], attendus)] });
  assert.equal(recompose.verdict, 'a_verifier');
  assert.match(tout(recompose), /Le déclarant 1 de l’avis, MARC CHEVALIER, n’est aucun des parents déclarés : ses revenus comptent dans ce foyer fiscal\./);
});

test('a parent declared as living apart who appears on the holder’s avis goes to review', () => {
  const r = controlerIdentite({ parents: [julie, thomas], foyers: [foyerFiscal([GARNIER, MOREAU], ['titulaire'])] });
  assert.equal(r.verdict, 'a_verifier');
  assert.equal(r.parents[1]?.verdict, 'a_verifier');
  assert.match(tout(r), /alors que la famille ne l’a pas déclaré\(e\) dans ce foyer fiscal/);
  // Living apart and absent from the avis: nothing to control for them.
  const apart = controlerIdentite({ parents: [julie, thomas], foyers: [foyerFiscal([GARNIER], ['titulaire'])] });
  assert.equal(apart.verdict, 'concordant');
  assert.equal(apart.parents[1]?.verdict, 'non_concerne');
});

test('unmarried parents: two foyers, each matched to its parent', () => {
  const attendus = parentsAttendusParFoyerFiscal('parents_deux_foyers');
  const r = controlerIdentite({ parents: [julie, thomas], foyers: [foyerFiscal([GARNIER], attendus[0]), foyerFiscal([MOREAU], attendus[1])] });
  assert.equal(r.verdict, 'concordant');
  assert.deepEqual(
    r.parents.flatMap((p) => p.correspondances.map((c) => [p.role, c.foyer, c.declarant])),
    [
      ['titulaire', 1, 1],
      ['autre_parent', 2, 1],
    ],
  );
  assert.match(r.parents[1]?.raisons[0] ?? '', /Thomas Moreau \(autre parent\) correspond au déclarant 1 du second avis/);
});

test('unmarried parents: numéros swapped, the same joint avis twice, or a stranger’s avis', () => {
  const inverse = controlerIdentite({ parents: [julie, thomas], foyers: [foyerFiscal([MOREAU], ['titulaire']), foyerFiscal([GARNIER], ['autre_parent'])] });
  assert.equal(inverse.verdict, 'a_verifier');
  assert.match(tout(inverse), /les numéros fiscaux ont peut-être été intervertis/);

  const deuxFois = controlerIdentite({
    parents: [julie, thomas],
    foyers: [foyerFiscal([GARNIER, MOREAU], ['titulaire']), foyerFiscal([MOREAU, GARNIER], ['autre_parent'])],
  });
  assert.equal(deuxFois.verdict, 'a_verifier');
  assert.ok(deuxFois.raisons.some((r) => /figure sur les deux avis : le même foyer fiscal a peut-être été interrogé deux fois/.test(r)));

  const etranger = controlerIdentite({ parents: [julie, thomas], foyers: [foyerFiscal([GARNIER], ['titulaire']), foyerFiscal([CHEVALIER], ['autre_parent'])] });
  assert.equal(etranger.verdict, 'discordant');
  assert.deepEqual(
    etranger.foyers.map((f) => f.verdict),
    ['concordant', 'discordant'],
  );
});

// ---------------------------------------------------------------------------------------------
// Input, output hygiene

test('incoherent inputs are refused with the path of each problem', () => {
  assert.deepEqual(
    invalidDetails({ parents: [julie, { ...thomas, role: 'titulaire' }], foyers: [foyerFiscal([GARNIER])] }).map((d) => d.path),
    ['parents[1].role'],
  );
  assert.deepEqual(
    invalidDetails({ parents: [julie], foyers: [foyerFiscal([GARNIER], ['autre_parent'])] }).map((d) => d.path),
    ['foyers[0].parentsAttendus[0]'],
  );
  assert.deepEqual(invalidDetails({ parents: [julie, thomas], foyers: [foyerFiscal([GARNIER], ['titulaire']), foyerFiscal([MOREAU], ['titulaire'])] }), [
    { path: 'foyers[1].parentsAttendus[0]', message: 'le parent « titulaire » ne peut être attendu que dans un seul foyer' },
  ]);
  assert.deepEqual(invalidDetails({ parents: [{ ...julie, nomNaissance: ' - ' }], foyers: [foyerFiscal([GARNIER])] }), [
    { path: 'parents[0].nomNaissance', message: 'doit contenir au moins une lettre' },
  ]);
  assert.deepEqual(
    invalidDetails({ parents: [{ ...julie, dateNaissance: '1992-02-30' }], foyers: [foyerFiscal([GARNIER])] }).map((d) => d.path),
    ['parents[0].dateNaissance'],
  );
  assert.deepEqual(
    invalidDetails({ parents: [], foyers: [] }).map((d) => d.path),
    ['parents', 'foyers'],
  );
  assert.deepEqual(
    invalidDetails(null).map((d) => d.path),
    ['(racine)'],
  );
});

test('a whole situation may be passed as a foyer: no fiscal value reaches the result, which is frozen', () => {
  const situation = createSituationFiscale(avisInput({ rfr: 48_123, adresse: '12 RUE DES LILAS 44000 NANTES', declarants: [GARNIER] }));
  const r = controlerIdentite({ parents: [julie], foyers: [{ ...situation, parentsAttendus: ['titulaire'] }] });
  assert.equal(r.verdict, 'concordant');
  const texte = tout(r);
  for (const interdit of ['48123', '48 123', 'LILAS', '1992-09-17']) assert.ok(!texte.includes(interdit), interdit);
  assert.ok(Object.isFrozen(r) && Object.isFrozen(r.parents[0]) && Object.isFrozen(r.foyers[0]?.correspondances));
});

// ---------------------------------------------------------------------------------------------
// Properties

const date = fc
  .date({ min: new Date('1930-01-01T00:00:00Z'), max: new Date('2010-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const prenomsAvis = fc.array(nomAvis, { minLength: 1, maxLength: 3 }).map((p) => p.join(' '));
const declarant: fc.Arbitrary<Declarant> = fc.record({
  nomNaissance: nomAvis,
  nomUsage: fc.option(nomAvis, { nil: null }),
  prenoms: prenomsAvis,
  dateNaissance: date,
});

/** A parent as a person would type the declarant: any case, accents, hyphens, one or all first names. */
function saisie(d: Declarant, role: RoleParent): fc.Arbitrary<ParentDeclare> {
  const premier = d.prenoms.split(' ')[0] as string;
  return fc.record({
    role: fc.constant(role),
    nomNaissance: d.nomUsage ? fc.oneof(variante(d.nomNaissance), variante(d.nomUsage)) : variante(d.nomNaissance),
    nomUsage: fc.constant(null),
    prenoms: fc.oneof(variante(premier), variante(d.prenoms)),
    dateNaissance: fc.constant(d.dateNaissance),
  });
}

test('property: a declarant typed with any case, accents or hyphens always matches itself', () => {
  fc.assert(
    fc.property(
      declarant.chain((d) => fc.tuple(fc.constant(d), saisie(d, 'titulaire'))),
      ([d, parent]) => {
        const r = controlerIdentite({ parents: [parent], foyers: [foyerFiscal([d])] });
        assert.equal(r.verdict, 'concordant', tout(r));
        assert.equal(r.parents[0]?.correspondances[0]?.declarant, 1);
      },
    ),
    { numRuns: 500 },
  );
});

test('property: a couple typed loosely is found on its joint avis, whatever the order of the declarants', () => {
  const couple = fc
    .tuple(declarant, declarant)
    .filter(([a, b]) => a.dateNaissance !== b.dateNaissance)
    .chain(([a, b]) => fc.tuple(fc.constant([a, b] as const), saisie(a, 'titulaire'), saisie(b, 'autre_parent'), fc.boolean()));
  fc.assert(
    fc.property(couple, ([[a, b], pa, pb, inverse]) => {
      const declarants = inverse ? [b, a] : [a, b];
      const r = controlerIdentite({ parents: [pa, pb], foyers: [foyerFiscal(declarants, ['titulaire', 'autre_parent'])] });
      assert.equal(r.verdict, 'concordant', tout(r));
      const trouve = (role: RoleParent) => declarants[(r.foyers[0]?.correspondances.find((c) => c.role === role)?.declarant ?? 0) - 1];
      assert.equal(trouve('titulaire'), a);
      assert.equal(trouve('autre_parent'), b);
    }),
    { numRuns: 300 },
  );
});

test('property: changing the birth date always breaks the match', () => {
  fc.assert(
    fc.property(
      declarant.chain((d) =>
        fc.tuple(
          fc.constant(d),
          saisie(d, 'titulaire'),
          date.filter((x) => x !== d.dateNaissance),
        ),
      ),
      ([d, parent, autreDate]) => {
        const r = controlerIdentite({ parents: [{ ...parent, dateNaissance: autreDate }], foyers: [foyerFiscal([d])] });
        assert.equal(r.verdict, 'discordant');
        assert.deepEqual(r.parents[0]?.correspondances, []);
        assert.ok(!tout(r).includes(d.dateNaissance as string));
      },
    ),
    { numRuns: 300 },
  );
});

// A small pool so that random families and avis often share people.
const pool: Declarant[] = [BERTIN, ROUSSEL, CHEVALIER, NDIAYE, GARNIER, MOREAU];
const personne = fc.constantFrom(...pool);
const parentDe = (role: RoleParent) =>
  personne.chain((d) =>
    fc.oneof(
      saisie(d, role),
      fc.record({
        role: fc.constant(role),
        nomNaissance: fc.constantFrom('Garnier', 'Ndiaye', 'Bertin'),
        nomUsage: fc.constant(null),
        prenoms: fc.constantFrom('Julie', 'Claire', 'Henri', 'Marc'),
        dateNaissance: fc.option(fc.constantFrom(...pool.map((p) => p.dateNaissance as string)), { nil: null }),
      }),
    ),
  );
const avisAleatoire = fc.array(
  fc.oneof(
    personne,
    personne.map((d) => ({ ...d, dateNaissance: null })),
  ),
  { minLength: 1, maxLength: 2 },
);

const famille: fc.Arbitrary<EntreeControleIdentite> = fc.oneof(
  fc.tuple(parentDe('titulaire'), avisAleatoire).map(([p, a]) => ({ parents: [p], foyers: [foyerFiscal(a, ['titulaire'])] })),
  fc
    .tuple(parentDe('titulaire'), parentDe('autre_parent'), avisAleatoire)
    .map(([p, q, a]) => ({ parents: [p, q], foyers: [foyerFiscal(a, ['titulaire', 'autre_parent'])] })),
  fc.tuple(parentDe('titulaire'), parentDe('autre_parent'), avisAleatoire, avisAleatoire).map(([p, q, a, b]) => ({
    parents: [p, q],
    foyers: [foyerFiscal(a, ['titulaire']), foyerFiscal(b, ['autre_parent'])],
  })),
);

function resume(r: ResultatControleIdentite, foyersFiscaux: readonly FoyerFiscalAControler[]) {
  return {
    verdict: r.verdict,
    parents: r.parents.map((p) => ({
      role: p.role,
      verdict: p.verdict,
      // Who was found, by identity rather than by position on the avis.
      trouves: p.correspondances.map((c) => [c.foyer, c.verdict, foyersFiscaux[c.foyer - 1]?.declarants[c.declarant - 1]]),
    })),
  };
}

test('property: deterministic, and independent of the order of the parents and of the declarants on each avis', () => {
  fc.assert(
    fc.property(famille, (e) => {
      const r = controlerIdentite(e);
      assert.deepEqual(controlerIdentite(e), r);
      const permute: EntreeControleIdentite = {
        parents: [...e.parents].reverse(),
        foyers: e.foyers.map((f) => ({ ...f, declarants: [...f.declarants].reverse() })),
      };
      const r2 = controlerIdentite(permute);
      assert.equal(r2.verdict, r.verdict);
      assert.deepEqual(
        r2.foyers.map((f) => f.verdict),
        r.foyers.map((f) => f.verdict),
      );
      const ambigu = r.foyers.some((f) => f.raisons.some((x) => x.startsWith('Plusieurs déclarants')));
      if (!ambigu) assert.deepEqual(resume(r2, permute.foyers), resume(r, e.foyers));
      else
        assert.deepEqual(
          r2.parents.map((p) => p.verdict),
          r.parents.map((p) => p.verdict),
        );
    }),
    { numRuns: 1000 },
  );
});

test('property: the order of the two foyers only renumbers them', () => {
  fc.assert(
    fc.property(
      famille.filter((e) => e.foyers.length === 2),
      (e) => {
        const r = controlerIdentite(e);
        const r2 = controlerIdentite({ ...e, foyers: [...e.foyers].reverse() });
        assert.equal(r2.verdict, r.verdict);
        assert.deepEqual(
          r2.foyers.map((f) => f.verdict).reverse(),
          r.foyers.map((f) => f.verdict),
        );
        assert.deepEqual(
          r2.parents.map((p) => p.verdict),
          r.parents.map((p) => p.verdict),
        );
      },
    ),
    { numRuns: 500 },
  );
});

test('property: verdicts are coherent — an avis without any parent is discordant, concordant means every expected parent found', () => {
  fc.assert(
    fc.property(famille, (e) => {
      const r = controlerIdentite(e);
      for (const f of r.foyers) {
        if (f.correspondances.length === 0) assert.equal(f.verdict, 'discordant');
        if (f.verdict === 'concordant') {
          assert.deepEqual([...f.correspondances.map((c) => c.role)].sort(), [...f.parentsAttendus].sort());
          assert.ok(f.correspondances.every((c) => c.verdict === 'concordant' && c.attendu));
          assert.deepEqual(f.declarantsNonReconnus, []);
        }
      }
      const pire = r.foyers.some((f) => f.verdict === 'discordant')
        ? 'discordant'
        : r.foyers.every((f) => f.verdict === 'concordant') && r.parents.every((p) => p.verdict === 'concordant' || p.verdict === 'non_concerne')
          ? 'concordant'
          : 'a_verifier';
      assert.equal(r.verdict, pire);
      // No ISO date of any avis is ever copied into the sentences.
      assert.ok(!/[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(tout(r)));
    }),
    { numRuns: 1000 },
  );
});

test('property: arbitrary text never crashes the control; it answers or refuses with a typed error', () => {
  const texte = fc.string({ unit: 'grapheme', maxLength: 30 });
  fc.assert(
    fc.property(texte, texte, texte, texte, (n, p, dn, dp) => {
      try {
        const r = controlerIdentite({
          parents: [titulaire({ nomNaissance: n, prenoms: p, dateNaissance: null })],
          foyers: [foyerFiscal([{ nomNaissance: dn, nomUsage: null, prenoms: dp, dateNaissance: null }])],
        });
        assert.ok(['concordant', 'a_verifier', 'discordant'].includes(r.verdict));
      } catch (error) {
        assert.ok(error instanceof QuotientError && error.code === 'controle_identite_invalide', String(error));
      }
    }),
  );
});

test('motifsControleIdentite lists each sentence once, summary first; ranks and roles convert both ways', () => {
  const r = controlerIdentite({
    parents: [julie, thomas],
    foyers: [foyerFiscal([GARNIER, MOREAU], ['titulaire']), foyerFiscal([MOREAU, GARNIER], ['autre_parent'])],
  });
  const motifs = motifsControleIdentite(r);
  assert.equal(motifs[0], r.raisons[0]);
  assert.equal(new Set(motifs).size, motifs.length);
  for (const p of r.parents) for (const raison of p.raisons) assert.ok(motifs.includes(raison));
  assert.equal(motifs.filter((m) => /figure sur les deux avis/.test(m)).length, 2);
  assert.deepEqual([roleParent(1), roleParent(2)], ['titulaire', 'autre_parent']);
  assert.deepEqual([RANG_PARENT.titulaire, RANG_PARENT.autre_parent], [1, 2]);
});
