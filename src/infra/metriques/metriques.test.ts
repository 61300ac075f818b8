import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../log/logger.ts';
import { UpstreamHttp } from '../../sources/http/upstream-http.ts';
import { Metriques } from './metriques.ts';

test('upstream calls are counted by outcome, retries included; alerts by code', async () => {
  const statuses = [200, 503, 200, 404, 429];
  const server = createServer((_req, res) => {
    res.writeHead(statuses.shift() ?? 200, { 'retry-after': '0' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const metriques = new Metriques({ processus: false });
  const http = new UpstreamHttp({
    tls: {},
    logger: createLogger({ level: 'silent' }),
    baseBackoffMs: 1,
    maxAttempts: 2,
    deadlineMs: 5_000,
    onAppel: (issue) => metriques.appelAmont('dgfip', issue),
  });
  try {
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/impotparticulier/1.0/situations`);
    // 200; 503 then 200 (retried); 404; 429 then 200 (retried).
    for (let i = 0; i < 3; i++) await http.send({ method: 'GET', url, loggedPath: url.pathname });
    await http.send({ method: 'GET', url, loggedPath: url.pathname }).catch(() => undefined);
    metriques.alerteLevee('journal.rompu', 'critique');
    metriques.alerteLevee('3141592653423', 'critique');
    const { texte } = await metriques.exposer();
    assert.match(texte, /quotient_appels_amont_total\{source="dgfip",issue="succes"\} 3\n/);
    assert.match(texte, /quotient_appels_amont_total\{source="dgfip",issue="erreur_serveur"\} 1\n/);
    assert.match(texte, /quotient_appels_amont_total\{source="dgfip",issue="refus"\} 1\n/);
    assert.match(texte, /quotient_appels_amont_total\{source="dgfip",issue="quota_depasse"\} 1\n/);
    assert.match(texte, /quotient_alertes_levees_total\{code="journal.rompu",gravite="critique"\} 1\n/);
    // A label value outside the closed sets never carries a number through.
    assert.match(texte, /code="autre"/);
    assert.equal(texte.includes('3141592653423'), false);
  } finally {
    await http.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
