import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseConsentement } from './consentement.ts';
import {
  DUREE_RENOUVELLEMENT_MAX_ANS,
  ajouterAns,
  couvreRenouvellement,
  etatRenouvellement,
  exigerRenouvellement,
  parseConsentementRenouvellement,
  renouvellementDe,
  renouvellementEnVigueur,
  texteRenouvellement,
  type ConsentementRenouvellementInput,
} from './consentement-renouvellement.ts';
import { QuotientError } from './errors.ts';

const LIBELLES: Record<string, string> = {
  rfr: 'le revenu fiscal de référence',
  nbPart: 'le nombre de parts',
  sitFam: 'la situation de famille',
  'pac.nbPac': 'le nombre de personnes à charge',
};
const CHAMPS = Object.keys(LIBELLES);

const enLigne: ConsentementRenouvellementInput = {
  declarant: 'titulaire',
  donnePar: { type: 'famille', id: 'famille-42' },
  mode: 'en_ligne',
  recueilliLe: '2025-09-02T10:15:00+02:00',
  versionTexte: 'renouvellement-1',
  ressources: ['RessourceIR', 'api_r2p_resolution_spi'],
  donnees: CHAMPS,
  finalite: 'Calcul du quotient familial pour les tarifs des activités municipales',
  voie: 'etat_civil',
  dureeAns: 3,
};

const parse = (input: unknown, dureeMaxAns = 3) => parseConsentementRenouvellement(input, { libelles: LIBELLES, dureeMaxAns });

function refus(fn: () => unknown): QuotientError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof QuotientError, String(error));
    return error;
  }
  assert.fail('should have been refused');
}

test('a standing consent records who, how, when, which text, resources and data, the route, the duration, and derives its expiry in UTC', () => {
  const c = parse(enLigne);
  assert.equal(c.recueilliLe, '2025-09-02T08:15:00.000Z');
  assert.equal(c.expireLe, '2028-09-02T08:15:00.000Z');
  assert.equal(c.voie, 'etat_civil');
  assert.deepEqual(c.ressources, ['RessourceIR', 'api_r2p_resolution_spi']);
  assert.deepEqual(
    c.donnees.map((d) => d.libelle),
    Object.values(LIBELLES),
  );
  assert.equal(c.retireLe, null);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.donnees));
  assert.match(texteRenouvellement(3), /jusqu’à ce que je retire cet accord \(au plus 3 ans\)$/);
  assert.match(texteRenouvellement(1), /\(au plus 1 an\)$/);
});

test('a duration over the commune’s maximum, a signed form without its piece, an online consent by an agent: each field named in French', () => {
  const long = refus(() => parse({ ...enLigne, dureeAns: 4 }));
  assert.equal(long.code, 'consentement_renouvellement_invalide');
  assert.deepEqual(
    long.details.map((d) => d.path),
    ['dureeAns'],
  );
  assert.match(long.details[0]?.message ?? '', /au plus 3 ans, la durée maximale fixée par la commune/);
  // Never beyond the absolute cap, whatever the commune says.
  assert.match(refus(() => parse({ ...enLigne, dureeAns: 6 }, 9)).details[0]?.message ?? '', /au plus 5 ans/);
  const papier = refus(() => parse({ ...enLigne, mode: 'formulaire_signe' }));
  assert.deepEqual(papier.details.map((d) => d.path).sort(), ['donnePar.type', 'piece']);
  assert.deepEqual(
    refus(() => parse({ ...enLigne, donnePar: { type: 'agent', id: 'a' } })).details.map((d) => d.path),
    ['donnePar.type'],
  );
  assert.deepEqual(
    refus(() => parse({ ...enLigne, mode: 'courriel' })).details.map((d) => d.path),
    ['mode'],
    'an e-mail is not a signed text',
  );
  assert.deepEqual(
    refus(() => parse({ ...enLigne, donnees: ['rfr', 'revenuBrutGlobal'] })).details.map((d) => d.path),
    ['donnees[1].champ'],
  );
  assert.deepEqual(
    refus(() => parse({ ...enLigne, retireLe: '2025-09-01T00:00:00Z' })).details.map((d) => d.path),
    ['retireLe'],
  );
  const guichet = parse({ ...enLigne, mode: 'formulaire_signe', donnePar: { type: 'agent', id: 'agent-7' }, piece: 'Formulaire signé du 12/09/2025' });
  assert.equal(guichet.piece, 'Formulaire signé du 12/09/2025');
});

test('renouvellementDe: the standing consent that goes with a consent takes its author, mode, piece, instant, data and purpose', () => {
  const consentement = parseConsentement(
    {
      declarant: 'autre_parent',
      donnePar: { type: 'agent', id: 'agent-7' },
      mode: 'formulaire_signe',
      piece: 'Formulaire signé n° 12',
      recueilliLe: '2026-02-29T12:00:00Z'.replace('2026', '2024'),
      versionTexte: '2026-09',
      donnees: CHAMPS,
      finalite: 'Calcul du quotient familial',
    },
    { libelles: LIBELLES },
  );
  const r = renouvellementDe(consentement, { ressources: ['RessourceIR'], dureeAns: 1 }, { dureeMaxAns: 3 });
  assert.equal(r.declarant, 'autre_parent');
  assert.equal(r.piece, 'Formulaire signé n° 12');
  assert.equal(r.versionTexte, 'renouvellement-1');
  // One year after 29 February is 28 February: never a day longer than the year agreed.
  assert.equal(r.expireLe, '2025-02-28T12:00:00.000Z');
});

const instant = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2090-12-31T23:59:59Z'), noInvalidDate: true });

test('property: the expiry is never later than the duration agreed, and never more than a day short of it', () => {
  fc.assert(
    fc.property(instant, fc.integer({ min: 1, max: DUREE_RENOUVELLEMENT_MAX_ANS }), (d, ans) => {
      const debut = d.toISOString();
      const fin = ajouterAns(debut, ans);
      const ecart = Date.parse(fin) - Date.parse(debut);
      const annees = new Date(fin).getUTCFullYear() - d.getUTCFullYear();
      assert.equal(annees, ans);
      assert.ok(ecart <= ans * 366 * 86_400_000);
      assert.ok(ecart >= ans * 365 * 86_400_000 - 86_400_000);
      // Same calendar position, or 28 February for 29 February.
      assert.equal(fin.slice(4), debut.slice(4).replace('-02-29T', new Date(fin).getUTCDate() === 28 ? '-02-28T' : '-02-29T'));
    }),
  );
});

test('property: in force exactly from the consent to the first of expiry and withdrawal; once ended, never in force again', () => {
  fc.assert(
    fc.property(
      instant,
      fc.integer({ min: 1, max: 3 }),
      fc.option(fc.integer({ min: 0, max: 4 * 366 * 86_400 }), { nil: undefined }),
      fc.integer({ min: -86_400 * 400, max: 5 * 366 * 86_400 }),
      fc.integer({ min: 1, max: 366 * 86_400 }),
      (debut, dureeAns, retraitApres, decalage, plusTard) => {
        const recueilliLe = debut.toISOString();
        const retireLe = retraitApres === undefined ? null : new Date(debut.getTime() + retraitApres * 1000).toISOString();
        const c = parse({ ...enLigne, recueilliLe, dureeAns, retireLe });
        const le = new Date(debut.getTime() + decalage * 1000).toISOString();
        const t = Date.parse(le);
        const fin = Math.min(Date.parse(c.expireLe), retireLe === null ? Infinity : Date.parse(retireLe));
        assert.equal(renouvellementEnVigueur(c, le), t >= debut.getTime() && t < fin);
        const etat = etatRenouvellement(c, le);
        if (etat === 'retire' || etat === 'expire') {
          const ensuite = new Date(t + plusTard * 1000).toISOString();
          assert.equal(etatRenouvellement(c, ensuite), etat, 'an ended standing consent stays ended, for the same reason');
        }
        if (etat === 'retire') assert.ok(retireLe !== null && Date.parse(retireLe) <= t);
      },
    ),
  );
});

test('property: a renewal is covered only in force, for a year not older than the consent’s and already over, asking only listed data', () => {
  fc.assert(
    fc.property(
      instant,
      fc.integer({ min: -3 * 366 * 86_400, max: 4 * 366 * 86_400 }),
      fc.integer({ min: 1995, max: 2095 }),
      fc.subarray([...CHAMPS, 'aft'], { minLength: 0 }),
      (debut, decalage, anneeRevenus, champs) => {
        const c = parse({ ...enLigne, recueilliLe: debut.toISOString(), dureeAns: 3 });
        const le = new Date(debut.getTime() + decalage * 1000).toISOString();
        const couverture = couvreRenouvellement(c, { anneeRevenus, le, champs });
        const attendu =
          renouvellementEnVigueur(c, le) &&
          anneeRevenus >= debut.getUTCFullYear() - 1 &&
          anneeRevenus < new Date(le).getUTCFullYear() &&
          champs.length > 0 &&
          champs.every((x) => CHAMPS.includes(x));
        assert.equal(couverture.couvre, attendu, JSON.stringify({ le, anneeRevenus, champs, couverture }));
        if (couverture.couvre) assert.doesNotThrow(() => exigerRenouvellement(c, { anneeRevenus, le, champs }));
        else assert.throws(() => exigerRenouvellement(c, { anneeRevenus, le, champs }), QuotientError);
      },
    ),
  );
});

test('exigerRenouvellement says why in French: withdrawn, expired, a year before the consent, data not listed', () => {
  const c = parse({ ...enLigne, retireLe: '2026-03-01T00:00:00Z' });
  const appel = { anneeRevenus: 2025, le: '2026-08-01T00:00:00Z', champs: ['rfr'] };
  const retire = refus(() => exigerRenouvellement(c, appel));
  assert.equal(retire.kind, 'forbidden');
  assert.equal(retire.code, 'renouvellement_retire');
  assert.match(retire.message, /a été retiré/);
  const actif = parse(enLigne);
  assert.equal(refus(() => exigerRenouvellement(actif, { ...appel, le: '2028-09-02T08:15:00.000Z' })).code, 'renouvellement_expire');
  assert.equal(refus(() => exigerRenouvellement(actif, { ...appel, anneeRevenus: 2023 })).code, 'renouvellement_annee_anterieure');
  const donnees = refus(() => exigerRenouvellement(actif, { ...appel, champs: ['rfr', 'aft'] }));
  assert.equal(donnees.code, 'renouvellement_donnees_non_couvertes');
  assert.deepEqual(
    donnees.details.map((d) => d.message),
    ['donnée non couverte : aft'],
  );
  assert.equal(refus(() => exigerRenouvellement(actif, { ...appel, champs: [] })).kind, 'invalid');
  assert.doesNotThrow(() => exigerRenouvellement(actif, appel));
});
