import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isQuotientError } from '../../domain/errors.ts';
import type { Database } from '../../infra/db/database.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { BERTIN_ROUSSEL, createHarness } from '../demandes/test-harness.ts';
import type { AccordPermanent, SourceRenouvellements } from './renouvellements.ts';
import { AGENT_ADMIN, bertinRoussel, drainer, fichierCsv, garnier, harnessCampagnes } from './test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-essai-import-'));
let sandbox: SandboxHandle;
before(async () => {
  // Many tests share this sandbox: its own quota (per minute) is out of their way.
  sandbox = await startSandbox({ dataDir: join(dir, 'pki'), quota: { limit: 10_000, windowMs: 60_000 } });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

async function comptes(database: Database): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['campagnes', 'campagne_elements', 'familles', 'demandes', 'coffre_records'] as const) {
    out[table] = (
      await database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n;
    out[table] = Number(out[table]);
  }
  return out;
}

const accordEnLigne = (id: string): AccordPermanent => ({
  id,
  mode: 'en_ligne',
  donnePar: { type: 'famille', id: 'compte-famille' },
  piece: null,
  recueilliLe: '2025-08-01T10:00:00.000Z',
  versionTexte: 'renouvellement-1',
});

test('the dry run changes nothing and says what would be done; the import names what blocks it', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    let familleConnue = '';
    const renouvellements: SourceRenouvellements = {
      renouvellementsDus: () => Promise.resolve([]),
      accordsEnVigueur: (familleId) => Promise.resolve(familleId === familleConnue ? [{ rang: 1 as const, accord: accordEnLigne('acc-1') }] : []),
      enVigueur: (id) => Promise.resolve(id === 'acc-1'),
    };
    const h = await harnessCampagnes(database, sandbox, { renouvellements });
    try {
      const connue = await h.familles.creer({ parents: [{ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' }] }, AGENT_ADMIN);
      familleConnue = connue.id;
      // Known by Quotient's own reference, with a standing consent in force: no signed form needed.
      const sansFormulaire = { ...garnier(connue.reference), accord_date: '', accord_reference: '' };
      const fichier = fichierCsv([bertinRoussel('FAM-1'), sansFormulaire, { ...garnier('FAM-3'), accord_date: '', accord_reference: '' }]);
      const avant = await comptes(database);
      const essai = await h.services.campagnes.essayerImport(fichier, 'C:\\Exports\\rentree.csv', AGENT_ADMIN);
      assert.deepEqual(await comptes(database), avant, 'a dry run writes nothing');
      assert.equal(essai.fichier, 'rentree.csv');
      assert.deepEqual([essai.lignesLues, essai.valides, essai.famillesExistantes, essai.famillesNouvelles, essai.avecAccordPermanent], [3, 2, 1, 1, 1]);
      assert.deepEqual(
        essai.erreurs.map((e) => e.ligne),
        [4],
      );
      assert.match(essai.erreurs[0]?.message as string, /^Ligne 4 : aucun accord de la famille/);
      assert.equal(essai.appelsEstimes, 2, 'one SFiP call per foyer fiscal');
      const trace = await database.db.selectFrom('journal_audit').select(['actor_id', 'outcome']).where('action', '=', 'campagne.essai').execute();
      assert.deepEqual(trace, [{ actor_id: AGENT_ADMIN.id, outcome: 'echec' }]);

      // With an error, the import creates nothing either.
      const refuse = await h.services.campagnes.importer(fichier, 'rentree.csv', 'Rentrée', AGENT_ADMIN);
      assert.equal(refuse.campagne, undefined);
      assert.deepEqual(await comptes(database), avant);

      const corrige = fichierCsv([bertinRoussel('FAM-1'), sansFormulaire]);
      const cree = await h.services.campagnes.importer(corrige, 'rentree.csv', 'Rentrée', AGENT_ADMIN);
      assert.ok(cree.campagne);
      // The same families cannot be in two campaigns at once; the same file is named.
      const encore = await h.services.campagnes.essayerImport(corrige, 'rentree.csv', AGENT_ADMIN);
      assert.equal(encore.dejaImporte, cree.campagne.reference);
      assert.match(encore.erreurs[0]?.message as string, new RegExp(`^Ligne 2 : la famille « FAM-1 » est déjà dans la campagne ${cree.campagne.reference}`));

      // A bad upload is a report, never an exception.
      const binaire = await h.services.campagnes.essayerImport(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0]), 'liste.xlsx', AGENT_ADMIN);
      assert.match(binaire.erreurs[0]?.message as string, /classeur de tableur/);

      await h.services.campagnes.agir(cree.campagne.id, 'demarrer', AGENT_ADMIN);
      await drainer(h);
      const etat = await h.services.campagnes.etat(cree.campagne.id);
      assert.equal(etat.progression.parIssue.calcule, 2, 'the standing consent covered the known family’s call');
      const accords = await database.db.selectFrom('consentements').select(['mode', 'donne_par_type', 'version_texte']).orderBy('mode').execute();
      assert.deepEqual(
        accords.map((a) => [a.mode, a.donne_par_type]),
        [
          ['en_ligne', 'famille'],
          ['formulaire_signe', 'agent'],
        ],
      );
    } finally {
      await h.close();
    }
  });
});

test('a renewal campaign calls each family of a standing consent; one withdrawn meanwhile is not called', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const retires = new Set<string>();
    const dus: Array<{ familleId: string; reference: string }> = [];
    const renouvellements: SourceRenouvellements = {
      renouvellementsDus: () =>
        Promise.resolve(
          dus.map((d, i) => ({
            ...d,
            foyers: [
              {
                rang: 1 as const,
                etatCivil:
                  i === 0
                    ? { nom: 'Bertin', prenoms: 'Paul Henri', dateNaissance: '1981-04-09', naisCodePays: '99100', naisCodeDept: '44', naisCodeCommune: '109' }
                    : { nom: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' },
                accord: accordEnLigne(`acc-${i}`),
              },
            ],
          })),
        ),
      accordsEnVigueur: () => Promise.resolve([]),
      enVigueur: (id) => Promise.resolve(!retires.has(id)),
    };
    const h = await harnessCampagnes(database, sandbox, { renouvellements });
    try {
      const famille = { type: 'famille' as const, id: 'compte-famille' };
      for (const f of [BERTIN_ROUSSEL, { parents: [{ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' }] }]) {
        const { id, reference } = await h.familles.creer(f, famille);
        dus.push({ familleId: id, reference });
      }
      const c = await h.services.campagnes.creerRenouvellement('2026-09-01', 'Renouvellement 2026', AGENT_ADMIN);
      assert.equal(c.total, 2);
      await h.services.campagnes.agir(c.id, 'demarrer', AGENT_ADMIN);
      retires.add('acc-1');
      const appels = sandbox.admin.calls().filter((c) => c.api === 'sfip').length;
      await drainer(h);
      const etat = await h.services.campagnes.etat(c.id);
      assert.deepEqual([etat.statut, etat.progression.parIssue.calcule, etat.progression.parIssue.sans_accord], ['terminee', 1, 1]);
      assert.equal(sandbox.admin.calls().filter((c) => c.api === 'sfip').length - appels, 1, 'one call: the withdrawn consent’s family is not asked for');
      assert.equal((await database.db.selectFrom('demandes').select('id').execute()).length, 1);
    } finally {
      await h.close();
    }
  });
});

test('without the état civil route in the habilitation, no campaign can be imported', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox);
    try {
      await assert.rejects(
        h.services.campagnes.essayerImport(fichierCsv([garnier('FAM-1')]), 'l.csv', AGENT_ADMIN),
        (e) => isQuotientError(e) && e.code === 'modalite_non_habilitee',
      );
    } finally {
      await h.close();
    }
  });
});
