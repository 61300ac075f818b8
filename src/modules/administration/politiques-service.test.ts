import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isQuotientError, type QuotientError } from '../../domain/errors.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { openJournal, tempDir } from '../audit/test-support.ts';
import { parsePolitiqueYaml } from '../tarifs/politique-loader.ts';
import { ID_CONFIGURATION, PolitiquesService } from './politiques-service.ts';

const FICHIER = new URL('../../../examples/boulogne-billancourt.yaml', import.meta.url).pathname;
const BOULOGNE = readFileSync(FICHIER, 'utf8');
const admin = { type: 'agent' as const, id: 'admin-1' };

/** Boulogne with another canteen rate and a délibération number, valid from `du`. */
const version = (taux: string, numero: string, du = '2024-09-01') =>
  BOULOGNE.replace('taux: 0.36 # % du quotient familial', `taux: ${taux}`)
    .replace('  date: 2022-12-01', `  numero: "${numero}"\n  date: 2022-12-01`)
    .replace('  du: 2024-09-01 # à confirmer', `  du: ${du}`);

const tauxCantine = (s: PolitiquesService, date: string) => {
  const g = s.enVigueur(date).activites[0]?.grille;
  return g?.type === 'taux-effort' ? g.taux : null;
};

async function rejects(promise: Promise<unknown>, code: string): Promise<QuotientError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isQuotientError(error), String(error));
    assert.equal(error.code, code, `${error.code} : ${error.message} ${JSON.stringify(error.details)}`);
    return error;
  }
  assert.fail(`expected ${code}`);
}

test('versions: deposited, refused with paths and lines, activated now or at a date, in force on their day, once journaled', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal } = await openJournal(database, tempDir(st));
    let now = Date.parse('2026-08-20T10:00:00+02:00');
    const deps = { db: database.db, journal, initiale: { politique: parsePolitiqueYaml(BOULOGNE), contenu: BOULOGNE, fichier: FICHIER }, clock: () => now };
    const s = await PolitiquesService.ouvrir(deps);
    assert.equal(s.versionEnVigueur('2026-08-20').id, ID_CONFIGURATION);
    assert.equal(tauxCantine(s, '2026-08-20'), 0.36);

    // Invalid: each problem with its path and the line of the YAML.
    const broken = BOULOGNE.replace('plafond: 7.20', 'plafond: 0.10').replace('unite: repas', 'unite: assiette');
    const invalid = await rejects(s.deposer({ libelle: '', contenu: broken }, admin), 'politique_tarifaire_invalide');
    const lineOf = (needle: string) => broken.split('\n').findIndex((l) => l.includes(needle)) + 1;
    assert.deepEqual(
      invalid.details.map((d) => d.path).sort(),
      [`activites[0].grille.plafond (ligne ${lineOf('plafond: 0.10')})`, `activites[0].unite (ligne ${lineOf('unite: assiette')})`].sort(),
    );
    await rejects(s.deposer({ libelle: '', contenu: 'format: 1\ncommune: [non fermé\n' }, admin), 'politique_yaml_invalide');
    await rejects(s.deposer({ libelle: '', contenu: '  \r\n' }, admin), 'politique_vide');
    // A crèche priced on the DGFiP's QF: refused at deposit, citing the restriction, on the line of the flag.
    const creche = BOULOGNE.replace('unite: repas', 'unite: repas\n    eaje: true');
    const eaje = await rejects(s.deposer({ libelle: '', contenu: creche }, admin), 'politique_tarifaire_invalide');
    assert.equal(eaje.details[0]?.path, `activites[0].eaje (ligne ${creche.split('\n').findIndex((l) => l.includes('eaje: true')) + 1})`);
    assert.match(eaje.details[0]?.message ?? '', /conditions d’utilisation de l’API excluent les EAJE/);

    // The CAF/MSA quotient: no route collects the family's consent yet, so such a policy is refused, journaled, nothing kept.
    const avantCaf = (await database.db.selectFrom('politique_versions').select('id').execute()).length;
    const cafSource = BOULOGNE.replace('  periode: mensuelle', '  periode: mensuelle\n  source: le-plus-favorable');
    assert.notEqual(cafSource, BOULOGNE);
    const caf = await rejects(s.deposer({ libelle: '', contenu: cafSource }, admin), 'source_caf_non_offerte');
    assert.match(caf.message, /^Le quotient de la CAF ou de la MSA n’est pas encore proposé aux familles : leur accord .* ne peut pas encore être recueilli/);
    assert.equal(caf.details[0]?.path, `quotient.source (ligne ${cafSource.split('\n').findIndex((l) => l.includes('source: le-plus')) + 1})`);
    assert.equal((await database.db.selectFrom('politique_versions').select('id').execute()).length, avantCaf);

    // A draft changes nothing; activated today it applies at once.
    const v1 = await s.deposer({ libelle: '', contenu: version('0.40', '2026-17') }, admin);
    assert.equal(v1.statut, 'brouillon');
    assert.equal(v1.libelle, 'Délibération n° 2026-17 du 1er décembre 2022');
    await rejects(s.deposer({ libelle: 'Copie', contenu: version('0.40', '2026-17') }, admin), 'politique_identique');
    assert.equal(tauxCantine(s, '2026-08-20'), 0.36);
    await rejects(s.activer(v1.id, '19/08/2026', admin), 'date_effet_invalide');
    await rejects(s.activer(v1.id, '31/02/2026', admin), 'date_effet_invalide');
    const active = await s.activer(v1.id, '20/08/2026', admin);
    assert.equal(active.statut, 'active');
    assert.equal(tauxCantine(s, '2026-08-20'), 0.4);
    assert.equal(tauxCantine(s, '2026-08-19'), 0.36, 'a request of yesterday keeps the policy of its day');
    assert.equal((await s.version(ID_CONFIGURATION)).statut, 'remplacee');
    await rejects(s.activer(v1.id, '21/08/2026', admin), 'politique_non_activable');

    // Scheduled for the new school year: not before its validity, in force on its day.
    const v2 = await s.deposer({ libelle: 'Tarifs 2026-2027', contenu: version('0.45', '2026-30', '2026-09-01') }, admin);
    await rejects(s.activer(v2.id, '2026-08-25', admin), 'date_effet_invalide');
    const programmee = await s.activer(v2.id, '01/09/2026', admin);
    assert.equal(programmee.statut, 'programmee');
    assert.equal(programmee.effetLe, '2026-09-01');
    assert.equal(tauxCantine(s, '2026-08-31'), 0.4);
    assert.equal(tauxCantine(s, '2026-09-01'), 0.45, 'a request of its day gets it even before the status moves');
    const v3 = await s.deposer({ libelle: '', contenu: version('0.50', '2026-31') }, admin);
    await rejects(s.activer(v3.id, '2026-08-30', admin), 'politique_deja_programmee');

    // Its day comes: two processes refresh, one change, one journal entry.
    now = Date.parse('2026-09-01T00:05:00+02:00');
    const other = await PolitiquesService.ouvrir(deps);
    await Promise.all([s.rafraichir(), other.rafraichir()]);
    assert.equal((await s.version(v2.id)).statut, 'active');
    assert.equal((await s.version(v1.id)).statut, 'remplacee');
    assert.equal(tauxCantine(other, '2026-09-01'), 0.45);
    const enVigueur = (await journal.query({ action: 'politique.en_vigueur' })).entries;
    assert.equal(enVigueur.length, 1);
    assert.equal(enVigueur[0]?.details.remplace, v1.id);

    // Abandoned: kept, never applied, cannot be activated.
    const abandonnee = await s.abandonner(v3.id, admin);
    assert.equal(abandonnee.statut, 'abandonnee');
    await rejects(s.activer(v3.id, '2026-09-02', admin), 'politique_non_activable');
    await rejects(s.abandonner(v2.id, admin), 'politique_non_abandonnable');

    const actions = (await journal.query({})).entries.map((e) => `${e.action}:${e.outcome}`).reverse();
    assert.deepEqual(actions, [
      'politique.deposee:echec',
      'politique.deposee:echec',
      'politique.deposee:echec',
      'politique.deposee:echec', // the CAF/MSA source, refused
      'politique.deposee:succes',
      'politique.activee:succes',
      'politique.deposee:succes',
      'politique.activee:succes',
      'politique.deposee:succes',
      'politique.en_vigueur:succes',
      'politique.abandonnee:succes',
    ]);
    assert.equal((await journal.verify()).intact, true);
  });
});
