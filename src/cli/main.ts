import { readFileSync } from 'node:fs';
import { isQuotientError } from '../domain/errors.ts';
import { EXIT, processIo, type CliCommand, type CliIo } from './io.ts';

/** Commands are loaded on demand so that `quotient simulate` does not pay for the web server. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  demo: {
    summary: 'Démonstration complète sur cette machine (base embarquée, bac à sable, comptes de démonstration).',
    load: async () => (await import('./commands/demo.ts')).demoCommand,
  },
  serve: {
    summary: 'Serveur de production, selon la configuration.',
    load: async () => (await import('./commands/serve.ts')).serveCommand,
  },
  dgfip: {
    summary: 'Teste la connexion à la DGFiP : quotient dgfip check --spi NUMERO [--annee ANNEE] [--json].',
    load: async () => (await import('./commands/dgfip.ts')).dgfipCommand,
  },
  audit: {
    summary: 'Vérifie l’intégrité du journal d’audit : quotient audit verify [--json].',
    load: async () => (await import('./commands/audit.ts')).auditCommand,
  },
  alertes: {
    summary: 'Teste le circuit d’alerte (courriel, webhook, syslog) : quotient alertes tester [--json].',
    load: async () => (await import('./commands/alertes.ts')).alertesCommand,
  },
  incident: {
    summary: 'Mesures d’incident : suspendre les appels DGFiP ou les campagnes, maintenance du portail, révocation de sessions (quotient incident etat).',
    load: async () => (await import('./commands/incident.ts')).incidentCommand,
  },
  campagne: {
    summary: 'Campagnes : lister, importer une liste (ou la vérifier), démarrer, mettre en pause, reprendre, annuler, rapport.',
    load: async () => (await import('./commands/campagne.ts')).campagneCommand,
  },
  migration: {
    summary: 'Rapport de migration API Particulier → API Impôt particulier : quotient migration rapport --sortie rapport.csv.',
    load: async () => (await import('./commands/migration.ts')).migrationCommand,
  },
  migrate: {
    summary: 'Applique les migrations de la base de données.',
    load: async () => (await import('./commands/migrate.ts')).migrateCommand,
  },
  backup: {
    summary: 'Sauvegarde chiffrée de la base, des clés et de l’ancre du journal : quotient backup --dossier DOSSIER.',
    load: async () => (await import('./commands/sauvegarde.ts')).backupCommand,
  },
  restore: {
    summary: 'Restaure une sauvegarde dans une installation neuve : quotient restore --archive FICHIER.',
    load: async () => (await import('./commands/sauvegarde.ts')).restoreCommand,
  },
  keys: {
    summary: 'Clés maîtresses du coffre : création, état, rotation (quotient keys init | status | rotate).',
    load: async () => (await import('./commands/keys.ts')).keysCommand,
  },
  purge: {
    summary: 'Applique les durées de conservation : données fiscales, demandes et journal d’audit.',
    load: async () => (await import('./commands/purge.ts')).purgeCommand,
  },
  sandbox: {
    summary: 'Bac à sable DGFiP seul (données fictives), pour les tests d’intégration d’autres logiciels.',
    load: async () => (await import('./commands/sandbox.ts')).sandboxCommand,
  },
  simulate: {
    summary: 'Simule le quotient familial et les prix pour un cas, sans réseau ni base de données.',
    load: async () => (await import('./commands/simulate.ts')).simulateCommand,
  },
};

export function registeredCommands(): string[] {
  return Object.keys(COMMANDS);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Quotient : quotient familial à partir des données fiscales de la DGFiP.',
    '',
    'Usage : quotient <commande> [options]',
    '',
    'Commandes :',
    ...lines,
    '',
    'Options :',
    '  --help, -h     Affiche cette aide (ou celle d’une commande : quotient <commande> --help).',
    '  --version, -v  Affiche la version.',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.out(version());
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.err(`Commande inconnue : « ${name} ». Tapez « quotient --help » pour la liste des commandes.`);
    return EXIT.usage;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${command.summary}\n\nUsage : ${command.usage}`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    // A typed error carries a French message meant for the person; anything else is a bug whose
    // details stay out of the terminal of someone who may paste it in a ticket.
    if (isQuotientError(error)) {
      io.err(`Erreur : ${error.message}`);
      for (const d of error.details) io.err(`  - ${d.path} : ${d.message}`);
      return error.kind === 'invalid' ? EXIT.usage : EXIT.failure;
    }
    io.err('Erreur inattendue : la commande s’est arrêtée. Consultez le journal technique pour le détail.');
    return EXIT.failure;
  }
}
