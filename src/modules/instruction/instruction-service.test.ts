import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { StatutDemande } from '../../domain/demande.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { createHarness, type Harness } from '../demandes/test-harness.ts';
import { classer, lireMotifConsultation, type InstructionService } from './instruction-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-instruction-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const famille = { type: 'famille' as const, id: 'compte-test' };
const agent = { type: 'agent' as const, id: 'agent-instructeur' };
const motif = lireMotifConsultation({ motif: 'verification_identite' });

interface Monde {
  readonly h: Harness;
  readonly instruction: InstructionService;
  readonly notifiees: Array<[string, StatutDemande]>;
  aVerifier(parents: unknown, spi: string): Promise<string>;
}

async function withInstruction(t: TestContext, body: (m: Monde) => Promise<void>) {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const notifiees: Array<[string, StatutDemande]> = [];
    const h = await createHarness(database, sandbox, { onChange: (id, statut) => notifiees.push([id, statut]) });
    const instruction = h.services.instruction;
    const aVerifier = async (parents: unknown, spi: string) => {
      const { id: familleId } = await h.familles.creer({ parents }, famille);
      const { id } = await h.demandes.soumettre({
        familleId,
        canal: 'guichet',
        acteur: agent,
        foyersFiscaux: [
          {
            parentRang: 1,
            identifiant: { spi: NumeroFiscal.parse(spi) },
            consentement: { mode: 'formulaire_signe', donnePar: agent, piece: 'formulaire signé' },
          },
        ],
      });
      assert.equal(await h.traitement.traiter(id), 'a_verifier');
      return id;
    };
    try {
      await body({ h, instruction, notifiees, aVerifier });
    } finally {
      await h.close();
    }
  });
}

test('the reason of a view is one line, bounded, without a numéro fiscal', () => {
  assert.deepEqual(lireMotifConsultation({ motif: 'autre', precision: ' appel\nde la\tfamille ' }), {
    code: 'autre',
    texte: 'Autre motif : appel de la famille',
  });
  assert.throws(() => lireMotifConsultation({ motif: 'autre' }), { code: 'motif_consultation_invalide' });
  assert.throws(() => lireMotifConsultation({ motif: 'contestation', precision: 'x'.repeat(201) }), { code: 'motif_consultation_invalide' });
  assert.throws(() => lireMotifConsultation({ motif: 'toString' }), { code: 'motif_consultation_invalide' });
});

test('an avis of somebody else: a discordant identity case, nothing to confirm, decided by hand; the family is told', async (t) => {
  await withInstruction(t, async ({ h, instruction, notifiees, aVerifier }) => {
    const id = await aVerifier([{ nomNaissance: 'Dupont', prenoms: 'Marc', dateNaissance: '1970-01-01' }], SPI_SANDBOX.coupleMarie.declarant1);
    const [element] = await instruction.file('identite');
    assert.equal(element?.id, id);
    assert.equal(element?.canal, 'au guichet');
    assert.match(element?.raison ?? '', /ne concerne aucun des parents déclarés/);
    assert.deepEqual(await instruction.file('contestation'), []);

    const dossier = await instruction.dossier(id, agent, motif);
    assert.deepEqual(
      dossier.avis.map((a) => [a.recu, a.conserve, a.declarants]),
      [[true, false, undefined]],
      'the foreign avis was not kept',
    );
    assert.equal(dossier.peutConfirmer, false);
    assert.ok(dossier.controleIdentite.some((m) => /Aucun des parents déclarés ne figure sur l’avis/.test(m)));
    await assert.rejects(h.decisions.decider(id, agent, { decision: 'confirme', justification: 'vu' }), { code: 'avis_absent' });
    await assert.rejects(h.decisions.decider(id, famille, { decision: 'refuse', justification: 'non' }), { code: 'decision_reservee' });

    const { statut } = await h.decisions.decider(id, agent, {
      decision: 'qf_manuel',
      justification: 'Avis papier de M. Dupont présenté.',
      piece: 'avis 2025 présenté le 02/02/2026',
      qfCents: 45_000,
    });
    assert.equal(statut, 'calculee');
    assert.deepEqual(notifiees.at(-1), [id, 'calculee']);
    assert.equal((await h.demandes.etat(id)).quotient?.cents, 45_000);
    await assert.rejects(h.decisions.decider(id, agent, { decision: 'refuse', justification: 'non' }), { code: 'demande_deja_decidee' });
    assert.deepEqual(await instruction.file(), []);
  });
});

test('two decisions at once on the same request: one wins, the other gets a conflict in French, one QF', async (t) => {
  await withInstruction(t, async ({ h, aVerifier }) => {
    const id = await aVerifier([{ nomNaissance: 'Dupont', prenoms: 'Marc', dateNaissance: '1970-01-01' }], SPI_SANDBOX.coupleMarie.declarant1);
    const saisie = { decision: 'qf_manuel', justification: 'Avis papier présenté.', piece: 'avis 2025 présenté en mairie', qfCents: 45_000 } as const;
    const results = await Promise.allSettled([h.decisions.decider(id, agent, saisie), h.decisions.decider(id, agent, { ...saisie, qfCents: 60_000 })]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one decision wins');
    const [refus] = results.filter((r) => r.status === 'rejected');
    assert.equal(refus?.status, 'rejected');
    assert.equal((refus.reason as { code?: string }).code, 'demande_deja_decidee');
    assert.equal((refus.reason as { kind?: string }).kind, 'conflict');
    // Whether the loser arrives during the winner's transaction or just after it, a French conflict.
    assert.match((refus.reason as Error).message, /vient d’être décidée|n’attend plus de décision/);
    const etat = await h.demandes.etat(id);
    assert.equal(etat.statut, 'calculee');
    assert.ok(etat.quotient?.cents === 45_000 || etat.quotient?.cents === 60_000);
  });
});

test('a request not found, a year not available: classed in plain French; a refusal tells the family', async (t) => {
  await withInstruction(t, async ({ h, instruction, notifiees, aVerifier }) => {
    const id = await aVerifier([{ nomNaissance: 'Martin', prenoms: 'Zoé', dateNaissance: '1985-05-05' }], SPI_SANDBOX.inconnu);
    const [element] = await instruction.file('annee');
    assert.equal(element?.id, id);
    assert.equal(classer(null).type, 'cas_particulier');
    const resume = await instruction.resume(id);
    assert.equal(resume.aDecider, true);
    assert.equal('avis' in resume, false, 'a summary carries no avis');
    await h.decisions.decider(id, agent, { decision: 'refuse', justification: 'Aucun avis pour ce numéro : la famille doit se présenter en mairie.' });
    assert.deepEqual(notifiees.at(-1), [id, 'refusee']);
    assert.match(String((await h.demandes.etat(id)).motif), /Demande refusée après examen par un agent de la mairie : Aucun avis pour ce numéro/);
    const apres = await instruction.resume(id);
    assert.deepEqual(
      apres.decisions.map((d) => d.decision),
      ['refuse'],
    );
  });
});

test('a contestation answered without a new QF: answered and journaled, no new request; a second answer is refused', async (t) => {
  await withInstruction(t, async ({ h, instruction }) => {
    const { id: familleId } = await h.familles.creer(
      {
        parents: [
          { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
          { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
        ],
      },
      famille,
    );
    const { id } = await h.demandes.soumettre({
      familleId,
      canal: 'en_ligne',
      acteur: famille,
      foyersFiscaux: [
        { parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) }, consentement: { mode: 'en_ligne', donnePar: famille } },
      ],
    });
    assert.equal(await h.traitement.traiter(id), 'calculee');
    const contestationId = await h.familles.contester(familleId, id, 'Le nombre de parts me paraît faux.', famille);
    const [element] = await instruction.file();
    assert.deepEqual([element?.cible, element?.id, element?.type], ['contestation', contestationId, 'contestation']);

    const dossier = await instruction.dossierContestation(contestationId, agent, lireMotifConsultation({ motif: 'contestation' }));
    assert.equal(dossier.message, 'Le nombre de parts me paraît faux.');
    assert.deepEqual(
      dossier.dossier?.avis.map((a) => [a.rfr, a.nbParts, a.declarants]),
      [[52340, 3, undefined]],
    );

    await assert.rejects(
      h.decisions.repondre(contestationId, agent, { reponse: '', suite: 'peut-etre' }),
      (e: { code: string; details: Array<{ path: string }> }) => {
        assert.equal(e.code, 'reponse_invalide');
        assert.deepEqual(e.details.map((d) => d.path).sort(), ['reponse', 'suite']);
        return true;
      },
    );
    assert.deepEqual(await h.decisions.repondre(contestationId, agent, { reponse: 'Vos 3 parts sont celles de votre avis.', suite: 'maintien' }), {
      suite: 'maintien',
    });
    assert.deepEqual(
      (await h.familles.contestations(familleId)).map((c) => [c.statut, c.reponse]),
      [['traitee', 'Vos 3 parts sont celles de votre avis.']],
    );
    assert.equal((await h.journal.query({ action: 'contestation.traitee' })).entries.length, 1);
    await assert.rejects(h.decisions.repondre(contestationId, agent, { reponse: 'encore', suite: 'maintien' }), { code: 'contestation_traitee' });
    assert.deepEqual(await instruction.file(), []);
  });
});
