import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuotientError } from './errors.ts';
import { eurosToCents } from './money.ts';
import { MESSAGE_EAJE_DGFIP, parsePolitiqueTarifaire, type PolitiqueTarifaire, type PolitiqueTarifaireInput } from './politique-tarifaire.ts';
import { baseFromSimulation, champsIgnores, computeQuotientFamilial } from './quotient-familial.ts';
import { gridPrice, highestPrice, priceActivite, prixParEnfant, rangsEnfants, type DemandeTarif } from './tarification.ts';
import { politiqueInput, withChanges } from './test-support.ts';

const qf = (euros: number) => ({ cents: eurosToCents(euros) ?? Number.NaN });

function refusal(input: unknown): Map<string, string> {
  try {
    parsePolitiqueTarifaire(input);
  } catch (error) {
    assert.ok(error instanceof QuotientError, String(error));
    return new Map(error.details.map((d) => [d.path, d.message]));
  }
  assert.fail('la politique aurait dû être refusée');
}

/** The Roncq canteen: eight brackets, a flat non-resident price, +2,50 € for a late registration. */
function roncq(extra: Partial<PolitiqueTarifaireInput> = {}): PolitiqueTarifaire {
  const base = politiqueInput();
  return parsePolitiqueTarifaire({
    ...base,
    activites: [
      {
        id: 'restauration',
        libelle: 'Restauration scolaire',
        unite: 'repas',
        prixNonResident: 6.5,
        grille: {
          type: 'tranches',
          borneIncluse: 'min',
          tranches: [
            { code: 1, min: 0, max: 400, prix: 0.5 },
            { code: 2, min: 400, max: 640, prix: 1.75 },
            { code: 3, min: 640, max: 860, prix: 2.35 },
            { code: 4, min: 860, max: 1150, prix: 3.05 },
            { code: 5, min: 1150, max: 1500, prix: 3.55 },
            { code: 6, min: 1500, max: 1700, prix: 4.05 },
            { code: 7, min: 1700, max: 1900, prix: 4.6 },
            { code: 8, min: 1900, prix: 4.9 },
          ],
        },
      },
      { id: 'etude', libelle: 'Étude surveillée', unite: 'seance', grille: { type: 'taux-effort', taux: 0.2, plancher: 1, plafond: 3 } },
    ],
    regles: [{ libelle: 'Inscription hors délai', si: { inscriptionTardive: true }, activites: ['restauration'], ajout: 2.5 }],
    ...extra,
  });
}

const prix = (p: PolitiqueTarifaire, id: string, d: DemandeTarif) => {
  const a = p.activites.find((x) => x.id === id);
  assert.ok(a);
  return priceActivite(p, a, d);
};

test('Roncq: a late registration adds 2,50 € to the resident price and to the flat non-resident price, only on the canteen', () => {
  const p = roncq();
  const aTemps = prix(p, 'restauration', { quotient: qf(1899.99), resident: true });
  assert.equal(aTemps.cents, 460);
  assert.deepEqual(aTemps.regles, []);
  const tard = prix(p, 'restauration', { quotient: qf(1899.99), resident: true, inscriptionTardive: true });
  assert.equal(tard.cents, 710);
  assert.deepEqual(tard.regles, [{ libelle: 'Inscription hors délai', effetCents: 250 }]);
  assert.match(tard.explication, /Inscription hors délai : \+ 2,50\u00a0€, soit 7,10\u00a0€\.$/);
  assert.equal(prix(p, 'restauration', { quotient: qf(1900), resident: true, inscriptionTardive: true }).cents, 740);
  assert.equal(prix(p, 'restauration', { quotient: qf(300), resident: false, inscriptionTardive: true }).cents, 900);
  // Not for the other activity: the rule names the canteen only.
  assert.equal(prix(p, 'etude', { quotient: qf(1000), resident: true, inscriptionTardive: true }).cents, 200);
  // Without a QF: the highest price, and the surcharge on top.
  assert.equal(prix(p, 'restauration', { quotient: null, resident: true, inscriptionTardive: true }).cents, 740);
});

test('a non-resident surcharge in percent, a sibling reduction by rank range and a remise never below 0 €', () => {
  const p = roncq({
    regles: [
      { libelle: 'Hors commune', si: { resident: false }, activites: ['etude'], majoration: 20 },
      { libelle: 'Deuxième enfant', si: { rangMin: 2, rangMax: 2 }, reduction: 10 },
      { libelle: 'À partir du troisième enfant', si: { rangMin: 3 }, remise: 5 },
    ],
  });
  // Étude 0,2 % × 1 000 € = 2,00 €: +20 % for a non-resident (no flat price for it).
  assert.equal(prix(p, 'etude', { quotient: qf(1000), resident: false }).cents, 240);
  assert.equal(prix(p, 'etude', { quotient: qf(1000), resident: true }).cents, 200);
  // Ranks 1, 2, 3 at the boundaries of the ranges.
  assert.equal(prix(p, 'restauration', { quotient: qf(640), resident: true, rangEnfant: 1 }).cents, 235);
  assert.equal(prix(p, 'restauration', { quotient: qf(640), resident: true, rangEnfant: 2 }).cents, 212); // 2,115 → plus proche
  assert.equal(prix(p, 'restauration', { quotient: qf(640), resident: true, rangEnfant: 3 }).cents, 0);
  assert.equal(prix(p, 'etude', { quotient: qf(1000), resident: false, rangEnfant: 2 }).cents, 216);
});

test('a rule with no effect, two effects, an unknown activity or reversed ranks is refused with a French message', () => {
  const base = politiqueInput();
  const errors = refusal({
    ...base,
    regles: [
      { libelle: 'Rien', si: { inscriptionTardive: true } },
      { libelle: 'Deux', ajout: 1, reduction: 10 },
      { libelle: 'Inconnue', activites: ['piscine'], ajout: 1 },
      { libelle: 'Rangs', si: { rangMin: 3, rangMax: 2 }, reduction: 10 },
    ],
  });
  assert.match(errors.get('regles[0]') ?? '', /indiquez l’effet de la règle/);
  assert.match(errors.get('regles[1]') ?? '', /« ajout » et « reduction »/);
  assert.match(errors.get('regles[2].activites[0]') ?? '', /« piscine ».*« restauration », « accueil-soir »/);
  assert.match(errors.get('regles[3].si.rangMax') ?? '', /inférieur au rang minimum/);
});

/** Paris-like grid: it stops at 5 000 €; a higher QF pays the top bracket's price. */
function plafonnee(borneIncluse: 'min' | 'max'): PolitiqueTarifaire {
  const p = politiqueInput() as unknown as { activites: { grille: unknown }[] };
  p.activites[1]!.grille = {
    type: 'tranches',
    borneIncluse,
    derniereTranche: 'plafonnee',
    tranches: [
      { code: 1, min: 0, max: 234, prix: 0.13 },
      { code: 2, min: 234, max: 5000, prix: 5 },
    ],
  };
  return parsePolitiqueTarifaire(p);
}

test('a capped top bracket: at, just below and above its maximum, under both conventions', () => {
  for (const borne of ['min', 'max'] as const) {
    const p = plafonnee(borne);
    const at = (euros: number) => prix(p, 'accueil-soir', { quotient: qf(euros), resident: true });
    assert.equal(at(4999.99).tranche, '2');
    assert.equal(at(5000).tranche, '2');
    const above = at(5000.01);
    assert.equal(above.tranche, '2');
    assert.equal(above.cents, 500);
    assert.match(above.explication, /au-delà de 5\u00a0000\u00a0€, plafond de la grille/);
    assert.equal(at(1_000_000).cents, 500);
  }
  // The option is explicit: a closed last bracket without it, or the option without a maximum, is refused.
  const p = politiqueInput() as unknown as { activites: { grille: { tranches: Array<Record<string, unknown>>; derniereTranche?: string } }[] };
  p.activites[1]!.grille.tranches[2]!.max = 500;
  assert.match(refusal(p).get('activites[1].grille.tranches[2].max') ?? '', /derniereTranche: plafonnee/);
  delete p.activites[1]!.grille.tranches[2]!.max;
  p.activites[1]!.grille.derniereTranche = 'plafonnee';
  assert.match(refusal(p).get('activites[1].grille.tranches[2].max') ?? '', /champ obligatoire avec « derniereTranche: plafonnee »/);
});

test('property: a capped grid gives every QF a price, never above the highest, never decreasing', () => {
  fc.assert(
    fc.property(fc.constantFrom('min' as const, 'max' as const), fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 100_000 }), (b, c, more) => {
      const grille = plafonnee(b).activites[1]!.grille;
      const low = gridPrice(grille, c, 'plus-proche');
      const high = gridPrice(grille, c + more, 'plus-proche');
      assert.ok(low.tranche && high.tranche);
      assert.ok(low.cents <= high.cents && high.cents <= highestPrice(grille));
    }),
  );
});

test('property: rules keep prices non-decreasing in the QF and never negative, for every kind of request', () => {
  const p = roncq({
    regles: [
      { libelle: 'Tardive', si: { inscriptionTardive: true }, ajout: 2.5 },
      { libelle: 'Hors commune', si: { resident: false }, majoration: 12.5 },
      { libelle: 'Fratrie', si: { rangMin: 2 }, reduction: 33.3333 },
      { libelle: 'Aide', si: { rangMin: 4 }, remise: 1 },
    ],
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 600_000 }),
      fc.integer({ min: 0, max: 100_000 }),
      fc.record({ resident: fc.boolean(), inscriptionTardive: fc.boolean(), rangEnfant: fc.integer({ min: 1, max: 6 }) }),
      fc.constantFrom('restauration', 'etude'),
      (c, more, d, id) => {
        const low = prix(p, id, { ...d, quotient: { cents: c } });
        const high = prix(p, id, { ...d, quotient: { cents: c + more } });
        assert.ok(low.cents >= 0 && low.cents <= high.cents, `${low.cents} > ${high.cents}`);
      },
    ),
  );
});

/** Clamart-like: monthly resources declared by the family ÷ persons. */
function clamart(): PolitiqueTarifaire {
  return parsePolitiqueTarifaire(withChanges(politiqueInput(), { quotient: { formule: 'ressources-personnes', plusieursFoyers: 'refuser' } }));
}

test('Clamart: declared monthly resources added then divided by persons, said to be declared and whether checked', () => {
  const p = clamart();
  const base = baseFromSimulation({
    ressources: [
      { nature: 'salaire', euros: 2100.5 },
      { nature: 'allocations familiales', euros: 148.52 },
    ],
    nbPersonnes: 4,
  });
  const q = computeQuotientFamilial(p.quotient, base);
  assert.equal(q.cents, 56_225); // 2 249,02 ÷ 4 = 562,255 → centime inférieur
  assert.equal(q.origineRevenus, 'declaration');
  assert.equal(q.revenusVerifies, false);
  assert.match(
    q.explication,
    /ressources mensuelles déclarées par la famille \(salaire 2\u00a0100,50\u00a0€ \+ allocations familiales 148,52\u00a0€ = 2\u00a0249,02\u00a0€ ; pas encore vérifiées par un agent ; aucune donnée de la DGFiP\) ÷ 4 personnes/,
  );
  const verifie = computeQuotientFamilial(p.quotient, {
    ...base,
    ressources: { mensuelles: base.ressources!.mensuelles, verifieesPar: 'un agent du service enfance' },
  });
  assert.equal(verifie.revenusVerifies, true);
  assert.match(verifie.explication, /vérifiées par un agent du service enfance/);
  // A RFR is not resources: without resources, a French refusal naming the field.
  assert.throws(
    () => computeQuotientFamilial(p.quotient, baseFromSimulation({ rfr: 30_000, nbPersonnes: 3 })),
    (e) => e instanceof QuotientError && e.code === 'ressources_manquantes' && e.details[0]?.path === 'ressources',
  );
  // And a DGFiP formula without a RFR is refused too (no QF → use the default price instead).
  assert.throws(
    () => computeQuotientFamilial(politiqueInputParsed().quotient, baseFromSimulation({ nbParts: 2 })),
    (e) => e instanceof QuotientError && e.code === 'rfr_manquant',
  );
});

const politiqueInputParsed = () => parsePolitiqueTarifaire(politiqueInput());

test('options the formula ignores are named with the reason, for each formula', () => {
  const parts = politiqueInputParsed().quotient;
  assert.deepEqual(
    champsIgnores(parts, { rfr: 1, nbParts: 2, nbPersonnes: 3 }).map((c) => c.champ),
    ['nbPersonnes'],
  );
  assert.match(champsIgnores(parts, { rfr: 1, nbParts: 2, nbPersonnes: 3 })[0]!.raison, /« rfr-parts » ne divise pas par le nombre de personnes/);
  const personnes = parsePolitiqueTarifaire(withChanges(politiqueInput(), { quotient: { formule: 'revenu-personnes', plusieursFoyers: 'refuser' } })).quotient;
  assert.deepEqual(
    champsIgnores(personnes, { rfr: 1, nbParts: 2, nbPersonnes: 3 }).map((c) => c.champ),
    ['nbParts'],
  );
  assert.deepEqual(
    champsIgnores(personnes, { rfr: 1, nbPersonnes: 3, adultes: 2, enfants: 1 }).map((c) => c.champ),
    ['nbPersonnes'],
  );
  assert.deepEqual(
    champsIgnores(clamart().quotient, { rfr: 1, ressources: [{ nature: 'salaire', euros: 1 }], nbPersonnes: 2 }).map((c) => c.champ),
    ['rfr'],
  );
  assert.deepEqual(champsIgnores(parts, { rfr: 1, nbParts: 2 }), []);
});

test('a crèche (EAJE) activity is refused with a DGFiP formula, by its flag or by its name, and accepted on declared resources', () => {
  const avec = (activite: Record<string, unknown>, formule = 'rfr-parts') => {
    const p = withChanges(politiqueInput(), { quotient: { formule: formule as never, plusieursFoyers: 'refuser' } }) as unknown as { activites: unknown[] };
    p.activites.push({
      id: 'accueil-petite-enfance',
      libelle: 'Accueil des tout-petits',
      unite: 'heure',
      grille: { type: 'taux-effort', taux: 0.06, plancher: 0.2, plafond: 4 },
      ...activite,
    });
    return p;
  };
  for (const formule of ['rfr-parts', 'revenu-personnes']) {
    assert.equal(refusal(avec({ eaje: true }, formule)).get('activites[2].eaje'), MESSAGE_EAJE_DGFIP);
  }
  assert.equal(refusal(avec({ libelle: 'Multi-accueil des Hauts' })).get('activites[2].libelle'), MESSAGE_EAJE_DGFIP);
  assert.equal(refusal(avec({ id: 'creche-familiale' })).get('activites[2].libelle'), MESSAGE_EAJE_DGFIP);
  assert.match(MESSAGE_EAJE_DGFIP, /conditions d’utilisation de l’API excluent les EAJE/);
  assert.ok(parsePolitiqueTarifaire(avec({ eaje: true }, 'ressources-personnes')));
  assert.ok(parsePolitiqueTarifaire(avec({ eaje: false })));
});

test('children are ranked eldest first; a line per child and activity only where the price differs or the child alternates', () => {
  const p = roncq({ regles: [{ libelle: 'Deuxième enfant et suivants', si: { rangMin: 2 }, activites: ['restauration'], reduction: 20 }] });
  const enfants = [
    { prenoms: 'Zoé', dateNaissance: '2019-04-02', residence: 'exclusive' as const },
    { prenoms: 'Léo', dateNaissance: null, residence: 'exclusive' as const },
    { prenoms: 'Inès', dateNaissance: '2016-11-30', residence: 'alternee' as const },
  ];
  assert.deepEqual(
    rangsEnfants(enfants).map((e) => `${e.prenoms}:${e.rang}`),
    ['Inès:1', 'Zoé:2', 'Léo:3'],
  );
  const lignes = prixParEnfant(p, { quotient: qf(1000), resident: true }, enfants);
  assert.deepEqual(
    lignes.map((l) => `${l.enfant.prenoms}/${l.enfant.rang}/${l.id}/${l.cents}${l.enfant.residenceAlternee ? '/alternée' : ''}`),
    // Inès is first (no reduction) but alternates: both activities; Zoé and Léo: the canteen only (étude has no reduction).
    ['Inès/1/restauration/305/alternée', 'Inès/1/etude/200/alternée', 'Zoé/2/restauration/244', 'Léo/3/restauration/244'],
  );
  assert.match(lignes[0]!.explication, /résidence alternée : ce prix vaut pour les périodes où il vit dans ce foyer/);
  // No reduction, no alternating residence: the family's prices say everything.
  assert.deepEqual(prixParEnfant(roncq({ regles: [] }), { quotient: qf(1000), resident: true }, enfants.slice(0, 2)), []);
});
