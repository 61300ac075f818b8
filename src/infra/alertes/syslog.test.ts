import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createForeignServerCertificate } from '../../sandbox/pki.ts';
import { creerAlerte, type Alerte } from './alerte.ts';
import type { Emetteur } from './canal.ts';
import { canalSyslog, echapperValeurSd, encadrer, formaterSyslog, MAX_UDP_OCTETS } from './syslog.ts';
import { analyserSyslog, demarrerRecepteurSyslog } from './test-support.ts';

const emetteur: Emetteur = { commune: 'Ville de Démonstration', codeInsee: '99999', hote: 'quotient-1.ville.fr' };
const alerte = creerAlerte({
  code: 'journal.chaine_rompue',
  gravite: 'critique',
  titre: 'Journal d’audit altéré',
  message: 'La chaîne du journal est rompue à la séquence 42 : les opérations fiscales sont suspendues.',
  details: { sequence: 42, raison: 'empreinte "différente" [x] \\ fin', acquittee: false, vide: null },
  survenueLe: new Date('2026-03-04T05:06:07.089Z'),
});

test('an RFC 5424 message: PRI from facility and gravité, version 1, timestamp, APP-NAME, structured data, BOM and UTF-8 text', () => {
  const parsed = analyserSyslog(formaterSyslog(alerte, { facility: 'auth', emetteur, procId: '1234' }));
  assert.equal(parsed.pri, 4 * 8 + 2);
  assert.equal(parsed.version, 1);
  assert.equal(parsed.timestamp, '2026-03-04T05:06:07.089Z');
  assert.equal(parsed.hostname, 'quotient-1.ville.fr');
  assert.equal(parsed.appName, 'quotient');
  assert.equal(parsed.procId, '1234');
  assert.equal(parsed.msgId, 'alerte');
  assert.deepEqual(parsed.sd, [
    {
      id: 'quotient@32473',
      params: { id: alerte.id, code: 'journal.chaine_rompue', gravite: 'critique', commune: 'Ville de Démonstration', codeInsee: '99999' },
    },
    { id: 'details@32473', params: { sequence: '42', raison: 'empreinte "différente" [x] \\ fin', acquittee: 'false', vide: '' } },
  ]);
  assert.equal(parsed.bom, true);
  assert.equal(parsed.msg, `Journal d’audit altéré : ${alerte.message}`);

  const severities = (['info', 'avertissement', 'critique'] as const).map(
    (gravite) => analyserSyslog(formaterSyslog({ ...alerte, gravite }, { facility: 'local0', emetteur })).pri,
  );
  assert.deepEqual(severities, [16 * 8 + 6, 16 * 8 + 4, 16 * 8 + 2]);
  // A hostname with spaces or accents would break the header: it is cleaned, or the NILVALUE.
  assert.equal(analyserSyslog(formaterSyslog(alerte, { facility: 'auth', emetteur: { ...emetteur, hote: 'mairie été' } })).hostname, 'mairiet');
  assert.equal(analyserSyslog(formaterSyslog(alerte, { facility: 'auth', emetteur: { ...emetteur, hote: 'é' } })).hostname, '-');
  const noDetails = analyserSyslog(formaterSyslog({ ...alerte, details: {} }, { facility: 'auth', emetteur }));
  assert.deepEqual(
    noDetails.sd.map((e) => e.id),
    ['quotient@32473'],
  );
});

test('property: any structured-data value, with ], " and \\ among others, reads back as it was', () => {
  const value = fc.string({ unit: fc.constantFrom(']', '"', '\\', '[', '=', ' ', 'a', 'é', '€', '日', '😀', '\\"', '\\]') });
  fc.assert(
    fc.property(value, value, (raison, commune) => {
      const frame = formaterSyslog({ ...alerte, details: { raison } }, { facility: 'auth', emetteur: { ...emetteur, commune } });
      const parsed = analyserSyslog(frame);
      assert.equal(parsed.sd[1]?.params.raison, raison);
      assert.equal(parsed.sd[0]?.params.commune, commune);
      // Each escape is a backslash before one of the three characters, and nothing else is touched.
      assert.equal(echapperValeurSd(raison).replace(/\\(["\\\]])/g, '$1'), raison);
    }),
    { numRuns: 300 },
  );
});

test('property: the octet-counting frame gives the exact length in bytes, whatever the text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (titre) => {
      const message = formaterSyslog({ ...alerte, titre: titre || 'x' }, { facility: 'auth', emetteur });
      const framed = encadrer(message);
      const space = framed.indexOf(0x20);
      assert.equal(Number(framed.subarray(0, space).toString('ascii')), message.length);
      assert.deepEqual(framed.subarray(space + 1), message);
    }),
    { numRuns: 200 },
  );
});

test('over UDP a long alert stays within 2048 octets: the details go first, then the end of the text, never half a character', () => {
  const long: Alerte = { ...alerte, message: 'é'.repeat(1500), details: { a: 'x'.repeat(500), b: 'y'.repeat(500) } };
  const frame = formaterSyslog(long, { facility: 'auth', emetteur, maxOctets: MAX_UDP_OCTETS });
  assert.ok(frame.length <= MAX_UDP_OCTETS, String(frame.length));
  const parsed = analyserSyslog(frame);
  assert.deepEqual(
    parsed.sd.map((e) => e.id),
    ['quotient@32473'],
  );
  assert.match(parsed.msg, /^Journal d’audit altéré : é+$/);
  const shortDetails = analyserSyslog(formaterSyslog({ ...long, message: 'court' }, { facility: 'auth', emetteur, maxOctets: MAX_UDP_OCTETS }));
  assert.equal(shortDetails.sd.length, 2, 'details are dropped only when needed');
});

for (const transport of ['udp', 'tcp'] as const) {
  test(`over ${transport.toUpperCase()} a loopback collector receives one well-formed message`, async () => {
    const collector = await demarrerRecepteurSyslog(transport);
    try {
      const canal = canalSyslog({ hote: '127.0.0.1', port: collector.port, transport, facility: 'local3', emetteur });
      assert.equal(canal.destination, `127.0.0.1:${collector.port} (${transport})`);
      const compteRendu = await canal.envoyer(alerte, new AbortController().signal);
      assert.match(compteRendu, new RegExp(`transmis à 127\\.0\\.0\\.1:${collector.port}`));
      const [frame] = await collector.inbox.wait(1);
      const parsed = analyserSyslog(frame as Buffer);
      assert.equal(parsed.pri, 19 * 8 + 2);
      assert.equal(parsed.sd[0]?.params.code, 'journal.chaine_rompue');
      assert.equal(parsed.procId, String(process.pid));
    } finally {
      await collector.close();
    }
  });
}

test('over TLS the collector’s certificate is checked: trusted with its CA, refused without', async () => {
  const identity = await createForeignServerCertificate();
  const collector = await demarrerRecepteurSyslog('tls', { cert: identity.certPem, key: identity.keyPem });
  try {
    const trusted = canalSyslog({ hote: 'localhost', port: collector.port, transport: 'tls', facility: 'auth', emetteur, ca: identity.caCertPem });
    assert.match(await trusted.envoyer(alerte, new AbortController().signal), /transmis à localhost:\d+ \(tls\)/);
    const [frame] = await collector.inbox.wait(1);
    assert.equal(analyserSyslog(frame as Buffer).appName, 'quotient');

    const untrusted = canalSyslog({ hote: '127.0.0.1', port: collector.port, transport: 'tls', facility: 'auth', emetteur });
    await assert.rejects(untrusted.envoyer(alerte, new AbortController().signal), { name: 'EchecCanal', message: /certificat TLS refusé/ });
  } finally {
    await collector.close();
  }
});

test('a collector that is down is reported in French, not thrown as a raw error', async () => {
  const collector = await demarrerRecepteurSyslog('tcp');
  const port = collector.port;
  await collector.close();
  const canal = canalSyslog({ hote: '127.0.0.1', port, transport: 'tcp', facility: 'auth', emetteur });
  await assert.rejects(canal.envoyer(alerte, new AbortController().signal), { name: 'EchecCanal', message: 'injoignable (connexion refusée)' });
});
