import { formatDateCourte, isIsoDate } from '../../domain/dates.ts';
import type { ExportFamille } from './familles-service.ts';

const euros = (n: unknown) =>
  typeof n === 'number' ? `${new Intl.NumberFormat('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n)} €` : '—';
const date = (iso: unknown) => (typeof iso === 'string' && isIsoDate(iso.slice(0, 10)) ? formatDateCourte(iso.slice(0, 10)) : '—');

/** The same export as the JSON one, for a person: plain French, one section per kind of data. */
export function exportEnTexte(e: ExportFamille): string {
  const lines: string[] = [];
  lines.push('Vos données détenues par le service du quotient familial', `Export du ${date(e.exporteLe)}`, '');
  lines.push(`Foyer ${String(e.famille.reference)} — ${e.famille.resident ? 'résidant dans la commune' : 'hors commune'}`);
  if (e.famille.courriel) lines.push(`Courriel : ${String(e.famille.courriel)}`);
  lines.push('', 'Parents déclarés');
  for (const p of e.parents) {
    lines.push(
      `- ${String(p.prenoms)} ${String(p.nomNaissance)}${p.nomUsage ? ` (nom d’usage ${String(p.nomUsage)})` : ''}${p.dateNaissance ? `, né(e) le ${date(p.dateNaissance)}` : ''}${p.auFoyer === false ? ', vit ailleurs' : ''}`,
    );
  }
  if (e.enfants.length > 0) {
    lines.push('', 'Enfants');
    for (const c of e.enfants)
      lines.push(
        `- ${String(c.prenoms)} ${String(c.nom)}${c.dateNaissance ? `, né(e) le ${date(c.dateNaissance)}` : ''}${c.residence === 'alternee' ? ', en résidence alternée' : ''}`,
      );
  }
  lines.push('', 'Demandes');
  if (e.demandes.length === 0) lines.push('- aucune');
  for (const d of e.demandes) {
    lines.push(
      `- ${String(d.reference)} du ${date(d.creeeLe)}, ${String(d.canal)} : ${String(d.statut).toLowerCase()}${d.motif ? ` (${String(d.motif)})` : ''}`,
    );
    for (const x of (d.decisions as Array<Record<string, unknown>>) ?? []) lines.push(`  décision du ${date(x.decideeLe)} : ${String(x.decision)}`);
    for (const c of (d.consentements as Array<Record<string, unknown>>) ?? []) {
      lines.push(
        `  accord du parent ${String(c.parent)} le ${date(c.recueilliLe)} (${String(c.mode)}, texte ${String(c.versionTexte)}) pour : ${(c.donnees as string[]).join(', ')}${c.retireLe ? ` — retiré le ${date(c.retireLe)}` : ''}`,
      );
    }
  }
  if (e.consentementsRenouvellement.length > 0) {
    lines.push('', 'Accords de renouvellement (la commune redemande l’avis chaque année, par état civil)');
    for (const r of e.consentementsRenouvellement) {
      const ec = r.etatCivilConserve as Record<string, unknown> | null;
      lines.push(
        `- parent ${String(r.parent)}, donné le ${date(r.recueilliLe)} (${String(r.mode)}, texte ${String(r.versionTexte)}), jusqu’au ${date(r.expireLe)} au plus${r.retireLe ? ` — terminé le ${date(r.retireLe)}` : ''}`,
        `  état civil conservé : ${ec ? `${String(ec.prenoms)} ${String(ec.nom)}${ec.dateNaissance ? `, né(e) le ${date(ec.dateNaissance)}` : ''}${ec.sexe ? `, sexe ${String(ec.sexe)}` : ''}${ec.naisCodePays ? `, lieu de naissance (code INSEE) ${ec.naisCodePays === '99100' ? `${String(ec.naisCodeDept ?? '')}${String(ec.naisCodeCommune ?? '')}` : String(ec.naisCodePays)}` : ''}` : 'aucun'}`,
      );
    }
  }
  lines.push('', 'Quotients familiaux');
  if (e.quotients.length === 0) lines.push('- aucun');
  for (const q of e.quotients)
    lines.push(
      `- ${euros(q.valeurEuros)} ${String(q.periode)}, valable du ${date(q.validiteDu)} au ${date(q.validiteAu)}, ${String(q.origine)} (${String(q.politique)})`,
    );
  lines.push('', 'Données fiscales reçues de la DGFiP');
  if (e.situationsFiscales.length === 0) lines.push('- aucune');
  for (const s of e.situationsFiscales) {
    lines.push(
      `- avis des revenus ${String(s.anneeDesRevenus)} (demande ${String(s.demande)}, ${String(s.source)}) : revenu fiscal de référence ${euros(s.revenuFiscalDeReference)}, ${String(s.nombreDeParts).replace('.', ',')} part(s), ${String(s.personnesACharge)} personne(s) à charge, situation de famille : ${String(s.situationDeFamille)}`,
    );
  }
  if (e.contestations.length > 0) {
    lines.push('', 'Contestations');
    for (const c of e.contestations)
      lines.push(`- du ${date(c.ouverteLe)} : ${String(c.motif)} — ${String(c.statut)}${c.reponse ? ` : ${String(c.reponse)}` : ''}`);
  }
  lines.push('', 'Vous pouvez demander la rectification de ces données ou contester un calcul auprès du service famille.');
  return `${lines.join('\n')}\n`;
}
