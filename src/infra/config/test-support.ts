/**
 * Test support: the YAML alias bomb an attack session sent to the policy upload. Sixty anchors
 * `&a`, each a list of thirty aliases to the previous one: 6 KB of text for 30^60 nodes once
 * expanded; with aliases resolved, reading it held the event loop for minutes.
 */
export function bombeYaml(): string {
  const lignes = ['x0: &a [x, x]'];
  for (let i = 1; i <= 60; i++) lignes.push(`x${i}: &a [${Array(30).fill('*a').join(',')}]`);
  return `${lignes.join('\n')}\n`;
}
