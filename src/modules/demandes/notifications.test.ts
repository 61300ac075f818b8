import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StatutDemande } from '../../domain/demande.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { createLogger } from '../../infra/log/logger.ts';
import { createSmtpMailer, startCaptureSmtp, type CaptureSmtp } from '../../infra/mail/mailer.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import type { Soumission } from './demandes-service.ts';
import { courrielDemande, notifierFamilles } from './notifications.ts';
import { createHarness } from './test-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-notifications-'));
let sandbox: SandboxHandle;
let smtp: CaptureSmtp;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  smtp = await startCaptureSmtp();
});
after(async () => {
  await smtp.close();
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const famille = { type: 'famille' as const, id: 'compte-test' };
const ROUX = {
  parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }],
  enfants: [{ prenoms: 'Jade', nom: 'Roux', dateNaissance: '2023-01-30' }],
};
const SPI = SPI_SANDBOX.rfrZero;
const enLigne = (familleId: string): Soumission => ({
  familleId,
  canal: 'en_ligne',
  acteur: famille,
  foyersFiscaux: [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI) }, consentement: { mode: 'en_ligne', donnePar: famille } }],
});

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a queued request that ends sends the family one e-mail: reference and link, no amount, no numéro fiscal', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const logLines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
    const mailer = createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' });
    const changes: Array<[string, StatutDemande]> = [];
    const notifier = notifierFamilles({ db: database.db, mailer, publicUrl: 'https://quotient.exemple.fr/', communeNom: 'Commune de test', logger });
    const h = await createHarness(database, sandbox, { onChange: (id, statut) => (changes.push([id, statut]), notifier(id, statut)) });
    try {
      const to = `roux-${fixture.dialect}@exemple.fr`;
      const { id: familleId } = await h.familles.creer({ ...ROUX, courriel: to }, famille);
      const { id, reference } = await h.demandes.soumettre(enLigne(familleId));
      assert.equal((await h.demandes.etat(id)).statut, 'en_file');
      assert.equal(await h.traitement.traiter(id), 'calculee');
      const sent = await until(() => smtp.messages.find((m) => m.to.includes(to)), 'the e-mail');
      assert.match(sent.subject, /Votre quotient familial est calculé/);
      assert.ok(sent.subject.includes(reference));
      assert.ok(sent.text.includes(`https://quotient.exemple.fr/mon-quotient/demandes/${id}`), sent.text);
      assert.ok(sent.text.includes(reference));
      assert.doesNotMatch(sent.text, /€|euro/i);
      assert.equal(sent.raw.includes(SPI), false);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(smtp.messages.filter((m) => m.to.includes(to)).length, 1, 'one e-mail');

      // A relay that refuses: logged, the request is not touched.
      const failing = notifierFamilles({
        db: database.db,
        mailer: { send: () => Promise.reject(Object.assign(new Error(`refused <${to}>`), { code: 'EENVELOPE' })) },
        publicUrl: 'https://q.exemple.fr',
        communeNom: 'Test',
        logger,
      });
      failing(id, 'calculee');
      const line = await until(() => logLines.find((l) => l.includes('échec de l’envoi du courriel de suivi')), 'the failure log');
      assert.match(line, /EENVELOPE/);
      assert.equal(line.includes(to), false, 'the address is not logged');
      assert.equal((await h.demandes.etat(id)).statut, 'calculee');
      assert.deepEqual(changes, [[id, 'calculee']]);
    } finally {
      await h.close();
    }
  });
});

test('statuses that call for no e-mail, families without an address, identifiers that look like a numéro fiscal', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox);
    try {
      const deps = { db: database.db, publicUrl: 'https://q.exemple.fr', communeNom: 'Test' };
      const { id: familleId } = await h.familles.creer({ ...ROUX, courriel: 'a@exemple.fr' }, famille);
      const { id } = await h.demandes.soumettre(enLigne(familleId));
      assert.equal(await courrielDemande(deps, id, 'en_file'), undefined);
      assert.equal(await courrielDemande(deps, id, 'annulee'), undefined);
      assert.match((await courrielDemande(deps, id, 'a_ressaisir'))?.text ?? '', /saisi à nouveau/);
      // An id whose digits run to 16 across its dashes is still the request's own link (it used to become the list, at random).
      const row = await database.db.selectFrom('demandes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      await database.db
        .insertInto('demandes')
        .values({ ...row, id: '12345678-9012-4345-8def-abcdefabcdef', reference: 'D-ODD-TEST' })
        .execute();
      const odd = await courrielDemande(deps, '12345678-9012-4345-8def-abcdefabcdef', 'echouee');
      assert.match(odd?.text ?? '', /https:\/\/q\.exemple\.fr\/mon-quotient\/demandes\/12345678-9012-4345-8def-abcdefabcdef\n/);
      const { id: sansCourriel } = await h.familles.creer(ROUX, famille);
      const autre = await h.demandes.soumettre(enLigne(sansCourriel));
      assert.equal(await courrielDemande(deps, autre.id, 'calculee'), undefined);
    } finally {
      await h.close();
    }
  });
});
