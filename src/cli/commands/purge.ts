import { composeServices } from '../../app/compose.ts';
import { EXIT, parseCommandArgs, type CliCommand } from '../io.ts';
import { openRuntime } from '../runtime.ts';

export const purgeCommand: CliCommand = {
  summary: 'Applique les durées de conservation : données fiscales, demandes et journal d’audit.',
  usage: [
    'quotient purge',
    '',
    'Retire ce qui a dépassé les durées de la section « conservation » du fichier de la commune :',
    'les données fiscales après la validité du quotient et le délai de contestation, les demandes',
    'anciennes, l’état civil gardé pour un accord de renouvellement retiré ou échu, les avis',
    'd’imposition déposés par les familles au-delà de « avisDepose.conservationJoursMax », puis les entrées',
    'du journal d’audit de plus d’un an (le journal reste vérifiable).',
    'Le serveur le fait aussi chaque jour ; chaque retrait est inscrit au journal.',
  ].join('\n'),
  async run(argv, io) {
    parseCommandArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
    const runtime = openRuntime(io, io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production', { logToStderr: true });
    try {
      // A one-shot purge: no processing loop, nothing in the background.
      const services = await composeServices(runtime, { background: false, onAlert: (a) => io.err(a.message) });
      const rapport = await services.retention.purger({ type: 'systeme', id: 'quotient-purge' }).finally(() => services.stop());
      io.out(
        [
          'Purge terminée :',
          `  données fiscales retirées du coffre : ${rapport.donneesFiscales} demande(s)`,
          `  demandes supprimées                 : ${rapport.demandes}`,
          `  entrées du journal retirées         : ${rapport.journal}`,
          `  sessions et jetons expirés retirés  : ${rapport.sessions}`,
          `  états civils de renouvellement      : ${rapport.etatsCivilsRenouvellement}`,
          `  avis d’imposition déposés détruits  : ${rapport.avisDeposes}`,
        ].join('\n'),
      );
      return EXIT.ok;
    } finally {
      await runtime.database.close();
    }
  },
};
