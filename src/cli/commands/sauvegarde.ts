import { userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { QuotientError } from '../../domain/errors.ts';
import { fichierCleSessions } from '../../http/session-chiffrement.ts';
import { loadConfig, type AppConfig } from '../../infra/config/config.ts';
import { openDatabase } from '../../infra/db/database.ts';
import { chargerCle } from '../../infra/secrets/cle-fichier.ts';
import { keyringFileOf } from '../../infra/silo/keyring.ts';
import { auditFilesFor, JournalAudit } from '../../modules/audit/index.ts';
import { restaurer, sauvegarder, type Installation } from '../../modules/sauvegarde/sauvegarde-service.ts';
import { EXIT, parseCommandArgs, type CliCommand, type CliIo } from '../io.ts';
import { describeDatabase, SOFTWARE_VERSION } from '../runtime.ts';

const CLE = [
  'La clé de sauvegarde (32 octets aléatoires en base64, « openssl rand -base64 32 ») est lue dans le',
  'fichier que nomme --cle ou QUOTIENT_BACKUP_KEY_FILE. Gardez-en une copie hors de la machine :',
  'sans elle, aucune archive ne peut être relue.',
];

const USAGE_BACKUP = [
  'quotient backup (--sortie FICHIER | --dossier DOSSIER) [--cle FICHIER] [--json]',
  '',
  'Sauvegarde chiffrée (AES-256-GCM) de la base (SQLite : copie à chaud ; PostgreSQL : pg_dump), des',
  'clés du coffre, de la clé et de l’ancre du journal d’audit et de la clé des sessions, avec un',
  'manifeste (versions, date, empreintes SHA-256).',
  '',
  '  --sortie FICHIER   l’archive à écrire (jamais par-dessus un fichier existant)',
  '  --dossier DOSSIER  écrit quotient-AAAAMMJJ-HHMMSS.qsauv dans ce dossier',
  '  --cle FICHIER      la clé de sauvegarde (sinon QUOTIENT_BACKUP_KEY_FILE)',
  '  --json             un objet JSON sur la sortie standard',
  '',
  ...CLE,
  '',
  'Codes de sortie : 0 sauvegarde écrite, 1 échec, 2 mauvaise utilisation.',
].join('\n');

const USAGE_RESTORE = [
  'quotient restore --archive FICHIER [--cle FICHIER] [--json]',
  '',
  'Restaure une archive de « quotient backup » dans une installation neuve : la base désignée par',
  'QUOTIENT_DATABASE_URL doit être vide (PostgreSQL : base créée, sans table) et les fichiers de clés',
  'et d’ancre ne doivent pas exister (ou avoir le même contenu). L’archive entière est vérifiée',
  '(authentification, puis empreinte de chaque fichier) avant toute écriture : une archive modifiée',
  'est refusée. Lancez ensuite « quotient audit verify ».',
  '',
  '  --archive FICHIER  l’archive à restaurer',
  '  --cle FICHIER      la clé de sauvegarde (sinon QUOTIENT_BACKUP_KEY_FILE)',
  '  --json             un objet JSON sur la sortie standard',
  '',
  ...CLE,
  '',
  'Codes de sortie : 0 restauré, 1 échec (archive refusée, base non vide…), 2 mauvaise utilisation.',
].join('\n');

function contexte(io: CliIo, cleOption: string | undefined): { config: AppConfig; installation: Installation; cle: Buffer } {
  const mode = io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production';
  const config = loadConfig(io.env, { mode, cwd: io.cwd });
  const cheminCle = cleOption ?? io.env.QUOTIENT_BACKUP_KEY_FILE;
  if (cheminCle === undefined) {
    throw new QuotientError('invalid', 'cle_sauvegarde_absente', 'Indiquez la clé de sauvegarde avec --cle FICHIER ou QUOTIENT_BACKUP_KEY_FILE.');
  }
  const cle = chargerCle({ fichier: at(io, cheminCle), creer: false, usage: 'de sauvegarde', variable: 'QUOTIENT_BACKUP_KEY_FILE' });
  const audit = auditFilesFor(config);
  return {
    config,
    cle,
    installation: {
      databaseUrl: config.databaseUrl,
      version: SOFTWARE_VERSION,
      fichiers: { coffre: keyringFileOf(config).path, cleJournal: audit.keyFile, ancre: audit.anchorFile, cleSessions: fichierCleSessions(config).fichier },
    },
  };
}

const at = (io: CliIo, path: string) => (isAbsolute(path) ? path : resolve(io.cwd, path));

/** The operation goes into the journal of the database it concerns, as the shell's account. */
async function journaliser(config: AppConfig, action: string, details: Record<string, string | number>): Promise<void> {
  const database = openDatabase(config.databaseUrl);
  try {
    const journal = await JournalAudit.open({ db: database.db, dialect: database.dialect, files: auditFilesFor(config) });
    await journal.append({ actor: { type: 'systeme', id: `cli:${userInfo().username}` }, action, outcome: 'succes', details });
  } finally {
    await database.close();
  }
}

const horodatage = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export const backupCommand: CliCommand = {
  summary: 'Sauvegarde chiffrée de la base, des clés et de l’ancre du journal : quotient backup --dossier DOSSIER.',
  usage: USAGE_BACKUP,
  async run(argv, io) {
    const { values } = parseCommandArgs({
      args: argv,
      options: { sortie: { type: 'string' }, dossier: { type: 'string' }, cle: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if ((values.sortie === undefined) === (values.dossier === undefined)) {
      io.err('Indiquez où écrire l’archive : --sortie FICHIER ou --dossier DOSSIER (l’un des deux).');
      return EXIT.usage;
    }
    const { config, installation, cle } = contexte(io, values.cle);
    const now = new Date();
    const destination = values.sortie !== undefined ? at(io, values.sortie) : join(at(io, values.dossier as string), `quotient-${horodatage(now)}.qsauv`);
    const { manifeste } = await sauvegarder(installation, cle, destination, () => now);
    await journaliser(config, 'sauvegarde.creee', { dialecte: manifeste.dialecte, sequence: manifeste.journal.sequence, fichiers: manifeste.fichiers.length });
    if (values.json) {
      io.out(JSON.stringify({ archive: destination, manifeste }));
    } else {
      io.out(
        [
          `Sauvegarde écrite : ${destination}`,
          `Base ${describeDatabase(config.databaseUrl)}, journal d’audit jusqu’à la séquence n° ${manifeste.journal.sequence}.`,
          `${manifeste.fichiers.length} fichier(s) : ${manifeste.fichiers.map((f) => f.nom).join(', ')}.`,
        ].join('\n'),
      );
    }
    return EXIT.ok;
  },
};

export const restoreCommand: CliCommand = {
  summary: 'Restaure une sauvegarde dans une installation neuve : quotient restore --archive FICHIER.',
  usage: USAGE_RESTORE,
  async run(argv, io) {
    const { values } = parseCommandArgs({
      args: argv,
      options: { archive: { type: 'string' }, cle: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (values.archive === undefined) {
      io.err('Indiquez l’archive à restaurer : --archive FICHIER.');
      return EXIT.usage;
    }
    const { config, installation, cle } = contexte(io, values.cle);
    const rapport = await restaurer(installation, cle, at(io, values.archive), config.dataDir);
    await journaliser(config, 'sauvegarde.restauree', { dialecte: rapport.manifeste.dialecte, sequence: rapport.manifeste.journal.sequence });
    if (values.json) {
      io.out(JSON.stringify({ restauree: true, manifeste: rapport.manifeste, dejaPresents: rapport.dejaPresents }));
    } else {
      io.out(
        [
          `Sauvegarde du ${rapport.manifeste.creeeLe} (Quotient ${rapport.manifeste.logiciel.version}) restaurée dans ${describeDatabase(config.databaseUrl)}.`,
          `Journal d’audit jusqu’à la séquence n° ${rapport.manifeste.journal.sequence}. Vérifiez-le : quotient audit verify.`,
        ].join('\n'),
      );
    }
    return EXIT.ok;
  },
};
