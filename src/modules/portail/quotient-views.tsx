import { formatDateFrancaise } from '../../domain/dates.ts';
import { STATUTS, type StatutDemande } from '../../domain/demande.ts';
import { formatEuros } from '../../domain/money.ts';
import { LIBELLES_ETAT_QUOTIENT } from '../../domain/quotient-en-vigueur.ts';
import { CarteQuotient, TableauPrix, lignesParTranche } from '../../http/ui/prix.tsx';
import type { ContestationFamille, HistoriqueDemande, QuotientFamille } from '../familles/familles-service.ts';

/**
 * The family's QF in force and its history: one QF in force per day, the others below it, each
 * said for what it is (replaced, expired, to come; calculated from the avis or set by an agent).
 */

const date = (iso: string | null | undefined) => (iso ? formatDateFrancaise(iso.slice(0, 10)) : '—');
const parPeriode = (periode: string) => (periode === 'annuelle' ? 'par an' : 'par mois');

/** What a request's row says it is: an agent's QF is « fixé », not « calculé ». */
export function etatDeLaDemande(d: Pick<HistoriqueDemande, 'statut' | 'quotient'>): string {
  if (d.quotient?.origine === 'manuel') return 'Quotient fixé par un agent';
  if (d.quotient?.origine === 'instructeur') return 'Quotient calculé, vérifié par un agent';
  return STATUTS[d.statut as StatutDemande]?.libelle ?? d.statut;
}

/** The QF in force: value, validity, where it comes from, the prices by tranche; never the RFR. */
export function QuotientEnVigueur({ q, titre = 'h2', aVenir = false }: { q: QuotientFamille; titre?: 'h2' | 'h3'; aVenir?: boolean }) {
  const Titre = titre;
  // A QF that takes effect later (the first day of next month, of the school year) is the family's next one.
  const libelle = aVenir ? `Quotient familial à partir du ${date(q.valideDu)}` : 'Quotient familial en vigueur';
  return (
    <section aria-labelledby="qf-en-vigueur" class="qf-en-vigueur">
      <Titre id="qf-en-vigueur">{aVenir ? 'Votre prochain quotient familial' : 'Votre quotient familial en vigueur'}</Titre>
      <CarteQuotient libelle={libelle} cents={q.cents} periode={q.periode}>
        Valable du {date(q.valideDu)} au {date(q.valideAu)}.
      </CarteQuotient>
      <dl class="facts">
        <dt>Origine</dt>
        <dd>{q.source}</dd>
        <dt>Demande</dt>
        <dd>
          <a href={`/mon-quotient/demandes/${q.demandeId}`}>{q.reference}</a>
        </dd>
      </dl>
      <TableauPrix caption="Vos prix et vos tranches" lignes={lignesParTranche(q.prix)} />
      <p class="no-print">
        <a class="button button--secondary" href={`/mon-quotient/demandes/${q.demandeId}/attestation`}>
          Attestation à imprimer
        </a>
      </p>
    </section>
  );
}

const ETATS_CONTESTATION: Record<string, string> = { ouverte: 'En cours d’examen' };

export function HistoriquePage({
  demandes,
  contestations,
  enVigueur,
}: {
  demandes: readonly HistoriqueDemande[];
  contestations: readonly ContestationFamille[];
  enVigueur?: QuotientFamille | undefined;
}) {
  return (
    <>
      <h1>Mes demandes</h1>
      {enVigueur ? (
        <QuotientEnVigueur q={enVigueur} />
      ) : demandes.length > 0 ? (
        <p class="lead">Vous n’avez pas de quotient familial en vigueur aujourd’hui.</p>
      ) : null}
      {demandes.length === 0 ? (
        <p>
          Aucune demande pour le moment. <a href="/mon-quotient">Calculer mon quotient familial</a>
        </p>
      ) : (
        <>
          <h2>Historique de mes demandes</h2>
          {/* Stacked into one block per request on a phone: no column pushed off-screen. */}
          <table class="table-empilee">
            <caption>Demandes de quotient familial, de la plus récente à la plus ancienne</caption>
            <thead>
              <tr>
                <th scope="col">Référence</th>
                <th scope="col">Date</th>
                <th scope="col">État</th>
                <th scope="col">Quotient familial</th>
              </tr>
            </thead>
            <tbody>
              {demandes.map((d) => (
                <tr key={d.id} class={d.quotient?.etat === 'en_vigueur' ? 'en-vigueur' : undefined}>
                  <th scope="row" data-label="Référence">
                    <a href={`/mon-quotient/demandes/${d.id}`}>{d.reference}</a>
                  </th>
                  <td data-label="Date">{date(d.creeeLe)}</td>
                  <td data-label="État">
                    {etatDeLaDemande(d)}
                    {d.consentementRetire ? ' (accord retiré)' : ''}
                  </td>
                  <td data-label="Quotient familial">
                    {d.quotient ? (
                      <>
                        <strong class={`etat-qf etat-qf--${d.quotient.etat}`}>{LIBELLES_ETAT_QUOTIENT[d.quotient.etat]}</strong>{' '}
                        {`${formatEuros(d.quotient.cents)} ${parPeriode(d.quotient.periode)}, du ${date(d.quotient.valideDu)} au ${date(d.quotient.valideAu)}`}
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {contestations.length > 0 ? (
        <>
          <h2>Mes signalements</h2>
          <ul>
            {contestations.map((c) => (
              <li key={c.id}>
                <p>
                  <strong>{c.demande ? `Demande ${c.demande}` : 'Signalement'}</strong>, envoyé le {date(c.ouverteLe)} :{' '}
                  {ETATS_CONTESTATION[c.statut] ?? `traité le ${date(c.traiteeLe)}`}.
                </p>
                {/* The family's own words, line breaks kept, long words wrapped on a phone. */}
                <p class="export-texte">Votre message : {c.motif}</p>
                {c.reponse ? <p class="export-texte">Réponse de la mairie : {c.reponse}</p> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <p>
        <a href="/mon-quotient">Nouvelle demande</a> · <a href="/mes-donnees">Mes données et mes droits</a>
      </p>
    </>
  );
}
