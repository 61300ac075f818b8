const format = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Today's date in France (`AAAA-MM-JJ`): the DGFiP's calendar decides which years exist. */
export function parisDate(ms: number): string {
  return format.format(new Date(ms));
}
