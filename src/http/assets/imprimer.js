/* global document, window */
// The « Imprimer » buttons: hidden in the page as sent, shown here with what they do. Without
// JavaScript they stay hidden, and the browser's own Print command prints the same page.
for (const bouton of document.querySelectorAll('[data-imprimer]')) {
  bouton.hidden = false;
  bouton.addEventListener('click', () => window.print());
}
