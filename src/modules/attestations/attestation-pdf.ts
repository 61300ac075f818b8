import type { FastifyReply } from 'fastify';
import type { Attestation, AttestationHorsVigueur } from '../../domain/attestation.ts';
import { QuotientError } from '../../domain/errors.ts';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { formatEuros } from '../../domain/money.ts';
import { LIBELLES_UNITES } from '../../domain/politique-tarifaire.ts';
import { texteWinAnsi as t } from './texte-pdf.ts';

/*
 * The attestation as a PDF, written here with pdfkit: A4, real text (tagged, in French, with its
 * title), the QR code an image beside the short code. Everything it says comes from the
 * `Attestation` the HTML page shows too: no RFR, no numéro fiscal.
 */

const A4 = { largeur: 595.28, hauteur: 841.89 };
const MARGE = 56;
const LARGEUR = A4.largeur - 2 * MARGE;
const QR_TAILLE = 118;
const GRIS = '#444444';

// pdfkit and qrcode take about half a second to load: only the attestation pages pay for them,
// not every start of the server.
const qrcode = async () => (await import('qrcode')).default;
const pdfkit = async () => (await import('pdfkit')).default;

/** The QR code of a URL as a PNG (black on white, with its quiet zone), for the PDF. */
export async function qrCodePng(url: string): Promise<Buffer> {
  return (await qrcode()).toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 8 });
}

/** The QR code of a URL as an SVG data URI, for the HTML page (sharp when printed). */
export async function qrCodeSvg(url: string): Promise<string> {
  const svg = await (await qrcode()).toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

/** The QR code image of a valid attestation for its page; none for one out of force. */
export function qrCodeDe(a: Attestation | AttestationHorsVigueur): Promise<string | null> {
  return a.statut === 'valable' ? qrCodeSvg(a.urlVerification) : Promise.resolve(null);
}

export const titreAttestation = (a: Pick<Attestation, 'commune'>) => `Attestation de quotient familial – ${a.commune}`;
const periode = (p: string) => (p === 'annuelle' ? 'par an' : 'par mois');
const du = (a: Pick<Attestation, 'validite'>) => `du ${formatDateFrancaise(a.validite.du)} au ${formatDateFrancaise(a.validite.au)}`;

/** The name the file is saved under: the family reference and the code, nothing personal. */
export const nomFichierPdf = (a: Pick<Attestation, 'familleReference' | 'code'>) => `attestation-quotient-${a.familleReference}-${a.code}.pdf`;

export async function attestationPdf(a: Attestation): Promise<Buffer> {
  const [qr, PDFDocument] = await Promise.all([qrCodePng(a.urlVerification), pdfkit()]);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGE, bottom: MARGE, left: MARGE, right: MARGE },
    pdfVersion: '1.7',
    tagged: true,
    lang: 'fr-FR',
    displayTitle: true,
    info: {
      Title: titreAttestation(a),
      Author: a.commune,
      Subject: `Quotient familial de la famille ${a.familleReference}, valable ${du(a)}`,
      Keywords: 'quotient familial, attestation, vérification',
      Creator: 'Quotient',
    },
  });
  const morceaux: Buffer[] = [];
  doc.on('data', (m: Buffer) => morceaux.push(m));
  const fin = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(morceaux)));
    doc.on('error', reject);
  });

  const racine = doc.struct('Document');
  doc.addStructure(racine);
  const texte = (s: string, options: PDFKit.Mixins.TextOptions = {}, type = 'P') => doc.text(t(s), { ...options, structParent: racine, structType: type });

  // Who attests, then the title.
  doc.font('Helvetica-Bold').fontSize(11).fillColor(GRIS);
  texte(a.commune.toUpperCase(), { characterSpacing: 0.5 });
  doc.font('Helvetica').fontSize(9);
  texte('Quotient familial');
  doc.moveDown(1.2);
  doc.font('Helvetica-Bold').fontSize(20).fillColor('black');
  texte('Attestation de quotient familial', {}, 'H1');
  doc.moveDown(0.4);
  doc.font('Helvetica').fontSize(11);
  texte(`${a.commune} atteste que le quotient familial de la famille ci-dessous, établi pour le calcul des tarifs municipaux, est le suivant.`);
  doc.moveDown(0.8);

  // The facts, label and value side by side.
  const faits: Array<[string, string]> = [
    ['Famille', `référence ${a.familleReference}`],
    [a.titulaires.length > 1 ? 'Titulaires' : 'Titulaire', a.titulaires.join(' et ') || '—'],
    ['Quotient familial', `${formatEuros(a.quotient.cents)} ${periode(a.quotient.periode)}`],
    ['Période de validité', du(a)],
    ['Source', a.source],
    ['Demande', a.demandeReference],
    ['Établie le', formatDateFrancaise(a.etablieLe)],
  ];
  const colonne = 150;
  for (const [libelle, valeur] of faits) {
    const y = doc.y;
    doc.font('Helvetica-Bold').fontSize(11);
    texte(libelle, { width: colonne - 10 });
    const apresLibelle = doc.y;
    doc.font('Helvetica').fontSize(libelle === 'Quotient familial' ? 14 : 11);
    doc.text(t(valeur), MARGE + colonne, y, { width: LARGEUR - colonne, structParent: racine, structType: 'P' });
    doc.x = MARGE;
    doc.y = Math.max(doc.y, apresLibelle) + 4;
  }
  doc.moveDown(0.6);

  // The tranche and price of each activity.
  doc.font('Helvetica-Bold').fontSize(13);
  texte('Tranche et prix des activités', {}, 'H2');
  doc.moveDown(0.3);
  doc.font('Helvetica').fontSize(10);
  const entete = (s: string) => ({ text: t(s), type: 'TH' as const, font: { src: 'Helvetica-Bold' } });
  doc.table({
    structParent: racine,
    columnStyles: [LARGEUR * 0.46, LARGEUR * 0.24, LARGEUR * 0.3],
    defaultStyle: { border: 0.5, borderColor: '#999999', padding: 4 },
    data: [
      [entete('Activité'), entete('Tranche'), entete('Prix')],
      ...a.lignes.map((l) => [t(l.prix.libelle), t(l.tranche), t(`${formatEuros(l.prix.cents)} par ${LIBELLES_UNITES[l.prix.unite]}`)]),
    ],
  } as PDFKit.Mixins.TableOptionsWithData);
  doc.moveDown(1.2);

  // How to check it: the short code, the address, the QR code beside them.
  if (doc.y + QR_TAILLE + 20 > A4.hauteur - MARGE - 40) doc.addPage();
  const haut = doc.y;
  doc
    .save()
    .roundedRect(MARGE, haut, LARGEUR, QR_TAILLE + 24, 6)
    .lineWidth(0.8)
    .stroke('#777777')
    .restore();
  const texteLargeur = LARGEUR - QR_TAILLE - 36;
  doc.x = MARGE + 12;
  doc.y = haut + 12;
  doc.font('Helvetica-Bold').fontSize(13).fillColor('black');
  texte('Vérifier cette attestation', { width: texteLargeur }, 'H2');
  doc.moveDown(0.3);
  doc.font('Helvetica').fontSize(10);
  texte('Code de vérification :', { width: texteLargeur });
  doc.font('Courier-Bold').fontSize(16);
  texte(a.code, { width: texteLargeur, characterSpacing: 1 });
  doc.moveDown(0.3);
  doc.font('Helvetica').fontSize(9.5);
  texte(
    `Saisissez ce code sur ${a.urlVerifier}, ou scannez le QR code : la page dit si l’attestation est valable, remplacée ou expirée, avec la tranche et la période de validité, sans autre donnée.`,
    { width: texteLargeur },
  );
  racine.add(
    doc.struct('Figure', { alt: `QR code : adresse de vérification ${a.urlVerification}` }, () => {
      doc.image(qr, MARGE + LARGEUR - QR_TAILLE - 12, haut + 12, { width: QR_TAILLE, height: QR_TAILLE });
    }),
  );
  doc.x = MARGE;
  doc.y = Math.max(doc.y, haut + QR_TAILLE + 24) + 14;

  // What it does not say, and whom to ask.
  doc.font('Helvetica').fontSize(9).fillColor(GRIS);
  texte(
    'Cette attestation n’indique ni le revenu fiscal de référence ni le numéro fiscal. Elle vaut pour la période indiquée, tant qu’un quotient plus récent ne l’a pas remplacée.',
  );
  doc.moveDown(0.3);
  const contact = [a.contact.service, a.contact.email, a.contact.telephone].filter((x): x is string => Boolean(x)).join(' – ');
  texte(`Pour toute question : ${contact}.`);

  racine.end();
  doc.end();
  return fin;
}

/** The attestation to print, or why there is none: a QF whose period is over or that was replaced gets no new copy. */
export function exigerEnVigueur(a: Attestation | AttestationHorsVigueur): Attestation {
  if (a.statut === 'valable') return a;
  throw new QuotientError(
    'conflict',
    'attestation_hors_vigueur',
    a.statut === 'remplacee'
      ? `Le quotient de la demande ${a.demandeReference} a été remplacé par un quotient plus récent : son attestation n’est plus valable.`
      : `Le quotient de la demande ${a.demandeReference} était valable jusqu’au ${formatDateFrancaise(a.validite.au)} : il n’a plus d’attestation.`,
  );
}

/** Sends the attestation as a PDF to save (its name says which family and code, nothing more). */
export async function envoyerPdf(reply: FastifyReply, a: Attestation): Promise<FastifyReply> {
  const pdf = await attestationPdf(a);
  return reply
    .type('application/pdf')
    .header('content-disposition', `attachment; filename="${nomFichierPdf(a)}"`)
    .send(pdf);
}
