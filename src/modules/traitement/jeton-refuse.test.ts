/**
 * The DGFiP gateway stops accepting the client-credentials token while requests are queued. Once:
 * the client forgets the token, fetches a new one and tries again, and the queue goes on with no
 * request failed. For good (every token refused, new ones too): the requests stay queued with
 * their numbers in memory and a clear reason, none fails for the family, and the journal entry of
 * each refusal raises the « dgfip.acces_refuse » alert; once the gateway accepts tokens again, they
 * go through. Against the sandbox, on each dialect.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SPI_SANDBOX, startSandbox, type CallRecord, type SandboxHandle } from '../../sandbox/server.ts';
import { BERTIN_ROUSSEL, eachHarness, enLigne, type Harness } from '../demandes/test-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-jeton-refuse-'));
let sandbox: SandboxHandle;
/** Called with every call the sandbox answers: what the test does in the middle of the queue. */
let observer: (call: CallRecord) => void = () => undefined;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki'), onCall: (c) => observer(c) });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const famille = { type: 'famille' as const, id: 'compte-test' };

async function enFile(h: Harness, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    ids.push((await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]))).id);
  }
  return ids;
}

/** What the processing loop does: the requests due, oldest first, each processed once. */
async function traiterLaFile(h: Harness): Promise<void> {
  for (const id of await h.traitement.prochaines(20)) await h.traitement.traiter(id);
}

test('a token refused in the middle of the queue: a new one, one more try, and no request fails', async (t) => {
  await eachHarness(t, sandbox, async (h) => {
    const ids = await enFile(h, 3);
    sandbox.admin.clearCalls();
    let revoque = false;
    // After the first avis served, the gateway revokes the live token (a key rotation on its side).
    observer = (c) => {
      if (!revoque && c.api === 'impot-particulier' && c.status === 200) {
        revoque = true;
        sandbox.admin.revokeTokens();
      }
    };
    try {
      await traiterLaFile(h);
    } finally {
      observer = () => undefined;
    }
    for (const id of ids) assert.equal((await h.demandes.etat(id)).statut, 'calculee', `request ${id} calculated`);
    const appels = sandbox.admin.calls();
    const ip = appels.filter((c) => c.api === 'impot-particulier').map((c) => c.status);
    assert.deepEqual(ip, [200, 401, 200, 200], 'one 401, answered by one more try');
    // The first token of this harness, then one after the refusal: no new token per request.
    assert.equal(appels.filter((c) => c.api === 'token').length, 2);
    const echecs = (await h.journal.query({ action: 'demande.echec_appel' })).entries;
    assert.equal(echecs.length, 0, 'no request recorded a failure');
  });
});

test('every token refused, new ones too: the requests wait in the queue with a clear reason, an alert is raised, and they go through afterwards', async (t) => {
  await eachHarness(t, sandbox, async (h, _url, database) => {
    const ids = await enFile(h, 2);
    sandbox.admin.clearCalls();
    sandbox.admin.refuseAllTokens(true);
    try {
      await traiterLaFile(h);
      for (const id of ids) {
        const etat = await h.demandes.etat(id);
        assert.equal(etat.statut, 'en_file', 'still queued, not failed');
        assert.equal(etat.motifCode, 'dgfip_identifiants_refuses');
        assert.match(
          String(etat.motif),
          /La DGFiP refuse pour le moment l’accès du service de la commune .* la demande reste dans la file et partira d’elle-même/,
        );
        assert.ok(etat.file, 'the family sees it waiting in the queue');
      }
      assert.equal(h.vault.size, 2, 'the numbers wait in memory');
      // Each call was tried with a new token once: two calls per request, both refused.
      const ip = sandbox.admin.calls().filter((c) => c.api === 'impot-particulier');
      assert.deepEqual(
        ip.map((c) => c.status),
        [401, 401, 401, 401],
      );
      // Not hammered: the next try waits.
      assert.deepEqual(await h.traitement.prochaines(), []);
      const echecs = (await h.journal.query({ action: 'demande.echec_appel' })).entries;
      assert.equal(echecs.length, 2);
      for (const e of echecs) assert.equal(e.details.raison, 'identifiants_refuses');
      // The detection rule for DGFiP 401/403 raises its alert from these entries.
      await h.services.detection.evaluer();
      const alertes = await h.services.incident.alertesStore.lister();
      const alerte = alertes.find((a) => a.regle === 'dgfip.acces_refuse');
      assert.ok(alerte, `an alert dgfip.acces_refuse among ${alertes.map((a) => a.regle).join(', ')}`);
      assert.equal(alerte.gravite, 'critique');
      assert.match(alerte.message, /appels refusés par la DGFiP \(401, 403/);
    } finally {
      sandbox.admin.refuseAllTokens(false);
    }
    // The gateway accepts tokens again; the time of the next try has come: both go through, nothing typed again.
    await database.db
      .updateTable('demandes')
      .set({ prochain_essai_le: new Date(Date.now() - 1_000).toISOString() })
      .where('id', 'in', ids)
      .execute();
    await traiterLaFile(h);
    for (const id of ids) assert.equal((await h.demandes.etat(id)).statut, 'calculee');
    const rows = await database.db.selectFrom('demandes').select(['tentatives', 'motif_code']).where('id', 'in', ids).execute();
    for (const r of rows) {
      assert.equal(r.tentatives, 1, 'the refused tries did not use up the request’s tries');
      assert.equal(r.motif_code, null);
    }
  });
});
