/**
 * Test fixture run as a separate process: a campaign worker (the `worker` role's loop) on the
 * test's database and sandbox, printing `PRET` once composed. The crash test kills it with
 * SIGKILL; `bench/campagne.ts` runs several side by side.
 *
 * `QUOTIENT_TEST_WORKER` (JSON) sets the lease, the items at once, the quota window and, for the
 * crash test, `crash`: the process kills itself (SIGKILL) at the `apres`-th time it reaches a
 * statement the outside cannot time — after the DGFiP's answer, before its transaction commits
 * (`apres-reponse`); the QF written, its transaction not yet committed (`commit-qf`); the item's
 * result written, not yet committed (`commit-resultat`).
 */
import type { KyselyPlugin, OperationNode, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { openDatabase } from '../../infra/db/database.ts';
import type { DgfipConnection } from '../../sources/dgfip.ts';
import { createHarness, HABILITATION_ETAT_CIVIL } from '../demandes/test-harness.ts';
import { POLITIQUE_TRANCHES } from './test-support.ts';

export type PhaseInterne = 'apres-reponse' | 'commit-qf' | 'commit-resultat';

export interface ReglagesWorker {
  /** Composed, then waits for a `GO` line on stdin before it claims anything. */
  readonly attendreGo?: boolean;
  readonly bailMs?: number;
  readonly concurrence?: number;
  readonly reessaiMs?: number;
  /** Calls in any quota window (default the configuration's 50). */
  readonly limite?: number;
  readonly quotaFenetre?: { readonly windowMs: number; readonly marginMs: number };
  readonly crash?: { readonly phase: PhaseInterne; readonly apres: number };
}

const [url, dataDir, instanceId] = process.argv.slice(2) as [string, string, string];
const connection = JSON.parse(process.env.QUOTIENT_TEST_CONNECTION as string) as DgfipConnection;
const reglages = JSON.parse(process.env.QUOTIENT_TEST_WORKER ?? '{}') as ReglagesWorker;

function tableDe(node: OperationNode): string | undefined {
  const n = node as { kind: string; into?: { table: { identifier: { name: string } } }; table?: { kind: string; table?: { identifier: { name: string } } } };
  if (n.kind === 'InsertQueryNode') return n.into?.table.identifier.name;
  if (n.kind === 'UpdateQueryNode' && n.table?.kind === 'TableNode') return n.table.table?.identifier.name;
  return undefined;
}

/** Where each phase is: the statement (before it runs, or once it ran) that marks it. */
const REPERES: Record<PhaseInterne, { kind: string; table: string; moment: 'avant' | 'apres' }> = {
  // The first write after the answer is the foyer's state, in the transaction that keeps the situation.
  'apres-reponse': { kind: 'UpdateQueryNode', table: 'demande_foyers', moment: 'avant' },
  'commit-qf': { kind: 'InsertQueryNode', table: 'quotients', moment: 'apres' },
  'commit-resultat': { kind: 'InsertQueryNode', table: 'campagne_resultats', moment: 'apres' },
};

function mourir(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL to oneself is delivered before kill() returns; this only keeps the type checker honest.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

function pluginCrash(crash: NonNullable<ReglagesWorker['crash']>): KyselyPlugin {
  const repere = REPERES[crash.phase];
  const vus = new WeakMap<object, true>();
  let fois = 0;
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      if (args.node.kind === repere.kind && tableDe(args.node) === repere.table) {
        fois += 1;
        if (fois === crash.apres) {
          if (repere.moment === 'avant') mourir();
          vus.set(args.queryId, true);
        }
      }
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      if (vus.has(args.queryId)) mourir();
      return args.result;
    },
  };
}

const ouverte = openDatabase(url);
const database = reglages.crash ? { ...ouverte, db: ouverte.db.withPlugin(pluginCrash(reglages.crash)) } : ouverte;
const h = await createHarness(database, connection, {
  instanceId,
  dataDir,
  habilitation: HABILITATION_ETAT_CIVIL.sfip,
  politique: () => POLITIQUE_TRANCHES,
  // One item at a time by default: a kill interrupts at most one call.
  campagnes: {
    bailMs: reglages.bailMs ?? 3_000,
    attenteMs: 50,
    concurrence: reglages.concurrence ?? 1,
    ...(reglages.reessaiMs ? { reessaiMs: reglages.reessaiMs } : {}),
  },
  ...(reglages.quotaFenetre ? { quotaFenetre: reglages.quotaFenetre } : {}),
  ...(reglages.limite ? { quotaParMinute: reglages.limite } : {}),
});
process.once('SIGTERM', () => {
  void h
    .close()
    .then(() => ouverte.close())
    .then(() => process.exit(0));
});
process.stdout.write('PRET\n');
if (reglages.attendreGo) await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
h.services.executeurCampagnes.start();
