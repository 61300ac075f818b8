/**
 * The integrity halt (DICP I3), on both dialects, with the services composed as in production: an
 * attacker with the database rewrites a journal row (append-only guards off); the next check
 * halts fiscal operations — the processing loop sends nothing to the sandbox, the transport
 * refuses, no new request (no new consent) is taken — and raises one alert; an auditor's
 * acknowledgement resumes them, and a new break halts them again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isQuotientError } from '../../domain/errors.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Alerte, CanalAlerte } from '../../infra/alertes/index.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { isSourceFiscaleError } from '../../sources/fiscal-source.ts';
import { asPrivileged } from '../audit/test-support.ts';
import { createHarness } from '../demandes/test-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-arret-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const AUDITEUR = { type: 'agent', id: 'auditrice-test' } as const;
const FAMILLE = { type: 'famille', id: 'arret-integrite' } as const;
/** DGFiP calls the sandbox received (token requests included). */
const appelsRecus = () => sandbox.admin.calls().length;

test('a rewritten journal row halts DGFiP calls and new requests until an auditor acknowledges it; a new break halts again', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const recues: Alerte[] = [];
    const canal: CanalAlerte = { nom: 'webhook', destination: 'récepteur du test', envoyer: async (alerte) => (recues.push(alerte), 'reçue par le test') };
    const h = await createHarness(database, sandbox, { instanceId: `arret-${fixture.dialect}`, canauxAlerte: [canal] });
    const { services } = h;
    const garde = services.incident.integrite;
    try {
      assert.equal(garde.etat().etat, 'intact', 'checked at start');
      const { id: familleId } = await h.familles.creer({ parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }] }, FAMILLE);
      const soumettre = () =>
        h.demandes.soumettre({
          familleId,
          canal: 'en_ligne',
          acteur: FAMILLE,
          foyersFiscaux: [
            { parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.rfrZero) }, consentement: { mode: 'en_ligne', donnePar: FAMILLE } },
          ],
        });
      const { id: enFile } = await soumettre();

      // The attacker, with the database file or its superuser, rewrites an entry (guards dropped).
      const cible = (await h.journal.query({ action: 'demande.creee' })).entries[0]?.seq as number;
      await asPrivileged(database, async (trx) => {
        await trx.updateTable('journal_audit').set({ outcome: 'echec' }).where('seq', '=', cible).execute();
      });
      const verification = await services.controle.verifier(AUDITEUR);
      assert.equal(verification.intact, false);
      assert.equal(verification.sequenceRompue, cible);
      const arret = garde.etat();
      assert.equal(arret.etat, 'arret');

      // No DGFiP call: the loop takes nothing, by hand nothing is sent, the transport refuses.
      const avant = appelsRecus();
      await services.boucle.start();
      services.wake();
      await sleep(2_500);
      assert.equal((await h.demandes.etat(enFile)).statut, 'en_file', 'the queued request waits');
      assert.equal(await h.traitement.traiter(enFile), 'en_file');
      await assert.rejects(
        h.dgfip.impotParticulier.parNumeroFiscal(NumeroFiscal.parse(SPI_SANDBOX.rfrZero)),
        (e) => isSourceFiscaleError(e) && e.raison === 'appels_suspendus',
      );
      assert.equal(appelsRecus(), avant, 'the sandbox received nothing during the halt');
      assert.equal((await h.demandes.etat(enFile)).file?.suspension?.cause, 'integrite', 'the queue says why it waits');

      // No new request, hence no new consent.
      const consentements = async () => (await database.db.selectFrom('consentements').select('id').execute()).length;
      const avantRefus = await consentements();
      await assert.rejects(
        soumettre(),
        (e) => isQuotientError(e) && e.code === 'arret_integrite' && e.kind === 'unavailable' && /vérification technique/.test(e.message),
      );
      assert.equal(await consentements(), avantRefus);

      // Journaled once and alerted once, even when checked again meanwhile.
      await garde.verifier('planifiee');
      await services.incident.alerteur.enAttente();
      assert.deepEqual(
        recues.map((a) => [a.code, a.gravite]),
        [['journal.integrite_rompue', 'critique']],
      );
      assert.match(recues[0]?.message ?? '', new RegExp(`séquence n° ${cible}`));
      assert.equal((await h.journal.query({ action: 'integrite.arret' })).entries.length, 1);
      assert.equal((await h.journal.query({ action: 'alerte.envoyee' })).entries[0]?.details.webhook, 'envoye');

      // The acknowledgement needs a reason, and refuses one shaped like a numéro fiscal.
      await assert.rejects(garde.reconnaitre(AUDITEUR, '  '), (e) => isQuotientError(e) && e.code === 'motif_invalide');
      await assert.rejects(
        garde.reconnaitre(AUDITEUR, 'vu le numéro 3141592653423 dans la ligne'),
        (e) => isQuotientError(e) && e.code === 'motif_invalide' && /numéro fiscal/.test(e.message),
      );
      assert.equal(garde.etat().etat, 'arret');
      const reconnu = await services.controle.reconnaitreAlteration(
        'Ligne réécrite par un essai de restauration ; base vérifiée, rien d’autre touché',
        AUDITEUR,
      );
      assert.equal(reconnu.etat, 'reconnu');
      const entree = (await h.journal.query({ action: 'journal.alteration_reconnue' })).entries[0];
      assert.equal(entree?.actor.id, AUDITEUR.id);
      assert.equal(entree?.details.sequenceRompue, cible);

      // Calls resume: the queued request goes to the sandbox; new requests are taken again.
      const fin = await h.demandes.attendre(enFile, 20_000);
      assert.equal(fin.statut, 'calculee');
      assert.ok(appelsRecus() > avant, 'the sandbox was called after the acknowledgement');
      await soumettre();

      // A new break, after the acknowledged one, halts again with its own alert.
      const derniere = (await h.journal.query({}, { limit: 1 })).entries[0]?.seq as number;
      await asPrivileged(database, async (trx) => {
        await trx.updateTable('journal_audit').set({ outcome: 'refus' }).where('seq', '=', derniere).execute();
      });
      await services.controle.verifier(AUDITEUR);
      const encore = garde.etat();
      assert.equal(encore.etat, 'arret');
      assert.equal(encore.etat === 'arret' ? encore.rapport.firstBrokenSeq : null, derniere);
      await services.incident.alerteur.enAttente();
      assert.equal(recues.length, 2);
      // Rule 8: each break is an alert of its own in the store, the one sent.
      const stockees = await services.incident.alertesStore.lister();
      assert.deepEqual(
        stockees.map((a) => [a.regle, a.statut]),
        [
          ['journal.integrite_rompue', 'ouverte'],
          ['journal.integrite_rompue', 'ouverte'],
        ],
      );
      assert.deepEqual(stockees.map((a) => a.id).sort(), recues.map((a) => a.id).sort());
      await assert.rejects(soumettre(), (e) => isQuotientError(e) && e.code === 'arret_integrite');
      st.diagnostic(`arrêt à la séquence ${cible}, reconnu, puis de nouveau à la séquence ${derniere}`);
    } finally {
      await services.boucle.stop();
      await h.close();
    }
  });
});
