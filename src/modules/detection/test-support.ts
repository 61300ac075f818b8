/**
 * Test support for detection: a journal, an alert store and the rules on a fixture database, all
 * on one clock the test moves, and a channel that keeps what it was sent.
 */
import type { TestContext } from 'node:test';
import type { Alerte, CanalAlerte } from '../../infra/alertes/index.ts';
import { creerCircuitAlerte } from '../../infra/alertes/index.ts';
import { detectionSchema, type DetectionConfig } from '../../infra/config/securite-config.ts';
import type { Database } from '../../infra/db/database.ts';
import { createLogger } from '../../infra/log/logger.ts';
import type { AuditEntryInput, JournalAudit } from '../audit/index.ts';
import { openJournal, tempDir } from '../audit/test-support.ts';
import { creerAlerteur, type Alerteur } from '../incident/alerter.ts';
import { AlertesStore } from './alertes-store.ts';
import { DetectionService } from './detection-service.ts';

export interface Banc {
  readonly journal: JournalAudit;
  readonly store: AlertesStore;
  readonly detection: DetectionService;
  readonly alerteur: Alerteur;
  /** What the channel received, in order. */
  readonly recues: Alerte[];
  /** The shared clock, in ms; `avancer` moves it. */
  maintenant(): number;
  avancer(ms: number): void;
  ecrire(entry: AuditEntryInput, fois?: number): Promise<void>;
  /** Evaluates, then waits until every alert is sent and journaled. */
  evaluer(): ReturnType<DetectionService['evaluer']>;
}

export const DEBUT = Date.parse('2026-03-02T09:00:00.000Z');

export async function monterBanc(
  t: TestContext,
  database: Database,
  options: {
    config?: unknown;
    quota?: { usage(): Promise<{ used: number; limit: number }> };
    relanceMs?: number;
    horloge?: { ms: number };
    dossier?: string;
  } = {},
): Promise<Banc> {
  const horloge = options.horloge ?? { ms: DEBUT };
  const clock = () => horloge.ms;
  const { journal } = await openJournal(database, options.dossier ?? tempDir(t, 'quotient-detection-'), () => new Date(horloge.ms));
  const recues: Alerte[] = [];
  const canal: CanalAlerte = { nom: 'webhook', destination: 'récepteur du test', envoyer: async (a) => (recues.push(a), 'reçue par le test') };
  const logger = createLogger({ level: 'fatal' });
  const alerteur = creerAlerteur({ circuit: creerCircuitAlerte({ canaux: [canal] }), journal, logger });
  const config: DetectionConfig = detectionSchema.parse(options.config ?? {});
  const store = new AlertesStore({ db: database.db, journal, alerteur, relanceMs: options.relanceMs ?? config.relanceMinutes * 60_000, clock });
  const detection = new DetectionService({ db: database.db, store, config, logger, clock, ...(options.quota ? { quota: options.quota } : {}) });
  return {
    journal,
    store,
    detection,
    alerteur,
    recues,
    maintenant: clock,
    avancer: (ms) => void (horloge.ms += ms),
    async ecrire(entry, fois = 1) {
      for (let i = 0; i < fois; i++) await journal.append(entry);
    },
    async evaluer() {
      const bilan = await detection.evaluer();
      await alerteur.enAttente();
      return bilan;
    },
  };
}
