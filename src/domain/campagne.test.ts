import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  ACTIONS_CAMPAGNE,
  ISSUES,
  STATUTS_CAMPAGNE,
  actionsPermises,
  compteursVides,
  estimerFin,
  issueDeDemande,
  progression,
  transitionCampagne,
  type StatutCampagne,
} from './campagne.ts';
import { STATUTS_DEMANDE } from './demande.ts';
import { isQuotientError } from './errors.ts';

test('a campaign is started once, paused and resumed, cancelled before its end, and never leaves its end', () => {
  assert.equal(transitionCampagne('brouillon', 'demarrer'), 'en_cours');
  assert.equal(transitionCampagne('en_cours', 'pause'), 'en_pause');
  assert.equal(transitionCampagne('en_pause', 'reprendre'), 'en_cours');
  assert.equal(transitionCampagne('en_pause', 'annuler'), 'annulee');
  assert.equal(transitionCampagne('en_cours', 'terminer'), 'terminee');
  assert.throws(
    () => transitionCampagne('terminee', 'reprendre'),
    (e) => isQuotientError(e) && e.kind === 'conflict' && /Impossible de reprendre une campagne au statut « Terminée »/.test(e.message),
  );
  for (const fin of ['annulee', 'terminee'] as const) assert.deepEqual(actionsPermises(fin), []);
  assert.deepEqual(actionsPermises('en_cours'), ['pause', 'annuler']);
  assert.deepEqual(actionsPermises('brouillon'), ['demarrer', 'annuler']);
});

test('every action from every status either moves the campaign or is a French conflict; nothing leaves annulee or terminee', () => {
  fc.assert(
    fc.property(fc.constantFrom(...STATUTS_CAMPAGNE), fc.constantFrom(...ACTIONS_CAMPAGNE), (de: StatutCampagne, action) => {
      try {
        const vers = transitionCampagne(de, action);
        assert.ok(de !== 'annulee' && de !== 'terminee');
        assert.ok(STATUTS_CAMPAGNE.includes(vers));
      } catch (error) {
        assert.ok(isQuotientError(error) && error.kind === 'conflict');
      }
    }),
  );
});

test('an item’s outcome follows its request: none while it is still to be called', () => {
  assert.equal(issueDeDemande('calculee', null), 'calcule');
  assert.equal(issueDeDemande('a_verifier', 'discordant'), 'a_verifier');
  assert.equal(issueDeDemande('echouee', 'etat_civil_ambigu'), 'etat_civil');
  assert.equal(issueDeDemande('echouee', 'echec'), 'echec');
  assert.equal(issueDeDemande('annulee', 'consentement_retire'), 'sans_accord');
  for (const s of ['consentie', 'en_file', 'en_cours', 'brouillon'] as const) assert.equal(issueDeDemande(s, null), null);
  for (const s of STATUTS_DEMANDE) {
    const issue = issueDeDemande(s, null);
    assert.ok(issue === null || ISSUES.includes(issue));
  }
});

test('progress counts each outcome once, and the estimate is never optimistic', () => {
  const parIssue = { ...compteursVides(), calcule: 7, etat_civil: 2, echec: 1 };
  const p = progression(20, parIssue);
  assert.deepEqual([p.traites, p.restants, p.echecs, p.pourcentage], [10, 10, 3, 50]);
  assert.equal(progression(3, { ...compteursVides(), calcule: 2 }).pourcentage, 66);
  const maintenant = Date.parse('2026-09-01T08:00:00Z');
  // 100 items, 2 calls each, 50 a minute of which families take 10: 200 / 40 = 5 minutes.
  assert.equal(estimerFin({ restants: 100, quotaParMinute: 50, appelsParElement: 2, appelsEnLigneParMinute: 10, maintenant }), maintenant + 5 * 60_000);
  assert.equal(estimerFin({ restants: 1, quotaParMinute: 50, appelsParElement: 1, maintenant }), maintenant + 60_000);
  assert.equal(estimerFin({ restants: 0, quotaParMinute: 50, appelsParElement: 1, maintenant }), null);
  assert.equal(estimerFin({ restants: 5, quotaParMinute: 50, appelsParElement: 1, appelsEnLigneParMinute: 50, maintenant }), null, 'no slot left to it');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 4 }), (restants, quota, appels) => {
      const fin = estimerFin({ restants, quotaParMinute: quota, appelsParElement: appels, maintenant }) as number;
      // At best `quota` calls a minute: never sooner than the physical limit.
      assert.ok(fin - maintenant >= ((restants * appels) / quota) * 60_000);
    }),
  );
});
