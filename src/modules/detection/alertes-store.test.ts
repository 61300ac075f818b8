/**
 * The alert store on both dialects: one open alert per rule and key even when two instances find
 * the same burst at once; a burst that goes on adds to it and is sent again only after the
 * re-notify delay; evidence counts once; acknowledging and closing are journaled with their reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQuotientError } from '../../domain/errors.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import type { Constat } from './alertes-store.ts';
import { tempDir } from '../audit/test-support.ts';
import { DEBUT, monterBanc } from './test-support.ts';

const AUDITRICE = { type: 'agent', id: 'auditrice-1' } as const;
const constat = (seqs: number[], cle = 'compte:abc'): Constat => ({
  regle: 'connexion.echecs_rafale',
  cle,
  gravite: 'avertissement',
  titre: 'Rafale d’échecs de connexion',
  message: 'Essais répétés.',
  details: { nombre: seqs.length },
  preuves: seqs.map((journalSeq) => ({ journalSeq })),
});

test('two instances finding the same burst (at once, on PostgreSQL) raise one alert, sent once', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    // Two instances share the database and the journal's key and anchor.
    const dossier = tempDir(st, 'quotient-detection-');
    const horloge = { ms: DEBUT };
    const premiere = await fixture.open();
    const a = await monterBanc(st, premiere, { horloge, dossier });
    const b = await monterBanc(st, fixture.dialect === 'postgres' ? await fixture.open() : premiere, { horloge, dossier });
    // Several instances share PostgreSQL; SQLite is one process's (two connections in one process
    // would block each other's event loop), so there the second instance comes second.
    const issues =
      fixture.dialect === 'postgres'
        ? await Promise.all([a.store.signaler(constat([1, 2, 3])), b.store.signaler(constat([1, 2, 3]))])
        : [await a.store.signaler(constat([1, 2, 3])), await b.store.signaler(constat([1, 2, 3]))];
    await Promise.all([a.alerteur.enAttente(), b.alerteur.enAttente()]);
    assert.deepEqual(issues.map((i) => i.issue).sort(), ['ignoree', 'nouvelle']);
    assert.equal(a.recues.length + b.recues.length, 1, 'one sending between the two instances');
    const [alerte] = await a.store.lister();
    assert.equal(alerte?.statut, 'ouverte');
    assert.equal(alerte?.occurrences, 1);
    assert.equal((await a.store.lister()).length, 1);
    assert.equal((await a.journal.query({ action: 'alerte.levee' })).entries.length, 1);
    assert.equal((await a.journal.query({ action: 'alerte.envoyee' })).entries.length, 1);
  });
});

test('a burst that goes on adds to its alert, is sent again after the re-notify delay only, and old evidence is no news', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open(), { relanceMs: 60 * 60_000 });
    await banc.ecrire({ actor: { type: 'famille', id: 'abc' }, action: 'compte.connexion', target: { type: 'compte', id: 'abc' }, outcome: 'echec' }, 5);
    const premiere = await banc.store.signaler(constat([1, 2, 3]));
    assert.equal(premiere.issue, 'nouvelle');
    assert.equal((await banc.store.signaler(constat([1, 2, 3]))).issue, 'ignoree', 'the same entries found again');
    assert.equal((await banc.store.signaler(constat([2, 3, 4]))).issue, 'cumulee', 'one new entry: counted, not sent');
    banc.avancer(61 * 60_000);
    assert.equal((await banc.store.signaler(constat([3, 4, 5]))).issue, 'relance', 'sent again once the delay is past');
    await banc.alerteur.enAttente();
    assert.equal(banc.recues.length, 2);
    assert.equal(banc.recues[1]?.id, premiere.id, 'the alert sent is the stored one');
    assert.equal(banc.recues[1]?.details.occurrences, 3);
    const { alerte, entrees } = await banc.store.detail(premiere.id as string);
    assert.equal(alerte.occurrences, 3);
    assert.equal(alerte.notifications, 2);
    assert.deepEqual(
      entrees.map((e) => [e.seq, e.action]),
      [5, 4, 3, 2, 1].map((seq) => [seq, 'compte.connexion']),
      'the journal entries behind it, newest first',
    );
    // Another key is another alert.
    assert.equal((await banc.store.signaler(constat([9], 'compte:autre'))).issue, 'nouvelle');
  });
});

test('acknowledging and closing are journaled with their reason; after closing, new evidence raises a new alert, old evidence none', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open());
    const { id } = await banc.store.signaler(constat([1, 2]));
    await assert.rejects(banc.store.acquitter(id as string, AUDITRICE, 'non'), (e) => isQuotientError(e) && e.code === 'motif_invalide');
    await assert.rejects(banc.store.acquitter(id as string, AUDITRICE, 'vu, appel au 0123456789012'), (e) => isQuotientError(e) && e.code === 'motif_invalide');
    const acquittee = await banc.store.acquitter(id as string, AUDITRICE, 'Famille jointe, mot de passe oublié');
    assert.equal(acquittee.statut, 'acquittee');
    assert.equal(acquittee.acquittement?.par, 'agent:auditrice-1');
    await assert.rejects(banc.store.acquitter(id as string, AUDITRICE, 'encore une fois'), (e) => isQuotientError(e) && e.kind === 'conflict');
    // Acknowledged: new evidence still adds, nothing is sent again even past the delay.
    banc.avancer(2 * 3600_000);
    assert.equal((await banc.store.signaler(constat([2, 3]))).issue, 'cumulee');
    const close = await banc.store.cloturer(id as string, AUDITRICE, 'Rien d’anormal après vérification');
    assert.equal(close.statut, 'cloturee');
    const journalise = (await banc.journal.query({ action: 'alerte.' })).entries.map((e) => [e.action, e.details.motif ?? null]);
    assert.deepEqual(
      journalise.filter(([a]) => a !== 'alerte.envoyee'),
      [
        ['alerte.cloturee', 'Rien d’anormal après vérification'],
        ['alerte.acquittee', 'Famille jointe, mot de passe oublié'],
        ['alerte.levee', null],
      ],
    );
    assert.equal((await banc.store.signaler(constat([1, 2, 3]))).issue, 'ignoree', 'evidence behind the closed alert');
    const nouvelle = await banc.store.signaler(constat([1, 2, 3, 4]));
    assert.equal(nouvelle.issue, 'nouvelle');
    assert.notEqual(nouvelle.id, id);
    await assert.rejects(banc.store.detail('inconnue-000'), (e) => isQuotientError(e) && e.code === 'alerte_introuvable');
    assert.deepEqual(await banc.store.compter(), { ouverte: 1, acquittee: 0, cloturee: 1 });
  });
});

test('a state without evidence (the quota, a silent instance) keeps one open alert while it lasts', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open());
    const etat: Constat = { regle: 'quota.sature', cle: 'dgfip', gravite: 'avertissement', titre: 'Quota', message: 'Quota presque épuisé.' };
    assert.equal((await banc.store.signaler(etat)).issue, 'nouvelle');
    assert.equal((await banc.store.signaler(etat)).issue, 'ignoree');
    await banc.alerteur.enAttente();
    assert.equal(banc.recues.length, 1);
  });
});
